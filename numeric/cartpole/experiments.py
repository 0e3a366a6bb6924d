"""The CartPole experiments behind the lecture notes, saved as data.

    python -m numeric.cartpole.experiments --out docs/data/cartpole

runs, one after the other (single-threaded torch, each with the rollout check on):

* ``default``: 5 seeds × 2 variants (``lecture``, ``batched``) at lr 3e-3, until solved;
* ``lr-sweep``: the lecture variant at other learning rates (5 seeds each), which reproduces the
  lecture's "settled down to 9–10": a policy that always pushes the same way;
* ``critic-target-not-detached`` and ``actor-sign-flipped``: the lecture variant at its safe
  learning rate with one known bug each (3 seeds each).

``DIR/runs.json`` is a list of run records ``{"variant", "seed", "lr", "label", "episodes",
"env_steps", "seconds", "solved", "solved_at_episode", "solved_at_step", "mean_return_last_100",
"episode_returns", "max_abs_diff", "agree"}``; it is rewritten after every run, so an interrupted
sweep keeps the runs done. ``DIR/README.md`` says how it was made and summarises it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from numeric.cartpole.batched import BatchedConfig
from numeric.cartpole.common import EpisodeLog
from numeric.cartpole.lecture import LectureConfig
from numeric.cartpole.rollout_check import RolloutCallback, RolloutChecker

SEEDS = (1, 2, 3, 4, 5)
BROKEN_SEEDS = (1, 2, 3)
SWEEP_LRS = (3e-4, 1e-3, 1e-2, 3e-2)
DEFAULT_LR = 3e-3
# Enough for lr 1e-3 to solve; a collapsed policy (~9.4 steps an episode) shows it stays collapsed
# over thousands of episodes long before either limit.
SWEEP_MAX_ENV_STEPS = 150_000
SWEEP_MAX_SECONDS = 30.0
# The mean return of a policy that always pushes the same way is 9.4 (8-11).
COLLAPSED_BELOW = 15.0


def make_config(variant: str, **overrides: Any) -> LectureConfig | BatchedConfig:
    """The variant's config dataclass with ``overrides`` (any of its fields)."""
    if variant == "lecture":
        return replace(LectureConfig(), **overrides)
    if variant == "batched":
        return replace(BatchedConfig(), **overrides)
    raise ValueError(f"unknown variant {variant!r}; choose 'lecture' or 'batched'")


def train_variant(
    variant: str,
    cfg: LectureConfig | BatchedConfig,
    *,
    log: EpisodeLog,
    on_rollout: RolloutCallback | None = None,
):
    """Train ``variant`` with ``cfg``, feeding ``log`` and ``on_rollout``; the learner's result."""
    if variant == "lecture":
        from numeric.cartpole.lecture import train
    elif variant == "batched":
        from numeric.cartpole.batched import train
    else:
        raise ValueError(f"unknown variant {variant!r}")
    return train(cfg, log=log, on_rollout=on_rollout)


@dataclass(frozen=True)
class RunSpec:
    variant: str
    seed: int
    lr: float
    label: str
    overrides: tuple[tuple[str, Any], ...] = ()


def plan(quick: bool = False) -> list[RunSpec]:
    """Every run of the experiment, in order (``quick``: one seed each, for a smoke test)."""
    seeds = SEEDS[:1] if quick else SEEDS
    broken_seeds = BROKEN_SEEDS[:1] if quick else BROKEN_SEEDS
    sweep_budget = (("max_env_steps", SWEEP_MAX_ENV_STEPS), ("max_seconds", SWEEP_MAX_SECONDS))
    specs = [
        RunSpec(variant, seed, DEFAULT_LR, "default")
        for variant in ("lecture", "batched")
        for seed in seeds
    ]
    specs += [
        RunSpec("lecture", seed, lr, "lr-sweep", sweep_budget) for lr in SWEEP_LRS for seed in seeds
    ]
    specs += [
        RunSpec("lecture", seed, DEFAULT_LR, label, ((switch, value), *sweep_budget))
        for label, switch, value in (
            ("critic-target-not-detached", "critic_target_detached", False),
            ("actor-sign-flipped", "actor_sign_flipped", True),
        )
        for seed in broken_seeds
    ]
    return specs


def run_one(spec: RunSpec, *, max_seconds_scale: float = 1.0) -> dict[str, Any]:
    """Train one run with the rollout check; its record for ``runs.json``."""
    overrides = dict(spec.overrides)
    cfg = make_config(spec.variant, seed=spec.seed, lr=spec.lr, **overrides)
    cfg = replace(cfg, max_seconds=cfg.max_seconds * max_seconds_scale)
    log = EpisodeLog()
    checker = RolloutChecker()
    train_variant(spec.variant, cfg, log=log, on_rollout=checker)
    summary = checker.summary()
    return {
        "variant": spec.variant,
        "seed": spec.seed,
        "lr": spec.lr,
        "label": spec.label,
        "episodes": len(log.returns),
        "env_steps": log.env_steps,
        "seconds": round(log.seconds, 2),
        "solved": log.solved,
        "solved_at_episode": log.solved_at_episode,
        "solved_at_step": log.solved_at_step,
        "mean_return_last_100": round(log.mean_last_100(), 2),
        "episode_returns": [int(r) for r in log.returns],
        "max_abs_diff": summary["max_abs_diff"],
        "agree": summary["agree"],
    }


