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

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gae_sym.testing.trajectories import CONVENTIONS, EXPRESSES, Trajectory


def _recursion(
    traj: Trajectory,
    *,
    bootstrap: np.ndarray | None = None,
    carry: np.ndarray | None = None,
    next_values: np.ndarray | None = None,
    decay: float | None = None,
    forward: bool = False,
    dtype: np.dtype | None = None,
    gamma: float | None = None,
    zero_at: np.ndarray | None = None,
) -> np.ndarray:
    """A_t = δ_t + decay · carry_t · A_{t±1} with δ_t = r_t + γ bootstrap_t V'_t − V_t.

    Defaults give the correct GAE: bootstrap = 1 − terminated, carry = 1 − done,
    decay = γλ, backward in time. ``gamma`` replaces γ in δ only; ``zero_at`` sets A_t
    (and so the carried sum) to 0 at those steps.
    """
    dtype = np.dtype(dtype or traj.dtype)
    r, v = traj.rewards.astype(dtype), traj.values.astype(dtype)
    nv = (traj.next_values if next_values is None else next_values).astype(dtype)
    boot = (~traj.terminated if bootstrap is None else bootstrap).astype(dtype)
    cut = (~traj.done if carry is None else carry).astype(dtype)
    k = dtype.type(traj.gamma) * dtype.type(traj.lam) if decay is None else dtype.type(decay)
    gamma = dtype.type(traj.gamma if gamma is None else gamma)
    delta = r + gamma * boot * nv - v
    out = np.empty_like(delta)
    acc = np.zeros(delta.shape[1:], dtype)
    steps = range(traj.length) if forward else range(traj.length - 1, -1, -1)
    for t in steps:
        acc = delta[t] + k * cut[t] * acc
        if zero_at is not None:
            acc = np.where(zero_at[t], dtype.type(0), acc)
        out[t] = acc
    return out


def _shift(flags: np.ndarray, by: int, before: np.ndarray | None = None) -> np.ndarray:
    """flags[t + by], False where t + by falls outside the segment (``before`` at t = −1)."""
    out = np.zeros_like(flags)
    if by > 0:
        out[:-by] = flags[by:]
    else:
        out[-by:] = flags[:by]
        if before is not None and by == -1:
            out[0] = before
    return out


def _mask_late(traj: Trajectory) -> np.ndarray:
    return _recursion(traj, bootstrap=~_shift(traj.terminated, 1), carry=~_shift(traj.done, 1))


def _mask_early(traj: Trajectory) -> np.ndarray:
    # With episode-start dones this is reading dones[t] (s_t began an episode) where
    # dones[t + 1] belongs; at t = 0 that reads the flag of the step before the segment.
    start = traj.start_flags()
    return _recursion(
        traj,
        bootstrap=~_shift(traj.terminated, -1, start),
        carry=~_shift(traj.done, -1, start),
    )


def _timeouts(traj: Trajectory) -> np.ndarray:
    """Steps cut by a time limit only (gym's old ``TimeLimit.truncated``)."""
    return traj.truncated & ~traj.terminated


def _values_after(traj: Trajectory) -> np.ndarray:
    """values[t + 1] for t < T − 1 and next_values[T − 1]: V of the next *stored* state."""
    return np.concatenate([traj.values[1:], traj.next_values[-1:]], axis=0)


def _segment_end_dropped(traj: Trajectory) -> np.ndarray:
    boot = ~traj.terminated
    boot[-1] = False
    return _recursion(traj, bootstrap=boot)


ALL = CONVENTIONS
WITH_DONES = tuple(c for c in CONVENTIONS if EXPRESSES[c][0])
WITH_TRUNCATIONS = tuple(c for c in CONVENTIONS if EXPRESSES[c][1])
ONE_NEXT_VALUE = ("lecture", "masked", "episode-start")  # a scalar next_value is carried


