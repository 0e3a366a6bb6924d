"""`gae-sym sweep`: a grid of CartPole runs on Ray, resumable, summarised with intervals."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

from gae_sym.cli._common import (
    add_json_flag,
    add_parser,
    float_flag,
    int_flag,
    print_json,
    progress_bar,
)
from gae_sym.errors import UserError

VARIANTS = ("batched", "lecture")
SUMMARY_MD, SUMMARY_JSON, META_JSON = "summary.md", "summary.json", "sweep.json"
STEPS_PNG, HEATMAP_PNG, EXPERIMENT_RUNS = "steps-to-solve.png", "heatmap.png", "runs.json"

DESCRIPTION = """\
Train the CartPole actor-critic of 'gae-sym cartpole' over a grid of settings, one Ray task
per run, and summarise what the settings do to learning. The grid is the product of
--variant x --gamma x --lam x --lr x seeds 1..--seeds; every run has the kernel check on every
rollout, single-threaded torch and numba, and stops when solved (100-episode mean return
>= 475) or after --max-env-steps.

Ray: by default ray.init() on this machine, one run per core at a time (--num-cpus to use
fewer); --address auto or HOST:PORT joins a running Ray cluster ('ray start --head' on one
machine, 'ray start --address HOST:PORT' on the others, gae-sym installed on every node), so
a grid of thousands of runs goes to a cluster unchanged.

Writes into DIR:
  runs.jsonl          one JSON line per finished run (config, steps to solve or null, final
                      mean return, learning curve, the check's agree / max_abs_diff, seconds,
                      host), flushed and fsynced: a killed sweep loses only the runs in flight
  summary.md          per (gamma, lambda): solved k/n, median and IQR of steps to solve with a
                      bootstrap 95% CI, mean final return with a bootstrap 95% CI
  summary.json        the same as data (also what --json prints)
  steps-to-solve.png  median steps to solve vs lambda, one line per gamma, CI shaded
  heatmap.png         gamma x lambda, median steps to solve
  sweep.json          how it was run: each session's wall time, sum of run times, Ray's
                      overhead per task, load average

A run that raises is recorded with its error and the sweep goes on. Ctrl-C stops cleanly
(the runs in flight are cancelled) and prints the command that resumes; --resume skips every
run already recorded in DIR/runs.jsonl (--retry-failed also reruns the failed ones).
--experiments runs the runs of 'python -m numeric.cartpole.experiments' (default settings,
learning-rate sweep, the collapse, the bug variants) through the same machinery and also
writes DIR/runs.json in that module's format.

examples:
  gae-sym sweep --lam 0,0.95,1 --gamma 0.99 --seeds 2 --max-env-steps 50000 --out runs/small
  gae-sym sweep --lam 0,0.95,1 --gamma 0.99 --seeds 2 --max-env-steps 50000 --out runs/small \
                --resume      # after a kill or Ctrl-C: runs only what is not recorded
  gae-sym sweep --variant batched --lam 0,0.5,0.8,0.9,0.95,0.97,0.99,1 --gamma 0.95,0.99,1 \\
                --seeds 10 --max-env-steps 300000 --out runs/lam-gamma
  gae-sym sweep --experiments quick --out runs/experiments --json
