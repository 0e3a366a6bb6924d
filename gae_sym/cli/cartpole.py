"""`gae-sym cartpole`: train the actor-critic on CartPole and check the kernels on its rollouts."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict
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

VARIANTS = ("lecture", "batched")

DESCRIPTION = """\
Train an actor-critic on gymnasium's CartPole-v1 and check, on every rollout it trained on,
that the numeric estimators compute what the training loop computed:

  numeric.gae (numpy and torch)  = the loop's own GAE advantages
  numeric.lambda_return          = the loop's returns (critic targets)
  td_error = gae(lambda=0), mc_advantage = gae(lambda=1)
  mc_advantage = discounted sum of the raw episode rewards - V (episodes that ended)
  lambda_return - values = gae

Variants:
  lecture   the lecture's loop: one episode, then one update (separate actor/critic MLPs)
  batched   A2C on a vector env (8 envs x 16 steps), truncations bootstrapped with the value
            of the final observation, the autoreset dummy step masked out

Training stops when the 100-episode mean return reaches 475 (solved) or after --max-seconds
of training (the clock stops while a rollout is checked; the whole run takes longer).
Writes DIR/metrics.csv (one row per episode, as it goes), DIR/learning_curve.png and
DIR/report.json; Ctrl-C (or a crash) keeps what was learned and checked so far.
Exit status: 0 every check agrees, 1 a check disagrees (or nothing was checked), 2 bad input.

examples:
  gae-sym cartpole --variant batched --seed 1 --max-seconds 30 --out runs/demo   # ~45 s
  # the lecture's collapse: runs about 3 minutes (120 s of training, the lecture default)
  gae-sym cartpole --variant lecture --seed 2 --lr 3e-2 --json"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "cartpole",
        "train the actor-critic on CartPole and check the kernels on its rollouts",
        DESCRIPTION,
    )
    parser.add_argument(
        "--variant", choices=VARIANTS, default="batched", help="which learner (default: batched)"
    )
    parser.add_argument(
        "--seed",
        # gymnasium refuses negative seeds with a traceback; numpy/torch seeds fit in 32 bits
        type=int_flag(0, 2**32 - 1),
        default=1,
        help="seed for torch, numpy and the envs, 0 to 2**32-1 (default 1)",
    )
    parser.add_argument(
        "--gamma", type=float_flag(0, 1), default=0.99, help="discount γ in [0, 1] (default 0.99)"
    )
    parser.add_argument(
        "--lam", type=float_flag(0, 1), default=0.95, help="GAE λ in [0, 1] (default 0.95)"
    )
    parser.add_argument(
        "--lr",
        type=float_flag(0, 10, min_open=True),
        default=3e-3,
        help="Adam learning rate, in (0, 10] (default 3e-3)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float_flag(0, 86400, min_open=True),
        default=None,
        metavar="X",
        help="budget of the training clock alone, in (0, 86400] (default: 120 for lecture, "
        "60 for batched); the kernel checks on every rollout (reported apart as check "
        "seconds), start-up and the plot come on top: 120 s of training took 165 s in all "
        "on a 2-core machine, 5 s took 13 s",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: runs/cartpole-VARIANT-seedS)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import gymnasium  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"{error.name} is not installed; install the RL extra: "
            "pip install -c constraints.txt -e '.[rl]'"
        ) from error
    from numeric.cartpole.common import ENV_ID, EpisodeLog, EpisodeRecord
    from numeric.cartpole.experiments import make_config, train_variant
    from numeric.cartpole.rollout_check import RolloutChecker

    max_seconds = args.max_seconds or make_config(args.variant).max_seconds
    out = args.out or Path("runs") / f"cartpole-{args.variant}-seed{args.seed}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create --out {out}: {error}") from error
    cfg = make_config(
        args.variant,
        seed=args.seed,
        gamma=args.gamma,
        lam=args.lam,
        lr=args.lr,
        max_seconds=max_seconds,
    )

    checker = RolloutChecker()
    interrupted = False
    crash: Exception | None = None
    with (
        (out / "metrics.csv").open("w", newline="") as metrics_file,
        # A bar on a terminal; on a pipe one plain line every 10 s (never \r redraws).
        progress_bar(desc=f"CartPole {args.variant}", unit="ep", log_every_s=10) as bar,
    ):
        writer = csv.writer(metrics_file)
        writer.writerow(
            ["episode", "return", "length", "env_steps", "seconds", "mean_return_last_100"]
        )

        def on_episode(ep: EpisodeRecord) -> None:
            writer.writerow(
                [
                    ep.episode,
                    ep.episode_return,
                    ep.length,
                    ep.env_steps,
                    f"{ep.seconds:.3f}",
                    f"{ep.mean_return_last_100:.2f}",
                ]
            )
            metrics_file.flush()  # a crash keeps every finished episode
            bar.update(1)
            bar.set_postfix(
                ret=f"{ep.episode_return:.0f}",
                avg100=f"{ep.mean_return_last_100:.1f}",
                refresh=False,
            )

        log = EpisodeLog(on_episode=on_episode)
        try:
            train_variant(args.variant, cfg, log=log, on_rollout=checker)
        except KeyboardInterrupt:
            interrupted = True
        except Exception as error:  # still report what was learned and checked, then re-raise
            crash = error

    report = {
        "env": ENV_ID,
        "variant": args.variant,
        "seed": args.seed,
        "gamma": args.gamma,
        "lam": args.lam,
        "lr": args.lr,
        "max_seconds": max_seconds,
        "episodes": len(log.returns),
        "env_steps": log.env_steps,
        "seconds": round(log.seconds, 3),
        "check_seconds": round(log.check_seconds, 3),
        "mean_return_last_100": log.mean_last_100(),
        "solved": log.solved,
        "solved_at_episode": log.solved_at_episode,
        "solved_at_step": log.solved_at_step,
        "solved_at_seconds": None
        if log.solved_at_seconds is None
        else round(log.solved_at_seconds, 3),
        "interrupted": interrupted,
        "error": None if crash is None else f"{type(crash).__name__}: {crash}",
        **checker.summary(),
        "config": asdict(cfg),
        "files": {
            "metrics": str(out / "metrics.csv"),
            "learning_curve": str(out / "learning_curve.png"),
            "report": str(out / "report.json"),
        },
    }
    _plot_learning_curve(
        log.returns, out / "learning_curve.png", f"{ENV_ID}, {args.variant}, seed {args.seed}"
    )
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")

    if args.json:
        print_json(report)
    else:
        _print_summary(report)
    if crash is not None:
        raise crash
    if interrupted:
        raise KeyboardInterrupt
    return 0 if report["agree"] else 1


