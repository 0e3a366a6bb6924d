"""What both CartPole learners share: networks, episode log, stopping rule, train result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ENV_ID = "CartPole-v1"
# CartPole-v1's spec: reward_threshold = 475 over 100 consecutive episodes.
SOLVED_MEAN_RETURN = 475.0
SOLVED_WINDOW = 100

EpisodeCallback = Callable[["EpisodeRecord"], None]


def mlp(n_in: int, n_out: int, hidden: int, *, out_gain: float):
    """A 64-64 tanh MLP with orthogonal init (CleanRL's ``layer_init``); small ``out_gain`` for the
    policy head so the first policy is close to uniform."""
    import torch
    from torch import nn

    def layer(a: int, b: int, gain: float) -> nn.Linear:
        lin = nn.Linear(a, b)
        nn.init.orthogonal_(lin.weight, gain)
        nn.init.zeros_(lin.bias)
        return lin

    return nn.Sequential(
        layer(n_in, hidden, float(np.sqrt(2))),
        nn.Tanh(),
        layer(hidden, hidden, float(np.sqrt(2))),
        nn.Tanh(),
        layer(hidden, n_out, out_gain),
    ).to(torch.float32)


@dataclass(frozen=True)
class EpisodeRecord:
    """One finished episode: its 1-based index, return, length and the run's clock at its end."""

    episode: int
    episode_return: float
    length: int
    env_steps: int
    seconds: float
    mean_return_last_100: float


@dataclass
class EpisodeLog:
    """Episode returns in the order episodes end; when the 100-episode mean first reached 475."""

    on_episode: EpisodeCallback | None = None
    started: float = field(default_factory=time.perf_counter)
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    solved_at_episode: int | None = None
    solved_at_step: int | None = None
    solved_at_seconds: float | None = None
    check_seconds: float = 0.0
    env_steps: int = 0  # kept current by the learner, so an interrupted run still knows it

    @property
    def seconds(self) -> float:
        """Training wall-clock: time since start, less the time spent checking rollouts."""
        return time.perf_counter() - self.started - self.check_seconds

    def timed_check(self, check: Callable[[], None]) -> None:
        """Run a rollout check off the training clock (reported apart as ``check_seconds``)."""
        t0 = time.perf_counter()
        try:
            check()
        finally:
            self.check_seconds += time.perf_counter() - t0

    @property
    def solved(self) -> bool:
        return self.solved_at_episode is not None

    def mean_last_100(self) -> float:
        if not self.returns:
            return 0.0
        return float(np.mean(self.returns[-SOLVED_WINDOW:]))

    def add(self, episode_return: float, length: int, env_steps: int) -> None:
        self.returns.append(float(episode_return))
        self.lengths.append(int(length))
        mean100 = self.mean_last_100()
        now = self.seconds
        if (
            self.solved_at_episode is None
            and len(self.returns) >= SOLVED_WINDOW
            and mean100 >= SOLVED_MEAN_RETURN
        ):
            self.solved_at_episode = len(self.returns)
            self.solved_at_step = env_steps
            self.solved_at_seconds = now
        if self.on_episode is not None:
            self.on_episode(
                EpisodeRecord(
                    len(self.returns), float(episode_return), int(length), env_steps, now, mean100
                )
            )


@dataclass(frozen=True)
class Budget:
    """Stop at whichever comes first: solved (if asked), the wall-clock or the env-step budget."""

    max_seconds: float
    max_env_steps: int
    stop_when_solved: bool

    def exhausted(self, log: EpisodeLog, env_steps: int) -> bool:
        return (
            (self.stop_when_solved and log.solved)
            or env_steps >= self.max_env_steps
            or log.seconds >= self.max_seconds
        )


@dataclass
class TrainResult:
    """What ``train`` returns: the episode log, env steps taken, updates made, training seconds."""

    log: EpisodeLog
    env_steps: int
    updates: int
    seconds: float