@dataclass(frozen=True)
class KnownBug:
    """A realistic mistake: its name, what the code does, the fix in one line, its output."""

    name: str
    summary: str
    fix: str
    conventions: tuple[str, ...]
    compute: Callable[[Trajectory], np.ndarray]  # the advantages the mistake implies
    outputs: tuple[str, ...] = ("advantages", "returns")  # shows where one of these is returned

    def in_convention(self, convention: str) -> KnownBug:
        """This bug told in ``convention``'s names (:data:`FIXES_BY_CONVENTION`)."""
        fix = FIXES_BY_CONVENTION.get(convention, {}).get(self.name, self.fix)
        summary = SUMMARIES_BY_CONVENTION.get(convention, {}).get(self.name, self.summary)
        return dataclasses.replace(self, fix=fix, summary=summary)

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
        ("advantages",),
    ),
    KnownBug(
        "advantages-instead-of-returns",
        "returns the advantages A_t where the value targets A_t + V(s_t) belong",
        "return advantages + values (the λ-returns) for the critic",
        ALL,
        # the advantages implied by returning A_t as the returns: A_t − V(s_t)
        lambda tr: _recursion(tr) - tr.values,
        ("returns",),
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
        "cuts at a time-limit truncation without bootstrapping γ V(s'_t) (done used where "
        "terminated belongs)",
        "bootstrap with (1 - terminated[t]) * next_values[t]; cut the carry with (1 - done[t])",
        WITH_TRUNCATIONS,
        lambda tr: _recursion(tr, bootstrap=~tr.done),
    ),
    KnownBug(
        "advantage-zeroed-at-truncation",
        "sets the advantage to 0 at a time-limit truncation (a bad_masks-style multiply of "
        "the carried sum) instead of δ_t = r_t + γ V(s'_t) − V(s_t)",
        "at a truncation keep A_t = r_t + γ V(s'_t) − V(s_t); cut only the carry from t + 1",
        WITH_TRUNCATIONS,
        lambda tr: _recursion(tr, zero_at=_timeouts(tr)),
    ),
    KnownBug(
        "timeout-bootstrap-from-current-value",
        "at a time-limit truncation bootstraps γ V(s_t), the value of the state the step "
        "started from, instead of γ V(s'_t), the final observation's",
        "bootstrap a time-out with the value of the final observation (next_values[t])",
        WITH_TRUNCATIONS,
        lambda tr: _recursion(tr, next_values=np.where(_timeouts(tr), tr.values, tr.next_values)),
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
        ONE_NEXT_VALUE,
        lambda tr: _recursion(
            tr, next_values=np.broadcast_to(tr.next_values[-1:], tr.rewards.shape)
        ),
    ),
    KnownBug(
        "next-value-updated-too-early",
        "δ_t bootstraps from V(s_t) instead of V(s_{t+1}) (`next_value = values[t]` before δ_t)",
        "compute delta with the old next_value, then set next_value = values[t]",
        ONE_NEXT_VALUE,
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
)

BUGS_BY_NAME = {bug.name: bug for bug in KNOWN_BUGS}


def known_bugs(convention: str, outputs: tuple[str, ...] = ("advantages",)) -> tuple[KnownBug, ...]:
    """The catalogue entries a function of ``convention`` returning ``outputs`` can exhibit."""
    return tuple(
        bug
        for bug in KNOWN_BUGS
        if convention in bug.conventions and any(o in bug.outputs for o in outputs)
    )


# Not a wrong value: the diagnosis of a function that raises where γλ = 0 and only there
# (TorchRL's vectorised GAE builds the series (γλ)^k and fails on its zero length).
RAISES_AT_ZERO_DISCOUNT = KnownBug(
    "raises-at-zero-gamma-lambda",
    "raises at γλ = 0 (γ = 0 or λ = 0), and returns values elsewhere",
    "handle γλ = 0 (then A_t = δ_t): no log(γλ), no division by γλ, no empty (γλ)^k series",
    ALL,
    lambda tr: _recursion(tr),
)


# Not a wrong value either: the diagnosis of a function that changes an input in place (a
# list's values.append(next_value), advantages written into the rewards buffer); its
# caller's rollout buffer changes under it, and a second call on it gives other numbers.
MODIFIES_INPUTS = KnownBug(
    "modifies-its-inputs",
    "changes an input in place: the caller's rollout buffer is different after the call (and "
    "a second call on it computes something else)",
    "compute into new objects: values = list(values) + [next_value] or np.append(values, "
    "next_value), advantages = np.zeros_like(rewards); never values.append(...) or "
    "rewards[t] = ... on an argument",
    ALL,
    lambda tr: _recursion(tr),
)


def _gamma32(tr: Trajectory) -> np.ndarray:
    # torch: a Python float times an int/bool tensor is float32 (gamma * (~done).int()).
    g32, gl32 = float(np.float32(tr.gamma)), float(np.float32(tr.gamma * tr.lam))
    return _recursion(tr, gamma=g32, decay=gl32)


