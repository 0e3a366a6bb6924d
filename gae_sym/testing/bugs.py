"""Known GAE bugs as mutations of the reference, and diagnosis by matching outputs.

Each :class:`KnownBug` computes what a function with that mistake returns on a
:class:`Trajectory`. To diagnose a failing implementation we compare its outputs on every
case it was run on (the edge cases and the counterexample) with each mutation's outputs: a
mutation that reproduces all of them is the diagnosis.

The correct recursion (Schulman et al. 2016, eq. 16, with done cuts; DESIGN.md)::

    δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
    A_t = δ_t + γλ (1 − done_t) A_{t+1},   A_T = 0,   done_t = terminated_t ∨ truncated_t

The mutations change one piece of it: which mask multiplies the bootstrap (``bootstrap``),
which one cuts the carried sum (``carry``), the decay of the carry, the value bootstrapped
from, the loop direction, or what is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gae_sym.testing.trajectories import CONVENTIONS, Trajectory


def _recursion(
    traj: Trajectory,
    *,
    bootstrap: np.ndarray | None = None,
    carry: np.ndarray | None = None,
    next_values: np.ndarray | None = None,
    decay: float | None = None,
    forward: bool = False,
    dtype: np.dtype | None = None,
) -> np.ndarray:
    """A_t = δ_t + decay · carry_t · A_{t±1} with δ_t = r_t + γ bootstrap_t V'_t − V_t.

    Defaults give the correct GAE: bootstrap = 1 − terminated, carry = 1 − done,
    decay = γλ, backward in time.
    """
    dtype = np.dtype(dtype or traj.dtype)
    r, v = traj.rewards.astype(dtype), traj.values.astype(dtype)
    nv = (traj.next_values if next_values is None else next_values).astype(dtype)
    boot = (~traj.terminated if bootstrap is None else bootstrap).astype(dtype)
    cut = (~traj.done if carry is None else carry).astype(dtype)
    gamma = dtype.type(traj.gamma)
    k = gamma * dtype.type(traj.lam) if decay is None else dtype.type(decay)
    delta = r + gamma * boot * nv - v
    out = np.empty_like(delta)
    acc = np.zeros(delta.shape[1:], dtype)
    steps = range(traj.length) if forward else range(traj.length - 1, -1, -1)
    for t in steps:
        acc = delta[t] + k * cut[t] * acc
        out[t] = acc
    return out


def _shift(flags: np.ndarray, by: int) -> np.ndarray:
    """flags[t + by], with False where t + by falls outside the segment."""
    out = np.zeros_like(flags)
    if by > 0:
        out[:-by] = flags[by:]
    else:
        out[-by:] = flags[:by]
    return out


def _mask_late(traj: Trajectory) -> np.ndarray:
    return _recursion(traj, bootstrap=~_shift(traj.terminated, 1), carry=~_shift(traj.done, 1))


def _mask_early(traj: Trajectory) -> np.ndarray:
    return _recursion(traj, bootstrap=~_shift(traj.terminated, -1), carry=~_shift(traj.done, -1))


def _values_after(traj: Trajectory) -> np.ndarray:
    """values[t + 1] for t < T − 1 and next_values[T − 1]: V of the next *stored* state."""
    return np.concatenate([traj.values[1:], traj.next_values[-1:]], axis=0)


def _segment_end_dropped(traj: Trajectory) -> np.ndarray:
    boot = ~traj.terminated
    boot[-1] = False
    return _recursion(traj, bootstrap=boot)


ALL = CONVENTIONS
WITH_DONES = ("masked", "canonical")


@dataclass(frozen=True)
class KnownBug:
    """A realistic mistake: its name, what the code does, the fix in one line, its output."""

    name: str
    summary: str
    fix: str
    conventions: tuple[str, ...]
    compute: Callable[[Trajectory], np.ndarray]

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "summary": self.summary, "fix": self.fix}


# Order matters only where two mutations agree on every case run; the more specific first.
KNOWN_BUGS: tuple[KnownBug, ...] = (
    KnownBug(
        "lambda-returns-instead-of-advantages",
        "returns the λ-returns A_t + V(s_t) (critic targets), not the advantages A_t",
        "return the advantages; the returns for the critic are advantages + values",
        ALL,
        lambda tr: _recursion(tr) + tr.values,
    ),
    KnownBug(
        "td-errors-instead-of-advantages",
        "returns the one-step TD errors δ_t instead of the accumulated advantages",
        "store the running sum: gae = delta + gamma * lam * mask * gae; advantages[t] = gae",
        ALL,
        lambda tr: _recursion(tr, decay=0.0),
    ),
    KnownBug(
        "done-mask-ignored",
        "ignores the done flags: bootstraps through terminations and carries across episodes",
        "multiply both the bootstrap term and the carried sum by the mask (1 - done)",
        WITH_DONES,
        lambda tr: _recursion(tr, bootstrap=np.ones_like(tr.done), carry=np.ones_like(tr.done)),
    ),
    KnownBug(
        "done-mask-missing-in-bootstrap",
        "δ_t bootstraps γ V(s'_t) even when step t terminated the episode",
        "delta = r[t] + gamma * next_value * mask[t] - values[t]",
        WITH_DONES,
        lambda tr: _recursion(tr, bootstrap=np.ones_like(tr.done)),
    ),
    KnownBug(
        "done-mask-missing-in-carry",
        "the carried sum runs across episode boundaries (no mask on γλ A_{t+1})",
        "gae = delta + gamma * lam * mask[t] * gae",
        WITH_DONES,
        lambda tr: _recursion(tr, carry=np.ones_like(tr.done)),
    ),
    KnownBug(
        "mask-inverted",
        "multiplies by done where it should multiply by 1 - done (masks and dones swapped)",
        "use mask = 1 - done: 0 at the step that ended the episode, 1 elsewhere",
        WITH_DONES,
        lambda tr: _recursion(tr, bootstrap=tr.terminated.copy(), carry=tr.done.copy()),
    ),
    KnownBug(
        "mask-read-one-step-late",
        "reads the mask of step t + 1 for step t (CleanRL's dones[t + 1] indexing applied "
        "to masks that belong to the step that ended the episode)",
        "use masks[t] (the step that produced r_t) for both the bootstrap and the carry",
        WITH_DONES,
        _mask_late,
    ),
    KnownBug(
        "mask-read-one-step-early",
        "reads the mask of step t − 1 for step t",
        "use masks[t] (the step that produced r_t) for both the bootstrap and the carry",
        WITH_DONES,
        _mask_early,
    ),
    KnownBug(
        "truncation-treated-as-termination",
        "does not bootstrap at a time-limit truncation (uses done where terminated belongs)",
        "bootstrap with (1 - terminated[t]) * next_values[t]; cut the carry with (1 - done[t])",
        ("canonical",),
        lambda tr: _recursion(tr, bootstrap=~tr.done),
    ),
    KnownBug(
        "truncation-ignored",
        "the carried sum runs across a truncation into the next episode (cut by terminated only)",
        "cut the carry with done = terminated | truncated: gae = delta + gamma*lam*(1-done)*gae",
        ("canonical",),
        lambda tr: _recursion(tr, carry=~tr.terminated),
    ),
    KnownBug(
        "bootstrap-from-reset-state",
        "bootstraps from values[t + 1] (the reset state after a done) instead of next_values[t]",
        "bootstrap with next_values[t], the value of the final observation of step t",
        ("canonical",),
        lambda tr: _recursion(tr, next_values=_values_after(tr)),
    ),
    KnownBug(
        "next-value-not-updated",
        "every δ_t bootstraps from next_value (the lecture's `next_value = values[t]` is missing)",
        "after computing advantages[t], set next_value = values[t]",
        ("lecture", "masked"),
        lambda tr: _recursion(
            tr, next_values=np.broadcast_to(tr.next_values[-1:], tr.rewards.shape)
        ),
    ),
    KnownBug(
        "next-value-updated-too-early",
        "δ_t bootstraps from V(s_t) instead of V(s_{t+1}) (`next_value = values[t]` before δ_t)",
        "compute delta with the old next_value, then set next_value = values[t]",
        ("lecture", "masked"),
        lambda tr: _recursion(tr, next_values=tr.values),
    ),
    KnownBug(
        "segment-end-not-bootstrapped",
        "the last step bootstraps from 0 instead of next_value (values padded with 0)",
        "bootstrap the last step with next_value: values + [next_value]",
        ALL,
        _segment_end_dropped,
    ),
    KnownBug(
        "lambda-without-gamma",
        "the carried sum decays by λ instead of γλ",
        "gae = delta + gamma * lam * mask * gae",
        ALL,
        lambda tr: _recursion(tr, decay=tr.lam),
    ),
    KnownBug(
        "gamma-applied-twice",
        "the carried sum decays by γ²λ (γ multiplied in twice)",
        "gae = delta + gamma * lam * mask * gae (γ once)",
        ALL,
        lambda tr: _recursion(tr, decay=tr.gamma**2 * tr.lam),
    ),
    KnownBug(
        "lambda-ignored",
        "the carried sum decays by γ alone: Monte-Carlo advantages (λ = 1) for every λ",
        "gae = delta + gamma * lam * mask * gae",
        ALL,
        lambda tr: _recursion(tr, decay=tr.gamma),
    ),
    KnownBug(
        "output-not-reversed",
        "the backward loop appends A_{T-1}, ..., A_0 and returns them in that order",
        "insert at the front (advantages.insert(0, gae)) or reverse the list before returning",
        ALL,
        lambda tr: _recursion(tr)[::-1].copy(),
    ),
    KnownBug(
        "forward-recursion",
        "the recursion runs forward in time (A_t built from A_{t-1}) instead of backward",
        "loop backwards: for t in reversed(range(T))",
        ALL,
        lambda tr: _recursion(tr, forward=True),
    ),
    KnownBug(
        "float32-accumulation",
        "computes in float32 but returns float64 numbers (errors of about 1e-7 relative)",
        "accumulate in float64 (e.g. np.zeros(T, dtype=np.float64)), or return a float32 array",
        ALL,
        lambda tr: _recursion(tr, dtype=np.dtype(np.float32)),
    ),
)

BUGS_BY_NAME = {bug.name: bug for bug in KNOWN_BUGS}


def known_bugs(convention: str) -> tuple[KnownBug, ...]:
    """The catalogue entries a function of ``convention`` can exhibit."""
    return tuple(bug for bug in KNOWN_BUGS if convention in bug.conventions)
