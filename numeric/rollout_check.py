"""Check the public ``numeric`` estimators against the rollouts a real actor-critic trained on.

Every rollout a learner uses is recorded as a :class:`Rollout` (time-major ``(T, B)`` arrays in
the trajectory convention of DESIGN.md, plus the advantages and returns that the training loop
itself computed), and :class:`RolloutChecker` runs these checks on it:

==================================  ==========================================================
``gae-numpy-vs-loop``               ``numeric.gae`` on float64 numpy = the loop's advantages
``gae-torch-vs-loop``               ``numeric.gae`` on float32 torch tensors = the loop's advantages
``lambda-return-vs-loop-returns``   ``numeric.lambda_return`` = the loop's returns (critic targets)
``td-error-vs-gae-lambda0``         ``td_error`` = ``gae(λ=0)``
``mc-advantage-vs-gae-lambda1``     ``mc_advantage`` = ``gae(λ=1)``
``mc-advantage-vs-raw-returns``     ``mc_advantage`` = Σ_l γ^l r_{t+l} (+ γ^L V(s_final) if the
                                    episode was truncated) − V(s_t), summed straight from the raw
                                    rewards, on every step whose episode ended inside the rollout
``lambda-return-minus-values``      ``lambda_return − values`` = ``gae``
==================================  ==========================================================

Tolerances. The training loop works in float32 (torch's default dtype), the kernels are run in
float64 on the same inputs: one float32 rounding (~6e-8 relative) per step of a backward
recursion over up to 500 steps, on advantages of size up to ~100 (returns with γ = 0.99), gives
differences of a few 1e-5 (CARTPOLE-NOTES measured up to 4.9e-5 over whole runs), so the checks
against the loop use ``FLOAT32_TOLERANCE = 2e-4`` absolute. The identities between kernels are all
evaluated in float64 from the same inputs, where the rounding is ~1e-13: ``FLOAT64_TOLERANCE =
1e-8`` absolute.

Only ``valid`` steps are compared: with gymnasium 1.x NEXT_STEP autoreset the step after an
episode end is a dummy (reward 0, action ignored) that enters neither the advantages of real steps
(the λ-chain is cut at ``done``) nor the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import numeric

FLOAT32_TOLERANCE = 2e-4
FLOAT64_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Rollout:
    """One rollout as the learner used it; arrays of shape ``(T, B)``.

    ``rewards``, ``values`` (V(s_t)), ``next_values`` (V of the observation returned by step t,
    the *final* observation when the episode ended there), ``advantages`` and ``returns`` are the
    float32 arrays of the training loop; ``terminated``/``truncated`` are the flags that describe
    what the loop did (bool); ``valid`` marks the steps that entered the loss.
    """

    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    gamma: float
    lam: float

    @property
    def steps(self) -> int:
        return int(self.valid.sum())


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    tolerance: float


CHECKS = (
    Check(
        "gae-numpy-vs-loop",
        "numeric.gae (numpy, float64) equals the advantages the training loop computed (float32)",
        FLOAT32_TOLERANCE,
    ),
    Check(
        "gae-torch-vs-loop",
        "numeric.gae (torch, float32) equals the advantages the training loop computed (float32)",
        FLOAT32_TOLERANCE,
    ),
    Check(
        "lambda-return-vs-loop-returns",
        "numeric.lambda_return (float64) equals the returns (critic targets) of the training loop",
        FLOAT32_TOLERANCE,
    ),
    Check(
        "td-error-vs-gae-lambda0",
        "numeric.td_error equals numeric.gae at lambda = 0 (float64)",
        FLOAT64_TOLERANCE,
    ),
    Check(
        "mc-advantage-vs-gae-lambda1",
        "numeric.mc_advantage equals numeric.gae at lambda = 1 (float64)",
        FLOAT64_TOLERANCE,
    ),
    Check(
        "mc-advantage-vs-raw-returns",
        "numeric.mc_advantage equals sum_l gamma^l r_{t+l} (+ gamma^L V(final obs) when truncated)"
        " - V(s_t), summed from the raw rewards, wherever the episode ended inside the rollout",
        FLOAT64_TOLERANCE,
    ),
    Check(
        "lambda-return-minus-values",
        "numeric.lambda_return - values equals numeric.gae (float64)",
        FLOAT64_TOLERANCE,
    ),
)


def discounted_returns_of_ended_episodes(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """G_t = Σ_{u=t}^{e} γ^{u−t} r_u + γ^{e−t+1} (1 − terminated_e) V(s'_e), e = the episode end.

    Summed directly (a triangular matrix of powers of γ per episode, no recursion), in float64,
    for the steps whose episode ends (terminated or truncated) inside the rollout. Returns
    ``(G, ended)``: ``ended`` marks the steps where ``G`` is defined; elsewhere ``G`` is NaN.
    Shapes ``(T, B)``.
    """
    r = rewards.astype(np.float64)
    nv = next_values.astype(np.float64)
    done = terminated | truncated
    T, B = r.shape
    G = np.full((T, B), np.nan)
    ended = np.zeros((T, B), dtype=bool)
    for b in range(B):
        start = 0
        for end in np.flatnonzero(done[:, b]):
            L = end - start + 1
            lags = np.arange(L)
            # powers[i, u] = γ^(u − i) for u ≥ i, else 0
            powers = np.triu(float(gamma) ** (lags[None, :] - lags[:, None]).clip(min=0))
            seg = powers @ r[start : end + 1, b]
            if not terminated[end, b]:
                seg = seg + float(gamma) ** (L - lags) * nv[end, b]
            G[start : end + 1, b] = seg
            ended[start : end + 1, b] = True
            start = end + 1
    return G, ended


def _max_abs(a: Any, b: Any, mask: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if not mask.any():
        return 0.0
    return float(np.max(np.abs(a[mask] - b[mask])))


def check_rollout(rollout: Rollout) -> dict[str, tuple[float, int]]:
    """Run every check on one rollout; ``{name: (max_abs_diff, steps compared)}``."""
    import torch

    g, lam = rollout.gamma, rollout.lam
    inputs64 = (
        rollout.rewards.astype(np.float64),
        rollout.values.astype(np.float64),
        rollout.next_values.astype(np.float64),
        rollout.terminated,
        rollout.truncated,
    )
    inputs_torch = tuple(
        torch.from_numpy(np.ascontiguousarray(x))
        for x in (
            rollout.rewards.astype(np.float32),
            rollout.values.astype(np.float32),
            rollout.next_values.astype(np.float32),
            rollout.terminated,
            rollout.truncated,
        )
    )
    valid = rollout.valid
    n_valid = int(valid.sum())

    adv64 = numeric.gae(*inputs64, gamma=g, lam=lam)
    adv_torch = numeric.gae(*inputs_torch, gamma=g, lam=lam).detach().cpu().numpy()
    lret64 = numeric.lambda_return(*inputs64, gamma=g, lam=lam)
    td = numeric.td_error(*inputs64, gamma=g)
    gae0 = numeric.gae(*inputs64, gamma=g, lam=0.0)
    mc = numeric.mc_advantage(*inputs64, gamma=g)
    gae1 = numeric.gae(*inputs64, gamma=g, lam=1.0)
    raw_returns, ended = discounted_returns_of_ended_episodes(
        rollout.rewards, rollout.next_values, rollout.terminated, rollout.truncated, g
    )
    on_ended = valid & ended

    return {
        "gae-numpy-vs-loop": (_max_abs(adv64, rollout.advantages, valid), n_valid),
        "gae-torch-vs-loop": (_max_abs(adv_torch, rollout.advantages, valid), n_valid),
        "lambda-return-vs-loop-returns": (_max_abs(lret64, rollout.returns, valid), n_valid),
        "td-error-vs-gae-lambda0": (_max_abs(td, gae0, valid), n_valid),
        "mc-advantage-vs-gae-lambda1": (_max_abs(mc, gae1, valid), n_valid),
        "mc-advantage-vs-raw-returns": (
            _max_abs(mc, raw_returns - inputs64[1], on_ended),
            int(on_ended.sum()),
        ),
        "lambda-return-minus-values": (_max_abs(lret64 - inputs64[1], adv64, valid), n_valid),
    }


@dataclass
class RolloutChecker:
    """Accumulates the checks over every rollout of a run (usable as a learner's ``on_rollout``).

    ``keep=True`` also keeps the rollouts themselves (for tests and offline inspection).
    """

    keep: bool = False
    rollouts_checked: int = 0
    steps_checked: int = 0
    max_abs_diff: dict[str, float] = field(default_factory=lambda: {c.name: 0.0 for c in CHECKS})
    steps_compared: dict[str, int] = field(default_factory=lambda: {c.name: 0 for c in CHECKS})
    kept: list[Rollout] = field(default_factory=list)

    def __call__(self, rollout: Rollout) -> None:
        self.add(rollout)

    def add(self, rollout: Rollout) -> None:
        for name, (diff, steps) in check_rollout(rollout).items():
            self.max_abs_diff[name] = max(self.max_abs_diff[name], diff)
            self.steps_compared[name] += steps
        self.rollouts_checked += 1
        self.steps_checked += rollout.steps
        if self.keep:
            self.kept.append(rollout)

    @property
    def agree(self) -> bool:
        """Every check within its tolerance, on at least one rollout."""
        return self.rollouts_checked > 0 and all(
            self.max_abs_diff[c.name] <= c.tolerance for c in CHECKS
        )

    def summary(self) -> dict[str, Any]:
        """The JSON-ready part of a report: counts, worst difference, tolerance, each check."""
        checks = [
            {
                "name": c.name,
                "description": c.description,
                "max_abs_diff": self.max_abs_diff[c.name],
                "tolerance": c.tolerance,
                "steps_compared": self.steps_compared[c.name],
                "agree": self.rollouts_checked > 0 and self.max_abs_diff[c.name] <= c.tolerance,
            }
            for c in CHECKS
        ]
        return {
            "rollouts_checked": self.rollouts_checked,
            "steps_checked": self.steps_checked,
            "max_abs_diff": max(self.max_abs_diff.values()),
            "tolerance": FLOAT32_TOLERANCE,
            "tolerance_why": (
                f"{FLOAT32_TOLERANCE:g} absolute where the training loop's float32 advantages are "
                "compared with a float64 recomputation (one float32 rounding per step of a "
                "recursion over up to 500 steps, advantages up to ~100); "
                f"{FLOAT64_TOLERANCE:g} for identities between kernels, all in float64"
            ),
            "agree": self.agree,
            "checks": checks,
        }


RolloutCallback = Callable[[Rollout], None]