def _table(records: list[dict[str, Any]]) -> str:
    lines = [
        "| label | variant | lr | seed | solved | episodes | env steps | seconds | "
        "mean last 100 | max abs diff | agree |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        lines.append(
            f"| {r['label']} | {r['variant']} | {r['lr']:g} | {r['seed']} | "
            f"{'yes' if r['solved'] else 'no'} | {r['episodes']} | {r['env_steps']} | "
            f"{r['seconds']:.1f} | {r['mean_return_last_100']:.1f} | {r['max_abs_diff']:.1e} | "
            f"{'yes' if r['agree'] else 'no'} |"
        )
    return "\n".join(lines)


def _groups(records: list[dict[str, Any]]) -> str:
    """Per (label, variant, lr): solved k/n, collapsed k/n, median env steps to solve."""
    lines = [
        "| label | variant | lr | solved | collapsed (mean last 100 < 15) "
        "| median steps to solve |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    keys = dict.fromkeys((r["label"], r["variant"], r["lr"]) for r in records)
    for label, variant, lr in keys:
        group = [r for r in records if (r["label"], r["variant"], r["lr"]) == (label, variant, lr)]
        solved = [r["solved_at_step"] for r in group if r["solved"]]
        collapsed = sum(r["mean_return_last_100"] < COLLAPSED_BELOW for r in group)
        median = f"{statistics.median(solved):.0f}" if solved else "-"
        lines.append(
            f"| {label} | {variant} | {lr:g} | {len(solved)}/{len(group)} | "
            f"{collapsed}/{len(group)} | {median} |"
        )
    return "\n".join(lines)


def write_readme(out: Path, records: list[dict[str, Any]], command: str, seconds: float) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"""# CartPole-v1 runs for the lecture notes

Produced by `{command}` (numeric/cartpole/experiments.py), {stamp},
on {platform.machine()} with {platform.python_implementation()} {platform.python_version()}, torch
single-threaded; {len(records)} runs in {seconds:.0f} s. Wall-clock seconds were taken on a shared
2-core machine under load (other jobs running): compare env steps, which do not depend on load.
`seconds` is training time; the rollout check runs off that clock.

`runs.json`: a list of run records `{{"variant", "seed", "lr", "label", "episodes", "env_steps",
"seconds", "solved", "solved_at_episode", "solved_at_step", "mean_return_last_100",
"episode_returns", "max_abs_diff", "agree"}}`. `solved` means the mean return of 100 consecutive
episodes reached 475 (CartPole-v1's reward threshold); `solved_at_step` counts env steps up to the
episode that got there. `label`:

- `default`: lr 3e-3, trained until solved (budget 120 s lecture, 60 s batched);
- `lr-sweep`: the lecture variant at other learning rates (the lr 3e-3 points are the `default`
  lecture runs), at most {SWEEP_MAX_ENV_STEPS} env steps or {SWEEP_MAX_SECONDS:.0f} s;
- `critic-target-not-detached`: lecture variant, lr 3e-3, critic target `returns = adv.detach() +
  values` (keeps V's graph: the critic gradient is exactly 0, V never learns);
- `actor-sign-flipped`: lecture variant, lr 3e-3, actor loss `+mean(log pi * A)`.

A mean return of ~9.4 is a collapsed policy that always pushes the same way (the lecture's
"settled down to 9-10"). `max_abs_diff`/`agree`: the rollout check
(numeric/cartpole/rollout_check.py) over every rollout of the run: the numeric kernels against
the advantages and returns the training loop computed (float32 loop vs float64 kernels) and the
identities between kernels, each within a rounding bound per rollout (16 roundings per step x
unit roundoff x the rollout's largest magnitude x the steps an error can travel).

{_groups(records)}

Every run:

{_table(records)}
"""
    (out / "README.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m numeric.cartpole.experiments",
        description="Run the CartPole experiments (5 seeds x 2 variants, the lecture's lr sweep, "
        "the broken variants) and save them for the lecture notes.\n\nexample:\n"
        "  python -m numeric.cartpole.experiments --out docs/data/cartpole",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("docs/data/cartpole"))
    parser.add_argument("--quick", action="store_true", help="one seed per setting, short budgets")
    parser.add_argument(
        "--labels",
        default="default,lr-sweep,critic-target-not-detached,actor-sign-flipped",
        help="comma-separated labels to run (default: all)",
    )
    args = parser.parse_args(argv)
    labels = set(args.labels.split(","))
    specs = [s for s in plan(quick=args.quick) if s.label in labels]
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m numeric.cartpole.experiments " + " ".join(
        sys.argv[1:] if argv is None else argv
    )

    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, spec in enumerate(specs, 1):
        record = run_one(spec, max_seconds_scale=0.25 if args.quick else 1.0)
        records.append(record)
        (args.out / "runs.json").write_text(json.dumps(records, separators=(",", ":")) + "\n")
        print(
            f"[{i}/{len(specs)}] {spec.label} {spec.variant} lr={spec.lr:g} seed={spec.seed}: "
            f"solved={record['solved']} at step {record['solved_at_step']}, "
            f"{record['env_steps']} steps, {record['seconds']:.1f} s, "
            f"mean100={record['mean_return_last_100']:.1f}, "
            f"max_abs_diff={record['max_abs_diff']:.1e}, agree={record['agree']}",
            file=sys.stderr,
            flush=True,
        )
    write_readme(args.out, records, command.strip(), time.perf_counter() - started)
    return 0 if all(r["agree"] for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
