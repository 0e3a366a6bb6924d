"""What one run of a sweep is (:class:`RunConfig`), and the lists of runs a sweep is made of.

A run is identified by its whole configuration: the learner (``variant``), γ, λ, the learning
rate, the seed, the budget and any other learner option it changes (``overrides``). Two runs
with the same configuration are the same run; ``--resume`` relies on that (:func:`run_key`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

VARIANTS = ("batched", "lecture")
GRID_LABEL = "grid"


@dataclass(frozen=True)
class RunConfig:
    """One CartPole run: a learner and the settings it is trained with.

    ``max_seconds=None`` means no wall-clock budget: the run stops when solved (100-episode mean
    return ≥ 475) or after ``max_env_steps`` environment steps, so its result does not depend on
    how loaded the machine is. ``overrides`` are other fields of the learner's config
    (``LectureConfig``/``BatchedConfig``), as sorted ``(name, value)`` pairs.
    ``keep_episode_returns`` also records every episode's return (the learning-curve figures of
    the notes' CartPole section need them; grid runs keep a summary curve only).
    """

    variant: str
    gamma: float
    lam: float
    lr: float
    seed: int
    max_env_steps: int
    max_seconds: float | None = None
    label: str = GRID_LABEL
    overrides: tuple[tuple[str, Any], ...] = field(default=())
    keep_episode_returns: bool = False

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {VARIANTS}")
        object.__setattr__(self, "overrides", tuple(sorted(self.overrides)))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``overrides`` as an object."""
        return {
            "variant": self.variant,
            "gamma": self.gamma,
            "lam": self.lam,
            "lr": self.lr,
            "seed": self.seed,
            "max_env_steps": self.max_env_steps,
            "max_seconds": self.max_seconds,
            "label": self.label,
            "overrides": dict(self.overrides),
            "keep_episode_returns": self.keep_episode_returns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(
            variant=data["variant"],
            gamma=float(data["gamma"]),
            lam=float(data["lam"]),
            lr=float(data["lr"]),
            seed=int(data["seed"]),
            max_env_steps=int(data["max_env_steps"]),
            max_seconds=None if data.get("max_seconds") is None else float(data["max_seconds"]),
            label=str(data.get("label", GRID_LABEL)),
            overrides=tuple((data.get("overrides") or {}).items()),
            keep_episode_returns=bool(data.get("keep_episode_returns", False)),
        )

    @property
    def key(self) -> str:
        return run_key(self.as_dict())


def run_key(config: dict[str, Any]) -> str:
    """The identity of a run: its configuration as canonical JSON (sorted keys, no spaces).

    Numbers are normalised through ``float``/``int`` first (:meth:`RunConfig.from_dict`), so
    ``0.5`` typed as ``.5`` or ``5e-1`` is the same run.
    """
    normal = RunConfig.from_dict(config).as_dict()
    return json.dumps(normal, sort_keys=True, separators=(",", ":"))


def grid(
    *,
    variants: Sequence[str],
    gammas: Sequence[float],
    lams: Sequence[float],
    lrs: Sequence[float],
    seeds: Sequence[int],
    max_env_steps: int,
    max_seconds: float | None = None,
) -> list[RunConfig]:
    """The product seed × variant × γ × λ × lr, in that order (seeds outermost), no duplicates.

    Seeds outermost: a sweep stopped part way (or still running) has the first k seeds of
    *every* setting, a balanced design that ``--resume`` completes seed by seed, rather than
    some settings done and others not started.
    """
    configs = [
        RunConfig(variant, float(g), float(l), float(lr), int(s), int(max_env_steps), max_seconds)
        for s, variant, g, l, lr in itertools.product(seeds, variants, gammas, lams, lrs)
    ]
    return list(_unique(configs))


def _unique(configs: Iterable[RunConfig]) -> Iterable[RunConfig]:
    seen: set[str] = set()
    for config in configs:
        if config.key not in seen:
            seen.add(config.key)
            yield config


def experiments_plan(quick: bool = False) -> list[RunConfig]:
    """The runs of ``numeric.cartpole.experiments`` (default settings of both learners, the
    learning-rate sweep, the collapse, the two bug variants) as sweep runs.

    Budgets are the experiment's own (its ``max_env_steps``/``max_seconds`` overrides, else the
    learner's defaults) and every run keeps its episode returns, so the records can be written
    in the experiment's ``runs.json`` format (:func:`numeric.sweep.run.as_experiment_record`).
    """
    from numeric.sweep.learners import cartpole_experiments

    experiments = cartpole_experiments()
    configs = []
    for spec in experiments.plan(quick=quick):
        overrides = dict(spec.overrides)
        defaults = experiments.make_config(spec.variant)
        max_env_steps = int(overrides.pop("max_env_steps", defaults.max_env_steps))
        max_seconds = float(overrides.pop("max_seconds", defaults.max_seconds))
        if quick:
            max_seconds *= 0.25  # as ``python -m numeric.cartpole.experiments --quick``
        configs.append(
            RunConfig(
                variant=spec.variant,
                gamma=float(defaults.gamma),
                lam=float(defaults.lam),
                lr=float(spec.lr),
                seed=int(spec.seed),
                max_env_steps=max_env_steps,
                max_seconds=max_seconds,
                label=spec.label,
                overrides=tuple(overrides.items()),
                keep_episode_returns=True,
            )
        )
    return list(_unique(configs))


__all__ = ["GRID_LABEL", "VARIANTS", "RunConfig", "experiments_plan", "grid", "run_key"]