def _plot_learning_curve(returns: list[float], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3.5))
    episodes = np.arange(1, len(returns) + 1)
    ax.plot(episodes, returns, lw=0.6, alpha=0.5, label="episode return")
    if returns:
        window = 100
        cumsum = np.cumsum(np.insert(np.asarray(returns, dtype=float), 0, 0.0))
        lo = np.maximum(episodes - window, 0)
        ax.plot(
            episodes,
            (cumsum[episodes] - cumsum[lo]) / (episodes - lo),
            lw=1.5,
            label="mean of last 100",
        )
    ax.axhline(475, color="k", ls="--", lw=0.8, label="solved (475)")
    ax.set(xlabel="episode", ylabel="return", title=title, ylim=(0, 510))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _print_summary(report: dict[str, Any]) -> None:
    solved = (
        f"solved at episode {report['solved_at_episode']} ({report['solved_at_step']} env steps)"
        if report["solved"]
        else "not solved"
    )
    print(
        f"{report['env']} {report['variant']} seed {report['seed']}: "
        f"{report['episodes']} episodes, "
        f"{report['env_steps']} env steps, {report['seconds']:.1f} s training "
        f"(+{report['check_seconds']:.1f} s checks); mean of last 100 = "
        f"{report['mean_return_last_100']:.1f}; {solved}"
    )
    if report["rollouts_checked"] == 0:
        # Nothing was compared (Ctrl-C or the time limit before the first rollout ended):
        # rows of zeros against a zero tolerance would read as failures.
        stopped = "was interrupted" if report["interrupted"] else "stopped"
        print(f"nothing checked: the run {stopped} before its first rollout was complete")
    else:
        print(f"checked {report['rollouts_checked']} rollouts, {report['steps_checked']} steps:")
        for check in report["checks"]:
            mark = "ok  " if check["agree"] else "FAIL"
            print(
                f"  {mark} {check['name']:32s} max |diff| {check['max_abs_diff']:.2e}"
                f"  (tol {check['tolerance']:.1e}, worst {check['max_diff_over_tolerance']:.2f}"
                " of it)"
            )
        for backend in report.get("backends_checked", []):
            mark = "ok  " if backend["agree"] else "FAIL"
            print(
                f"  {mark} backend {backend['name']:26s} max |diff| {backend['max_abs_diff']:.2e}"
                f"  (tol {backend['tolerance']:.1e})"
            )
        print("all checks agree" if report["agree"] else "CHECKS DISAGREE")
    print(
        f"wrote {report['files']['metrics']}, {report['files']['learning_curve']}, "
        f"{report['files']['report']}"
    )
