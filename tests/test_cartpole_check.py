"""The CartPole actor-critics: short real runs whose every rollout passes the kernel check."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from gae_sym.cli import main
from numeric.cartpole.batched import BatchedConfig
from numeric.cartpole.batched import train as train_batched
from numeric.cartpole.common import EpisodeLog
from numeric.cartpole.lecture import LectureConfig
from numeric.cartpole.lecture import train as train_lecture
from numeric.cartpole.rollout_check import CHECKS, RolloutChecker, check_rollout

REPORT_FIELDS = (
    "env",
    "variant",
    "seed",
    "episodes",
    "env_steps",
    "seconds",
    "mean_return_last_100",
    "solved",
    "solved_at_episode",
    "solved_at_step",
    "rollouts_checked",
    "steps_checked",
    "max_abs_diff",
    "tolerance",
    "agree",
    "checks",
)


def _short(cfg, env_steps: int):
    return replace(cfg, max_env_steps=env_steps, max_seconds=60.0)


@pytest.fixture(scope="module")
def batched_run():
    """A few updates of A2C with a 12-step time limit, so that truncations happen often."""
    checker = RolloutChecker(keep=True)
    log = EpisodeLog()
    cfg = _short(BatchedConfig(seed=3, num_envs=4, num_steps=16, max_episode_steps=12), 3000)
    result = train_batched(cfg, log=log, on_rollout=checker)
    return checker, log, result


def test_batched_short_run_agrees_on_every_rollout(batched_run):
    checker, log, result = batched_run
    summary = checker.summary()
    assert summary["agree"], summary
    assert checker.rollouts_checked == result.updates > 0
    assert {c["name"] for c in summary["checks"]} == {c.name for c in CHECKS}
    assert all(c["steps_compared"] > 0 for c in summary["checks"])
    # every valid step belongs to a logged episode or to an episode still running at the end
    assert checker.steps_checked >= sum(log.lengths)


def test_every_installed_backend_is_checked_on_every_rollout(batched_run):
    import importlib.util

    checker, _, _ = batched_run
    backends = {b["name"]: b for b in checker.summary()["backends_checked"]}
    expected = {"numpy-generated"}
    for module, names in [
        ("numba", {"numba-generated"}),
        ("torch", {"torch-generated"}),
        ("jax", {"jax-generated", "jax-associative-generated", "jax-chunked-generated"}),
    ]:
        if importlib.util.find_spec(module) is not None:
            expected |= names
    if {"jax-generated", "numba-generated"} <= expected:
        import jax

        if jax.default_backend() == "cpu":
            expected.add("jax-numba-generated")
    assert expected <= set(backends)
    for backend in backends.values():
        assert backend["agree"] and 0 <= backend["max_abs_diff"] <= backend["tolerance"], backend


def test_a_wrong_backend_makes_the_run_disagree_and_is_named(batched_run):
    # A backend that drops the done cut (A_t = delta_t + gamma lam A_(t+1) everywhere) must be
    # caught on rollouts with episode ends, and the report must name it.
    checker, _, _ = batched_run
    import numeric

    def no_done_cut(inputs, g, lam):
        never = np.zeros_like(inputs[3])
        return numeric.gae(*inputs[:3], inputs[3] & never, never, gamma=g, lam=lam)

    broken = RolloutChecker(backends=[("no-done-cut", no_done_cut)])
    for rollout in checker.kept:
        broken.add(rollout)
    (entry,) = broken.summary()["backends_checked"]
    assert entry["name"] == "no-done-cut" and not entry["agree"]
    assert entry["max_abs_diff"] > 10 * entry["tolerance"]
    assert not broken.agree
    assert all(c["agree"] for c in broken.summary()["checks"])  # only the backend failed


def test_batched_run_truncates_and_masks_the_autoreset_step(batched_run):
    checker, log, _ = batched_run
    kept = checker.kept
    trunc = np.concatenate([r.truncated & ~r.terminated for r in kept])
    assert trunc.sum() > 0  # the 12-step limit truncated episodes inside the run
    assert max(log.lengths) == 12
    valid = np.concatenate([r.valid for r in kept])
    done = np.concatenate([r.terminated | r.truncated for r in kept])
    rewards = np.concatenate([r.rewards for r in kept])
    # NEXT_STEP: the step after every episode end is the dummy, masked out, with reward 0
    assert np.array_equal(~valid[1:], done[:-1])
    assert np.all(rewards[~valid] == 0)
    assert int(valid.sum()) == checker.steps_checked


@pytest.mark.parametrize("bootstrap_termination", [False, True])
def test_lecture_loop_is_described_exactly_by_its_flags(bootstrap_termination):
    checker = RolloutChecker(keep=True)
    cfg = _short(LectureConfig(seed=2, bootstrap_termination=bootstrap_termination), 2000)
    train_lecture(cfg, log=EpisodeLog(), on_rollout=checker)
    assert checker.agree, checker.summary()
    ended_by_fall = 0
    for r in checker.kept:
        last_delta = r.rewards[-1, 0] - r.values[-1, 0]
        if bootstrap_termination:
            # the printed compute_gae: every end bootstrapped, i.e. recorded as a truncation
            assert r.truncated[-1, 0] and not r.terminated.any()
            last_delta = last_delta + np.float32(cfg.gamma) * r.next_values[-1, 0]
        elif r.terminated[-1, 0]:
            ended_by_fall += 1  # the mask: no value after the pole fell
        assert r.advantages[-1, 0] == pytest.approx(last_delta, abs=1e-5)
    assert bootstrap_termination or ended_by_fall > 0


def test_gamma_lambda_one_on_long_episodes_agrees():
    """γ = λ = 1 over 500-step episodes: the float32 loop drifts ~5e-4 from the float64 kernel,
    which a fixed absolute tolerance of 2e-4 called a disagreement; the rounding bound holds."""
    checker, log = RolloutChecker(), EpisodeLog()
    cfg = _short(LectureConfig(seed=1, gamma=1.0, lam=1.0), 40_000)
    train_lecture(cfg, log=log, on_rollout=checker)
    assert max(log.lengths) >= 200  # long episodes: large returns, long error chains
    assert checker.agree, checker.summary()


def test_the_check_fails_when_the_flags_misdescribe_the_loop():
    """A loop that bootstraps terminations, described as not bootstrapping them, must fail."""
    checker = RolloutChecker(keep=True)
    cfg = _short(LectureConfig(seed=2, bootstrap_termination=True), 600)
    train_lecture(cfg, log=EpisodeLog(), on_rollout=checker)
    r = checker.kept[0]
    wrong = replace(r, terminated=r.truncated, truncated=np.zeros_like(r.truncated))
    diffs = check_rollout(wrong)
    assert diffs["gae-numpy-vs-loop"][0] > 1e-2
    assert diffs["td-error-vs-gae-lambda0"][0] == 0.0  # the identities still hold
    wrong_checker = RolloutChecker()
    wrong_checker.add(wrong)
    assert not wrong_checker.agree


def test_cli_writes_records_and_prints_the_report(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            *("cartpole", "--variant", "lecture", "--seed", "1", "--max-seconds", "2"),
            *("--out", str(out), "--json"),
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert all(field in report for field in REPORT_FIELDS)
    assert report["env"] == "CartPole-v1" and report["variant"] == "lecture"
    assert report["agree"] and report["rollouts_checked"] > 0
    assert len(report["checks"]) == len(CHECKS)
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == report["episodes"] > 0
    assert int(rows[-1]["env_steps"]) == report["env_steps"]
    assert (out / "learning_curve.png").stat().st_size > 0
    assert json.loads((out / "report.json").read_text())["episodes"] == report["episodes"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--gamma", "1.5"),
        ("--lam", "-0.1"),
        ("--lr", "0"),
        ("--max-seconds", "0"),
        ("--seed", "-1"),
    ],
)
def test_cli_refuses_bad_input(tmp_path, capsys, flag, value):
    assert main(["cartpole", flag, value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert flag in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_ctrl_c_keeps_the_metrics_and_the_checks_so_far(tmp_path, capsys, monkeypatch):
    """Ctrl-C during training: exit 130, and metrics.csv, report.json say what was done."""
    add = RolloutChecker.add

    def add_then_interrupt(self, rollout):
        add(self, rollout)
        if self.rollouts_checked == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(RolloutChecker, "add", add_then_interrupt)
    out = tmp_path / "run"
    argv = ["cartpole", "--variant", "lecture", "--max-seconds", "30", "--out", str(out), "--json"]
    assert main(argv) == 130
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["interrupted"] and report["rollouts_checked"] == 5 and report["agree"]
    assert report["episodes"] == 5  # the lecture variant: one update per episode
    assert json.loads((out / "report.json").read_text()) == report
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 5 and int(rows[-1]["env_steps"]) == report["env_steps"]
    assert "interrupted" in captured.err


def test_a_crash_still_writes_the_report(tmp_path, monkeypatch):
    def crash_on_second(self, rollout):
        if self.rollouts_checked == 1:
            raise RuntimeError("simulated crash")
        self.rollouts_checked += 1

    monkeypatch.setattr(RolloutChecker, "add", crash_on_second)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):
        main(["cartpole", "--variant", "lecture", "--max-seconds", "30", "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    assert report["error"] == "RuntimeError: simulated crash" and report["episodes"] == 2
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 2


@pytest.mark.parametrize(
    ("train", "cfg"),
    [(train_batched, BatchedConfig(seed=5, num_envs=4)), (train_lecture, LectureConfig(seed=5))],
    ids=["batched", "lecture"],
)
def test_same_seed_same_results(train, cfg):
    def run():
        log = EpisodeLog()
        checker = RolloutChecker(keep=True)
        train(_short(cfg, 1500), log=log, on_rollout=checker)
        return log.returns, [r.advantages.tolist() for r in checker.kept]

    assert run() == run()


def test_a_run_stopped_before_its_first_rollout_says_nothing_was_checked(capsys):
    # Ctrl-C during the first rollout: zero rows against a zero tolerance are not failures.
    from gae_sym.cli.cartpole import _print_summary

    report = {
        "env": "CartPole-v1",
        "variant": "batched",
        "seed": 1,
        "episodes": 0,
        "env_steps": 0,
        "seconds": 0.0,
        "check_seconds": 0.0,
        "mean_return_last_100": 0.0,
        "solved": False,
        "interrupted": True,
        **RolloutChecker().summary(),
        "files": {"metrics": "m.csv", "learning_curve": "c.png", "report": "r.json"},
    }
    _print_summary(report)
    out = capsys.readouterr().out
    assert "nothing checked: the run was interrupted before its first rollout" in out
    assert "FAIL" not in out and "DISAGREE" not in out
