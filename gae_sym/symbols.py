"""The symbols of a trajectory, shared by every derivation, estimator and printer.

Time-major convention (``../shared/DESIGN.md``): ``r[t]`` is the reward received after
action a_t in state s_t, ``V[t]`` is V(s_t), ``V_next[t]`` is V(s'_t), the value of the
state observed right after step t (the *final* observation when the episode ended at t),
``terminated[t]`` / ``truncated[t]`` are gymnasium's flags for step t and
``done[t] = terminated[t] OR truncated[t]``. Inside a segment with no episode end,
V(s'_t) = V(s_{t+1}) and the theorems are stated with ``V[t + 1]``.
"""

from __future__ import annotations

from sympy import IndexedBase, Symbol

# Time and summation indices.
t = Symbol("t", integer=True)
"""Time step of the estimate."""
l = Symbol("l", integer=True, nonnegative=True)
"""Lag inside a sum over future steps, l = 0, 1, 2, ..."""
j = Symbol("j", integer=True, nonnegative=True)
"""Second lag (products of done masks, inner sums)."""
k = Symbol("k", integer=True, nonnegative=True)
"""Third lag, free for derivations that need one more bound variable."""
n = Symbol("n", integer=True, positive=True)
"""Number of steps of an n-step estimator, n >= 1."""
N = Symbol("N", integer=True, positive=True)
"""Length of a finite segment (horizon), N >= 1."""

# Discount and trace parameters, both in [0, 1].
gamma = Symbol("gamma", real=True, nonnegative=True)
lam = Symbol("lambda", real=True, nonnegative=True)

# Per-step sequences.
r = IndexedBase("r", real=True)
"""Rewards: r[t] = r_t."""
V = IndexedBase("V", real=True)
"""State values: V[t] = V(s_t)."""
V_next = IndexedBase("V'", real=True)
"""Next-state values: V_next[t] = V(s'_t), the value of the observation after step t."""
delta = IndexedBase("delta", real=True)
"""TD errors: delta[t] = δ_t."""
A = IndexedBase("A", real=True)
"""GAE advantages as a sequence, used by the backward recursion."""
terminated = IndexedBase("term", real=True)
"""Termination flags in {0, 1}: 1 when s'_t is terminal (no bootstrap)."""
done = IndexedBase("d", real=True)
"""Episode-end flags in {0, 1}: terminated OR truncated (cuts the λ-chain)."""

# Token-level sequences of the skip-masked scan (RL on language models).
mask = IndexedBase("m", real=True)
"""Response mask: m[t] = 1 on a token the policy generated, 0 on prompt, padding and
observation tokens."""
W = IndexedBase("W", real=True)
"""The value the skip-masked backward scan carries into position t: V of the first
response token at or after t (0 when none is left)."""
U = IndexedBase("U", real=True)
"""The advantage the skip-masked backward scan holds at position t (token GAE on a
response token; on a masked token the carry passing through)."""

PROJECT_SEQUENCES = {
    str(base.label): base for base in (r, V, V_next, delta, A, terminated, done, mask, W, U)
}
"""The project's sequences by label: the proof kernel knows them by object, not by name."""

TIME_SYMBOL = t
"""The printer writes this symbol first in every index (``t + l``, not ``l + t``)."""

__all__ = [
    "PROJECT_SEQUENCES",
    "TIME_SYMBOL",
    "A",
    "N",
    "U",
    "V",
    "V_next",
    "W",
    "delta",
    "done",
    "gamma",
    "j",
    "k",
    "l",
    "lam",
    "mask",
    "n",
    "r",
    "t",
    "terminated",
]
