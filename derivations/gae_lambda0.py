"""GAE at λ = 0 is the one-step TD error.

    A^GAE(γ,0)_t = δ_t = r_t + γ V(s_{t+1}) − V(s_t)

on a segment of N ≥ 1 steps and over an infinite horizon. The first term of the sum is
split off and γλ factored out of the rest *before* λ = 0 is substituted. Substituting
into the infinite weighted average Σ_{n≥1} 0^{n−1} A^(n)_t instead is the path on which
SymPy 1.14 returns 0 (tests/test_sympy_pitfalls.py); the Substitute rule refuses it.
"""

from __future__ import annotations

from sympy import Sum, oo

from derivations._common import BOUNDED_DELTA, HORIZON, SEGMENT, plus, times
from gae_sym.estimators import gae, gae_segment, td_error
from gae_sym.proof import (
    Derivation,
    Linearity,
    Proof,
    ShiftIndex,
    SplitFirst,
    Statement,
    Step,
    Substitute,
    Unfold,
)
from gae_sym.symbols import N, delta, gamma, l, lam, t


def _chain(upper, convergence: str | None) -> list[Step]:
    """Split off l = 0, shift, factor γλ, set λ = 0, unfold δ_t; ``upper`` is N − 1 or ∞."""
    shifted = oo if upper == oo else upper - 1
    return [
        Step(
            plus(delta[t], Sum((gamma * lam) ** l * delta[t + l], (l, 1, upper))),
            r"split off the term $l = 0$",
            SplitFirst(l, assumption=convergence),
        ),
        Step(
            plus(delta[t], Sum((gamma * lam) ** (l + 1) * delta[t + l + 1], (l, 0, shifted))),
            r"shift the index, $l \to l + 1$",
            ShiftIndex(l, by=-1),
        ),
        Step(
            plus(
                delta[t],
                times(gamma, lam, Sum((gamma * lam) ** l * delta[t + l + 1], (l, 0, shifted))),
            ),
            r"factor $\gamma\lambda$ out of the remaining sum",
            Linearity(),
        ),
        Step(
            delta[t],
            r"set $\lambda = 0$: the remaining sum is multiplied by 0"
            + (" (it converges)" if convergence else ""),
            Substitute({lam: 0}, assumption=convergence),
        ),
        Step(td_error(), r"definition of $\delta_t$", Unfold(delta, td_error)),
    ]


_LHS = r"\hat{A}^{\mathrm{GAE}(\gamma,0)}_t"

FINITE = Proof(
    "Finite segment",
    Statement(
        gae_segment(),
        td_error(),
        lhs_latex=_LHS,
        at={lam: 0},
    ),
    _chain(N - 1, None),
    assumptions=["horizon-ge-1", "segment"],
)

INFINITE = Proof(
    "Infinite horizon",
    Statement(
        gae(),
        td_error(),
        lhs_latex=_LHS,
        at={lam: 0},
    ),
    _chain(oo, "bounded-delta"),
    assumptions=["bounded-delta", "segment"],
)

DERIVATION = Derivation(
    id="gae-lambda0",
    title=r"GAE with $\lambda = 0$ is the one-step TD error",
    summary=(
        r"With $\lambda = 0$ every TD error after the first has weight $(\gamma\lambda)^{l} = 0$, "
        r"so GAE keeps only $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$: the one-step "
        r"(TD(0)) advantage, lowest variance and most bias from the critic. The first term "
        r"is split off before $\lambda = 0$ is set, so no power $0^{l}$ is ever summed."
    ),
    assumptions=[HORIZON, BOUNDED_DELTA, SEGMENT],
    proofs=[FINITE, INFINITE],
)
