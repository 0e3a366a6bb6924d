"""The one place the sweep imports the CartPole learners from (if they move, follow them here)."""

from __future__ import annotations

from types import ModuleType


def cartpole_experiments() -> ModuleType:
    """The module with ``make_config``, ``train_variant`` and ``plan`` (the experiments)."""
    import numeric.cartpole.experiments as experiments

    return experiments


def episode_log_class() -> type:
    from numeric.cartpole.common import EpisodeLog

    return EpisodeLog


def rollout_checker_class() -> type:
    from numeric.cartpole.rollout_check import RolloutChecker

    return RolloutChecker