exit status: 0 every run finished and its check agreed; 1 a run failed or a check disagreed;
2 bad input; 130 interrupted (resume with --resume)"""


def number_list(flag) -> Any:
    """``type=`` for a comma-separated list of numbers, each checked by ``flag``."""

    def parse(text: str) -> list[float]:
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise argparse.ArgumentTypeError(
                f"must be a comma-separated list of {flag.describe()}s, got {text!r}"
            )
        values = [flag(item) for item in items]
        return list(dict.fromkeys(values))  # keep the order, drop repeats

    parse.__name__ = "list"
    return parse


def variant_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if item not in VARIANTS]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated list of {', '.join(VARIANTS)}, got {text!r}"
        )
    return list(dict.fromkeys(items))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "sweep",
        "a lambda x gamma x seed grid of CartPole runs on Ray, resumable",
        DESCRIPTION,
    )
    grid = parser.add_argument_group("the grid (a product of these)")
    grid.add_argument(
        "--variant",
        type=variant_list,
        default=None,
        metavar="V[,V]",
        help="learners: batched, lecture (default batched)",
    )
    grid.add_argument(
        "--lam",
        type=number_list(float_flag(0, 1)),
        default=None,
        metavar="L[,L...]",
        help="GAE lambdas in [0, 1] (default 0.95)",
    )
    grid.add_argument(
        "--gamma",
        type=number_list(float_flag(0, 1)),
        default=None,
        metavar="G[,G...]",
        help="discounts in [0, 1] (default 0.99)",
    )
    grid.add_argument(
        "--lr",
        type=number_list(float_flag(0, 1, min_open=True)),
        default=None,
        metavar="LR[,LR...]",
        help="Adam learning rates in (0, 1] (default 3e-3)",
    )
    grid.add_argument(
        "--seeds",
        type=int_flag(1, 100_000),
        default=None,
        metavar="N",
        help="seeds 1..N for every setting, N from 1 to 100000 (default 1)",
    )
    grid.add_argument(
        "--max-env-steps",
        type=int_flag(128, 10**9),
        default=None,
        metavar="N",
        help="env-step budget of each run, 128 to 10**9 (default 300000); unsolved runs stop there",
    )
    grid.add_argument(
        "--max-seconds",
        type=float_flag(0, None, min_open=True),
        default=None,
        metavar="X",
        help="also a wall-clock budget per run, seconds > 0 (default none: results then do not "
        "depend on how loaded the machine is)",
    )
    grid.add_argument(
        "--experiments",
        choices=("full", "quick"),
        default=None,
        help="instead of a grid: the runs of numeric.cartpole.experiments (quick: one seed each)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--address",
        default=None,
        metavar="auto|HOST:PORT",
        help="join this Ray cluster instead of starting Ray on this machine",
    )
    parser.add_argument(
        "--num-cpus",
        type=int_flag(1, 4096),
        default=None,
        metavar="N",
        help="runs at a time when Ray is started here, 1 to 4096 (default: every core)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip the runs already recorded in DIR/runs.jsonl"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="with --resume: run failed runs again"
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


GRID_DEFAULTS = {
    "variant": ["batched"],
    "lam": [0.95],
    "gamma": [0.99],
    "lr": [3e-3],
    "seeds": 1,
    "max_env_steps": 300_000,
}


def plan(args: argparse.Namespace) -> tuple[list[Any], str]:
    """The runs asked for, and the canonical command line that asks for them."""
    from numeric.sweep import experiments_plan, grid

    common = f" --out {shlex.quote(str(args.out))}"
    if args.address:
        common += f" --address {shlex.quote(args.address)}"
    if args.num_cpus:
        common += f" --num-cpus {args.num_cpus}"
    if args.experiments:
        given = [f"--{f.replace('_', '-')}" for f in (*GRID_DEFAULTS, "max_seconds")]
        given = [flag for flag in given if getattr(args, flag[2:].replace("-", "_")) is not None]
        if given:
            raise UserError(
                f"--experiments runs a fixed plan; it cannot be combined with {', '.join(given)}"
            )
        return experiments_plan(quick=args.experiments == "quick"), (
            f"gae-sym sweep --experiments {args.experiments}{common}"
        )
    for name, default in GRID_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    configs = grid(
        variants=args.variant,
        gammas=args.gamma,
        lams=args.lam,
        lrs=args.lr,
        seeds=range(1, args.seeds + 1),
        max_env_steps=args.max_env_steps,
        max_seconds=args.max_seconds,
    )
    command = (
        f"gae-sym sweep --variant {','.join(args.variant)} --lam {_join(args.lam)} "
        f"--gamma {_join(args.gamma)} --lr {_join(args.lr)} --seeds {args.seeds} "
        f"--max-env-steps {args.max_env_steps}"
        + (f" --max-seconds {args.max_seconds:g}" if args.max_seconds else "")
        + common
    )
    return configs, command


def _join(values: list[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


def run(args: argparse.Namespace) -> int:
    if args.retry_failed and not args.resume:
        raise UserError("--retry-failed only makes sense with --resume")
    try:
        import gymnasium  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"{error.name} is not installed; install the RL extra: "
            "pip install -c constraints.txt -e '.[rl,sweep]'"
        ) from error
    from numeric.sweep import (
        Journal,
        JournalError,
        RayUnavailable,
        SweepAborted,
        SweepInterrupted,
        read_records,
        run_sweep,
    )
    from numeric.sweep.journal import RUNS_FILE
    from numeric.sweep.learners import cartpole_experiments

    cartpole_experiments()  # the learners import here, or no run could (a clear error, not 240)

    configs, command = plan(args)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    try:
        existing = read_records(out / RUNS_FILE)
    except (JournalError, OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {out / RUNS_FILE}: {error}") from error
    if existing and not args.resume:
        raise UserError(
            f"{out / RUNS_FILE} already holds {len(existing)} runs; add --resume to continue "
            "that sweep, or choose another --out"
        )
    recorded = {r["key"]: r for r in existing}
    skip = {k for k, r in recorded.items() if r.get("status") == "ok" or not args.retry_failed}
    todo = [c for c in configs if c.key not in skip]
    log = sys.stderr
    print(
        f"sweep: {len(configs)} runs in the grid, {len(configs) - len(todo)} already recorded "
        f"in {out / RUNS_FILE}, {len(todo)} to run",
        file=log,
        flush=True,
    )

    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    interrupted = False
    aborted: str | None = None
    outcome = None
    try:
        with Journal(out) as journal:
            if journal.repaired_bytes:
                print(
                    f"sweep: cut a torn last line ({journal.repaired_bytes} bytes) off "
                    f"{journal.path}; that run runs again",
                    file=log,
                )
            if todo:
                outcome = _run_with_progress(run_sweep, todo, journal, args)
    except JournalError as error:
        raise UserError(str(error)) from error
    except RayUnavailable as error:
        raise UserError(str(error)) from error
    except SweepInterrupted as stop:
        interrupted, outcome = True, stop.outcome
    except SweepAborted as stop:
        aborted, outcome = str(stop), stop.outcome
    except OSError as error:
        raise UserError(f"cannot write into --out {out}: {error}") from error

    records = read_records(out / RUNS_FILE)
    document = write_results(out, records, configs, command, started, outcome, interrupted)
    if args.experiments:
        _write_experiment_runs(out, records, configs)
    if aborted:
        print(
            f"sweep: stopped: the first runs all failed with the same error, so every run "
            f"would: {aborted}\n  (see the traceback in {out / RUNS_FILE}; fix it, then resume "
            f"with --resume --retry-failed)",
            file=log,
        )
        document["exit_status"], document["aborted"] = 1, aborted
    if interrupted:
        done = sum(1 for c in configs if c.key in {r["key"] for r in records})
        print(
            f"sweep: interrupted; {done} of {len(configs)} runs are recorded in "
            f"{out / RUNS_FILE}. Resume with:\n  {command} --resume",
            file=log,
        )
    if args.json:
        print_json(document)
    else:
        _print_report(document, log=sys.stdout)
    if interrupted:
        return 130
    return document["exit_status"]


def _stop_cleanly_on_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM stop the sweep as Ctrl-C does; the previous handlers, to restore.

    A sweep started in the background (``... &`` in a script) inherits an *ignored* SIGINT, and
    a batch scheduler stops jobs with SIGTERM: both must still end in a clean, resumable stop.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not the main thread (an embedding program): leave signals alone
        with contextlib.suppress(ValueError):
            previous[sig] = signal.signal(sig, interrupt)
    return previous


def _run_with_progress(run_sweep, todo, journal, args) -> Any:
    previous = _stop_cleanly_on_signals()
    try:
        return _run_with_bar(run_sweep, todo, journal, args)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_with_bar(run_sweep, todo, journal, args) -> Any:
    with progress_bar(total=len(todo), desc="sweep", unit="run", log_every_s=30.0) as bar:
        state = {"failed": 0, "disagree": 0}

        def on_progress(p) -> None:
            state["failed"], state["disagree"] = p.failed, p.disagree
            bar.set_postfix(failed=p.failed, disagree=p.disagree, refresh=False)
            bar.update(1)
            if p.last and p.last.get("status") != "ok":
                c = p.last["config"]
                bar_write(
                    f"sweep: run failed ({c.get('variant')} gamma={c.get('gamma')} "
                    f"lam={c.get('lam')} lr={c.get('lr')} seed={c.get('seed')}): "
                    f"{p.last.get('error')}"
                )

        return run_sweep(
            todo, journal, address=args.address, num_cpus=args.num_cpus, on_progress=on_progress
        )


def bar_write(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def write_results(
    out: Path,
    records: list[dict[str, Any]],
    configs: list[Any],
    command: str,
    started: str,
    outcome: Any,
    interrupted: bool,
) -> dict[str, Any]:
    """summary.md, summary.json, the two figures and sweep.json (sessions); the --json document.

    Only the records of this grid enter the summary (a folder may hold runs of other grids).
    """
    from gae_sym.sweep_report import plot_heatmap, plot_steps_to_solve, summarize, summary_markdown

    keys = {c.key for c in configs}
    mine = [r for r in records if r["key"] in keys]
    summary = summarize(mine)
    meta_path = out / META_JSON
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            meta = {}
    sessions = list(meta.get("sessions", []))
    if outcome is not None:
        sessions.append(
            {
                "started": started,
                "interrupted": interrupted,
                "cpu_count": os.cpu_count(),
                "outcome": outcome.as_dict(),
            }
        )
    meta = {"command": command, "grid_runs": len(configs), "sessions": sessions}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    (out / SUMMARY_MD).write_text(summary_markdown(summary, meta), encoding="utf-8")
    files = {"runs": str(out / "runs.jsonl"), "summary_md": str(out / SUMMARY_MD)}
    if summary["groups"]:
        plot_steps_to_solve(out / STEPS_PNG, summary)
        plot_heatmap(out / HEATMAP_PNG, summary)
        files |= {"steps_to_solve_png": str(out / STEPS_PNG), "heatmap_png": str(out / HEATMAP_PNG)}
    recorded = {r["key"] for r in mine}
    missing = len(keys - recorded)
    bad = summary["failed"] + (summary["ok"] - summary["agree"])
    document = {
        "command": command,
        "out": str(out),
        "grid_runs": len(configs),
        "recorded": len(recorded),
        "missing": missing,
        "interrupted": interrupted,
        "session": None if outcome is None else outcome.as_dict(),
        "summary": summary,
        "files": files | {"summary_json": str(out / SUMMARY_JSON), "meta": str(meta_path)},
        "exit_status": 1 if bad or missing else 0,
    }
    (out / SUMMARY_JSON).write_text(json.dumps(document, indent=2) + "\n")
    return document


def _write_experiment_runs(out: Path, records: list[dict[str, Any]], configs: list[Any]) -> None:
    from numeric.sweep import as_experiment_record

    latest = {r["key"]: r for r in records}
    runs = [
        as_experiment_record(latest[c.key])
        for c in configs
        if c.key in latest and latest[c.key].get("status") == "ok"
    ]
    (out / EXPERIMENT_RUNS).write_text(json.dumps(runs, separators=(",", ":")) + "\n")


def _print_report(document: dict[str, Any], log) -> None:
    from gae_sym.sweep_report import TABLE_HEADER, table_rows

    summary = document["summary"]
    rows = [TABLE_HEADER, *table_rows(summary)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)), file=log)
    print(
        f"{document['recorded']} of {document['grid_runs']} runs recorded: {summary['failed']} "
        f"failed, kernel check agreed on {summary['agree']} of {summary['ok']}",
        file=log,
    )
    session = document["session"]
    if session:
        over = session["overhead_per_task_seconds"]
        print(
            f"this session: {session['ran']} runs on {session['concurrency']} CPUs in "
            f"{session['wall_seconds']:.1f} s; sum of run times "
            f"{session['sum_task_seconds']:.1f} s; "
            f"wall / (sum / CPUs) = {session['wall_over_ideal']}; Ray overhead per task: "
            f"median {over['median']} s, max {over['max']} s",
            file=log,
        )
    print("wrote " + ", ".join(document["files"].values()), file=log)
