"""n-step telescoping: the n-step advantage in TD errors equals its reward/value form.

    Σ_{l=0}^{n−1} γ^l δ_{t+l} = −V(s_t) + Σ_{l=0}^{n−1} γ^l r_{t+l} + γ^n V(s_{t+n})

for symbolic n ≥ 1 and t (Sutton & Barto 2018, §7.1; Schulman et al. 2016, eq. 14).
The lecture writes δ out, splits the sum in three, shifts the index of the bootstrap
sum and lets the value sums cancel term by term.
"""

from __future__ import annotations

from sympy import Sum

from derivations._common import N_STEPS, SEGMENT, minus, plus, times
from gae_sym.estimators import nstep_advantage, nstep_advantage_rv, td_error
from gae_sym.proof import (
    Derivation,
    Linearity,
    Proof,
    ShiftIndex,
    SplitFirst,
    SplitLast,
    Statement,
    Step,
    Unfold,
    involving,
)
from gae_sym.symbols import V, delta, gamma, l, n, r, t

_rewards = Sum(gamma**l * r[t + l], (l, 0, n - 1))
_values_0 = Sum(gamma**l * V[t + l], (l, 0, n - 1))
_values_1 = Sum(gamma**l * V[t + l], (l, 1, n))
_middle = Sum(gamma**l * V[t + l], (l, 1, n - 1))

PROOF = Proof(
    "n-step telescoping",
    Statement(nstep_advantage(), nstep_advantage_rv(), lhs_latex=r"\hat{A}^{(n)}_t"),
    [
        Step(
            Sum(times(gamma**l, plus(r[t + l], gamma * V[t + l + 1], -V[t + l])), (l, 0, n - 1)),
            r"definition of $\delta_{t+l}$",
            Unfold(delta, td_error),
        ),
        Step(
            plus(_rewards, Sum(gamma ** (l + 1) * V[t + l + 1], (l, 0, n - 1)), minus(_values_0)),
            "linearity: one sum per term",
            Linearity(),
        ),
        Step(
            plus(_rewards, _values_1, minus(_values_0)),
            r"shift the index of the bootstrap sum, $l + 1 \to l$",
            ShiftIndex(l, select=involving(V[t + l + 1]), by=1),
        ),
        Step(
            plus(_rewards, _middle, gamma**n * V[t + n], minus(_values_0)),
            r"split off its last term $l = n$",
            SplitLast(l, select=lambda s: s.limits[0][2] == n),
        ),
        Step(
            plus(_rewards, _middle, gamma**n * V[t + n], minus(plus(V[t], _middle))),
            r"split off the first term $l = 0$ of the value sum",
            SplitFirst(l, select=lambda s: s.limits[0][1] == 0 and s.function.has(V)),
        ),
        Step(
            plus(-V[t], _rewards, gamma**n * V[t + n]),
            r"the two sums over $l = 1, \dots, n - 1$ cancel",
            Linearity(),
        ),
    ],
    assumptions=["n-ge-1", "segment"],
)

DERIVATION = Derivation(
    id="nstep-telescoping",
    title="The n-step advantage telescopes",
    summary=(
        r"Summing $n$ discounted TD errors, every intermediate value $V(s_{t+l})$, "
        r"$0 < l < n$, appears once with $+\gamma^{l}$ (as the bootstrap of step $t+l-1$) "
        r"and once with $-\gamma^{l}$ (as the baseline of step $t+l$), so only the first "
        r"baseline and the last bootstrap survive: the n-step advantage is the n-step "
        r"return minus $V(s_t)$, for every $n \ge 1$."
    ),
    assumptions=[N_STEPS, SEGMENT],
    proofs=[PROOF],
)