def _gamma_lam32(tr: Trajectory) -> np.ndarray:
    g32, l32 = float(np.float32(tr.gamma)), float(np.float32(tr.lam))
    return _recursion(tr, gamma=g32, decay=float(np.float32(g32 * l32)))


# Precision, not logic: results within float32 rounding of the reference. Each model names
# where the rounding comes from when it reproduces the outputs to float64 precision.
PRECISION_MODELS: tuple[KnownBug, ...] = (
    KnownBug(
        "gamma-rounded-to-float32",
        "γ and γλ are rounded to float32 (0.45 -> 0.44999998807907104) while the rest is float64",
        "keep γ and λ in the inputs' dtype",
        ALL,
        _gamma32,
    ),
    KnownBug(
        "gamma-and-lambda-rounded-to-float32",
        "γ and λ are rounded to float32 while the rest is float64",
        "keep γ and λ in the inputs' dtype",
        ALL,
        _gamma_lam32,
    ),
    KnownBug(
        "float32-accumulation",
        "computes in float32 and returns float64 numbers",
        "accumulate in the inputs' dtype",
        ALL,
        lambda tr: _recursion(tr, dtype=np.dtype(np.float32)),
    ),
)

# Under strict precision, when no model above names the source.
FLOAT32_PRECISION = KnownBug(
    "float32-precision",
    "the logic is right but the results are right to float32 precision only",
    "compute in the inputs' dtype",
    ALL,
    lambda tr: _recursion(tr),
)

# What to write instead, in the code's own framework (the result's type says which).
PRECISION_FIXES = {
    "numpy": "allocate and accumulate in the inputs' dtype: np.zeros_like(values), "
    "np.zeros(T, dtype=values.dtype), not a float32 buffer",
    "torch": "keep every factor in the inputs' dtype: in torch a Python float times an int "
    "or bool tensor is float32 (gamma * (~done).int()); write (~done).to(values.dtype), "
    "torch.zeros_like(values)",
    "jax": "enable float64 (jax.config.update('jax_enable_x64', True)) and build arrays "
    "with the inputs' dtype (jnp.zeros_like(values))",
}


# The one-line fix in the names of conventions other than masked/canonical.
FIXES_BY_CONVENTION: dict[str, dict[str, str]] = {
    "episode-start": {
        "mask-read-one-step-early": "step t ended the episode when dones[t + 1] is set: use "
        "nextnonterminal = 1 - dones[t + 1] (1 - next_done at the last step), not 1 - dones[t]",
        "mask-read-one-step-late": "use nextnonterminal = 1 - dones[t + 1] (1 - next_done at the "
        "last step), not dones[t + 2]",
        "done-mask-missing-in-bootstrap": "delta = rewards[t] + gamma * nextvalues * "
        "nextnonterminal - values[t], nextnonterminal = 1 - dones[t + 1]",
        "done-mask-missing-in-carry": "lastgaelam = delta + gamma * lam * nextnonterminal * "
        "lastgaelam, nextnonterminal = 1 - dones[t + 1]",
        "done-mask-ignored": "multiply the bootstrap and the carry by nextnonterminal = "
        "1 - dones[t + 1] (1 - next_done at the last step)",
        "mask-inverted": "nextnonterminal = 1 - dones[t + 1]: 0 when s_{t+1} began a new episode",
        "segment-end-not-bootstrapped": "at the last step bootstrap from next_value, times "
        "1 - next_done",
    },
    "discount": {
        "done-mask-missing-in-bootstrap": "delta = rewards[t] + discounts[t] * values[t + 1] - "
        "values[t] (discounts[t] = 0 at a termination)",
        "done-mask-missing-in-carry": "acc = delta[t] + discounts[t] * lam * acc",
        "done-mask-ignored": "use discounts[t] (0 at a termination), not a constant gamma, in the "
        "bootstrap and the carry",
        "segment-end-not-bootstrapped": "the last step bootstraps from values[T], the (T + 1)-th "
        "value",
    },
}

SUMMARIES_BY_CONVENTION: dict[str, dict[str, str]] = {
    "episode-start": {
        "mask-read-one-step-early": "reads dones[t] (s_t began an episode) where dones[t + 1] "
        "(step t ended one) belongs",
        "mask-read-one-step-late": "reads dones[t + 2] where dones[t + 1] belongs",
    },
}
