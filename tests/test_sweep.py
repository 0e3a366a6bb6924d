"""`gae-sym sweep` and numeric.sweep: the grid, the journal, the summary, and real Ray sweeps.

The Ray tests start a real local Ray cluster of 2 CPUs (Ray has no local mode any more) and
real, short CartPole runs. One test drives the command line through a Ctrl-C, a ``kill -9`` at
half way and two resumes, and checks that no run is repeated and none is lost.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gae_sym.sweep_report import (
    bootstrap_interval,
    censored_quantile,
    summarize,
    summary_markdown,
)

pytest.importorskip("torch", reason="the sweep trains torch learners")
pytest.importorskip("gymnasium", reason="the sweep trains on gymnasium's CartPole")

from numeric.sweep import (
    Journal,
    JournalError,
    RunConfig,
    grid,
    read_records,
    run_key,
)
from numeric.sweep.journal import repair_torn_tail

GAE_SYM = [sys.executable, "-m", "gae_sym"]


def _record(seed: int, steps: int | None, final: float, *, lam: float = 0.95, status="ok"):
    config = RunConfig("batched", 0.99, lam, 3e-3, seed, 100_000)
    return {
        "key": config.key,
        "config": config.as_dict(),
        "status": status,
        "error": None if status == "ok" else "RuntimeError: boom",
        "solved": steps is not None,
        "steps_to_solve": steps,
        "final_mean_return": final,
        "agree": True,
        "max_abs_diff": 1e-6,
        "seconds": 1.0,
    }


# --- the grid ------------------------------------------------------------------------------------


def test_grid_is_the_product_with_seeds_outermost_and_no_duplicates():
    configs = grid(
        variants=["batched"],
        gammas=[0.99, 1.0],
        lams=[0.0, 0.5, 0.5],  # a repeated value is one setting, not two runs
        lrs=[3e-3],
        seeds=[1, 2],
        max_env_steps=1000,
    )
    assert len(configs) == 2 * 2 * 2
    # seed 1 of every setting first: a sweep stopped part way is balanced
    assert [(c.gamma, c.lam, c.seed) for c in configs[:5]] == [
        (0.99, 0.0, 1),
        (0.99, 0.5, 1),
        (1.0, 0.0, 1),
        (1.0, 0.5, 1),
        (0.99, 0.0, 2),
    ]
    assert len({c.key for c in configs}) == len(configs)


def test_run_key_is_the_whole_config_normalised():
    a = RunConfig("batched", 0.99, 0.5, 3e-3, 1, 1000)
    same = {**a.as_dict(), "lam": 5e-1, "seed": "1", "gamma": "0.99"}
    assert run_key(same) == a.key
    # anything that changes the run changes its identity, so --resume never skips it
    for change in ({"max_env_steps": 2000}, {"lr": 1e-3}, {"overrides": {"num_envs": 4}}):
        assert run_key({**a.as_dict(), **change}) != a.key
    with pytest.raises(ValueError, match="unknown variant"):
        RunConfig("reinforce", 0.99, 0.5, 3e-3, 1, 1000)


def test_experiments_plan_is_the_experiments_module_plan_as_sweep_runs():
    from numeric.sweep import as_experiment_record, experiments_plan
    from numeric.sweep.learners import cartpole_experiments

    specs = cartpole_experiments().plan(quick=False)
    configs = experiments_plan()
    assert len(configs) == len(specs) == len({c.key for c in configs})
    assert [(c.variant, c.seed, c.lr, c.label) for c in configs] == [
        (s.variant, s.seed, s.lr, s.label) for s in specs
    ]
    bugs = {c.label: dict(c.overrides) for c in configs if c.overrides}
    assert bugs["critic-target-not-detached"] == {"critic_target_detached": False}
    assert bugs["actor-sign-flipped"] == {"actor_sign_flipped": True}
    sweep_budget = next(c for c in configs if c.label == "lr-sweep")
    assert (sweep_budget.max_env_steps, sweep_budget.max_seconds) == (150_000, 30.0)
    assert all(c.keep_episode_returns for c in configs)
    record = {
        "config": configs[0].as_dict(),
        "episodes": 3,
        "env_steps": 60,
        "train_seconds": 0.5,
        "solved": False,
        "steps_to_solve": None,
        "solved_at_episode": None,
        "final_mean_return": 20.0,
        "episode_returns": [20, 20, 20],
        "max_abs_diff": 1e-7,
        "agree": True,
    }
    converted = as_experiment_record(record)
    assert set(converted) == {
        "variant",
        "seed",
        "lr",
        "label",
        "episodes",
        "env_steps",
        "seconds",
        "solved",
        "solved_at_episode",
        "solved_at_step",
        "mean_return_last_100",
        "episode_returns",
        "max_abs_diff",
        "agree",
    }


def test_a_run_passes_its_overrides_to_the_learner_and_records_the_check():
    from numeric.sweep.run import learner_config, run_config

    config = RunConfig(
        "lecture",
        0.99,
        0.95,
        3e-3,
        1,
        300,
        overrides=(("actor_sign_flipped", True),),
        keep_episode_returns=True,
    )
    assert learner_config(config).actor_sign_flipped is True
    assert learner_config(config).max_seconds == math.inf  # no wall-clock budget by default
    record = run_config(config.as_dict())
    assert record["status"] == "ok", record.get("traceback")
    assert record["key"] == config.key and record["env_steps"] >= 300
    assert record["agree"] is True and record["rollouts_checked"] >= 1
    assert sum(record["episode_returns"]) == record["env_steps"]  # +1 per step, lecture loop
    bad = run_config({**config.as_dict(), "overrides": {"no_such_option": 1}})
    assert bad["status"] == "error" and "no_such_option" in bad["error"]


# --- the journal ---------------------------------------------------------------------------------


def test_journal_cuts_a_torn_last_line_and_refuses_a_corrupt_middle(tmp_path):
    with Journal(tmp_path) as journal:
        journal.append(_record(1, 100, 500.0))
        journal.append(_record(2, None, 30.0))
    path = tmp_path / "runs.jsonl"
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"key": "torn by a kill')  # a write cut short
    assert len(read_records(path)) == 2  # the reader ignores it...
    with Journal(tmp_path) as journal:  # ...and opening for append cuts it off
        assert journal.repaired_bytes == len(b'{"key": "torn by a kill')
        journal.append(_record(3, 200, 480.0))
    assert [r["config"]["seed"] for r in read_records(path)] == [1, 2, 3]
    assert repair_torn_tail(path) == 0
    assert not (tmp_path / ".sweep.lock").exists()

    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "not json", lines[1]]) + "\n")
    with pytest.raises(JournalError, match="line 2"):
        read_records(path)


def test_two_sweeps_cannot_write_one_folder(tmp_path):
    with Journal(tmp_path), pytest.raises(JournalError, match="another sweep"):
        Journal(tmp_path).open()


# --- statistics ----------------------------------------------------------------------------------


def test_censored_quantiles_never_turn_an_unsolved_run_into_a_number():
    inf = math.inf
    assert censored_quantile([1, 2, 3, inf], 0.5) == 2.5
    assert censored_quantile([1, 2, inf, inf], 0.5) == inf  # touches an unsolved run
    assert censored_quantile([1, 2, 3, 4, inf], 0.25) == 2.0
    # 4 of 10 solved: the median is not reached, and is not reported as the budget
    records = [_record(s, 50_000 + s, 480.0) for s in range(4)]
    records += [_record(s, None, 100.0) for s in range(4, 10)]
    group = summarize(records)["groups"][0]
    assert group["solved"] == 4 and group["runs"] == 10
    assert group["steps_to_solve"]["median"] is None
    assert group["steps_to_solve"]["q25"] == 50_002  # 50_002.25, in whole steps
    assert group["steps_to_solve"]["ci95"][1] is None
    assert "| 4/10 | – |" in summary_markdown(summarize(records))


def test_bootstrap_interval_is_deterministic_and_brackets_the_mean():
    values = [10.0, 12.0, 9.0, 30.0, 11.0, 10.5, 8.0, 14.0]
    lo, hi = bootstrap_interval(values, lambda rows: rows.mean(axis=1))
    assert (lo, hi) == bootstrap_interval(values, lambda rows: rows.mean(axis=1))
    mean = sum(values) / len(values)
    assert lo < mean < hi
    assert min(values) < lo and hi < max(values)  # narrower than the data's range
    assert bootstrap_interval([7.0] * 5, lambda rows: rows.mean(axis=1)) == (7.0, 7.0)


def test_summary_counts_failed_runs_apart_and_uses_the_latest_record():
    failed = _record(3, None, 0.0, status="error")
    retried = _record(3, 1000, 490.0)
    summary = summarize([_record(1, 900, 500.0), failed, _record(2, 1100, 495.0)])
    group = summary["groups"][0]
    assert (summary["failed"], group["runs"], group["failed"]) == (1, 2, 1)
    assert group["steps_to_solve"]["median"] == 1000  # the failure is no unsolved run
    assert summary["failures"][0]["error"] == "RuntimeError: boom"
    again = summarize([_record(1, 900, 500.0), failed, _record(2, 1100, 495.0), retried])
    assert again["failed"] == 0 and again["groups"][0]["runs"] == 3


# --- the command line, without Ray ----------------------------------------------------------------


def _cli(args, **kw):
    return subprocess.run([*GAE_SYM, "sweep", *args], capture_output=True, text=True, **kw)


def test_cli_refuses_bad_input_without_a_traceback(tmp_path, capsys):
    from gae_sym.cli import main

    for args, message in (
        (["--lam", "0,2", "--out", str(tmp_path)], "--lam"),
        (["--lam", "0,,1", "--out", str(tmp_path)], "comma-separated"),
        (["--variant", "reinforce", "--out", str(tmp_path)], "--variant"),
        (["--experiments", "quick", "--lam", "0.5", "--out", str(tmp_path)], "--lam"),
        (["--retry-failed", "--out", str(tmp_path)], "--resume"),
    ):
        assert main(["sweep", *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    with Journal(tmp_path) as journal:
        journal.append(_record(1, 100, 500.0))
    done = _cli(["--out", str(tmp_path), "--json"])
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "already holds 1 runs" in json.loads(done.stdout)["error"]["message"]


# --- real Ray sweeps ------------------------------------------------------------------------------

ray = pytest.importorskip("ray", reason="the sweep extra (ray) is not installed")


def test_engine_records_a_raising_run_and_a_crashed_worker_and_goes_on(tmp_path):
    from numeric.sweep import run_sweep
    from numeric.sweep.run import run_config

    def flaky(config):
        if config["seed"] == 2:
            raise RuntimeError("injected failure")
        if config["seed"] == 3:
            os._exit(3)  # the worker process dies: Ray reports it, the sweep records it
        return run_config(config)

    configs = grid(
        variants=["batched"],
        gammas=[0.99],
        lams=[0.95],
        lrs=[3e-3],
        seeds=[1, 2, 3, 4],
        max_env_steps=512,
    )
    with Journal(tmp_path) as journal:
        outcome = run_sweep(configs, journal, num_cpus=2, run_fn=flaky, probe=False)
    records = {r["config"]["seed"]: r for r in read_records(tmp_path / "runs.jsonl")}
    assert sorted(records) == [1, 2, 3, 4]
    assert outcome.ran == 4 and outcome.failed == 2
    assert records[2]["status"] == "error"
    assert records[2]["error"] == "RuntimeError: injected failure"
    assert "flaky" in records[2]["traceback"]
    assert records[3]["status"] == "error" and records[3]["error"]
    for seed in (1, 4):
        r = records[seed]
        assert r["status"] == "ok" and r["agree"] is True and r["env_steps"] >= 512
        assert r["threads"]["torch"] == 1
        assert r["ray_overhead_seconds"] >= 0


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _start(args) -> subprocess.Popen:
    # its own session: the signal reaches the driver and the Ray processes, as a terminal's would
    return subprocess.Popen(
        [*GAE_SYM, "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _signal_when(proc, path: Path, lines: int, sig: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while _lines(path) < lines:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep made no progress"
        # Short polls: a 2,048-step run takes a fraction of a second now, and with 0.2 s
        # polls the rest of the grid could finish between two looks (seen once in CI).
        time.sleep(0.01)
    os.killpg(proc.pid, sig)


def test_cli_ctrl_c_then_kill_9_at_half_way_then_resume_loses_and_repeats_nothing(tmp_path):
    out = tmp_path / "small"
    runs = out / "runs.jsonl"
    grid_args = [
        "--lam",
        "0,0.95,1",
        "--gamma",
        "0.99",
        "--seeds",
        "2",
        "--max-env-steps",
        "2048",
        "--num-cpus",
        "2",
        "--out",
        str(out),
    ]

    # 1. Ctrl-C after the first run: a clean stop that says how to resume
    proc = _start(grid_args)
    _signal_when(proc, runs, 1, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "--resume" in err and "Resume with" in err
    first = read_records(runs)
    assert 1 <= len(first) < 6

    # 2. resume, and kill -9 the whole process group once half the grid is recorded
    proc = _start([*grid_args, "--resume"])
    _signal_when(proc, runs, 3, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    second = read_records(runs)
    assert 3 <= len(second) < 6
    with runs.open("a") as f:
        f.write('{"key": "a line torn by the kill')  # the worst a kill can leave

    # 3. resume to the end
    done = _cli([*grid_args, "--resume", "--json"], timeout=240)
    assert done.returncode == 0, done.stderr
    assert "cut a torn last line" in done.stderr
    document = json.loads(done.stdout)  # one JSON document on stdout, nothing else
    records = read_records(runs)
    keys = [r["key"] for r in records]
    assert len(keys) == 6 and len(set(keys)) == 6  # none lost, none repeated
    assert records[: len(second)] == second  # what was recorded was never rerun
    assert document["session"]["ran"] == 6 - len(second)
    assert document["recorded"] == 6 and document["missing"] == 0
    assert all(r["status"] == "ok" and r["agree"] for r in records)
    assert {(g["lam"], g["runs"]) for g in document["summary"]["groups"]} == {
        (0.0, 2),
        (0.95, 2),
        (1.0, 2),
    }
    for name in ("steps-to-solve.png", "heatmap.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text()
    assert summary.count("| batched lr=0.003 | 0.99 |") == 3
    meta = json.loads((out / "sweep.json").read_text())
    assert len(meta["sessions"]) == 3 - 1  # the killed session left no record of itself
    assert [s["interrupted"] for s in meta["sessions"]] == [True, False]
    assert not list(out.glob(".sweep.lock"))
