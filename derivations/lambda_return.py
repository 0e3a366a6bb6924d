"""The λ-return: GAE plus the baseline, the λ-average of n-step returns, and its recursion.

    G^λ_t := A^GAE_t + V(s_t) = (1 − λ) Σ_{n≥1} λ^{n−1} G^(n)_t            (0 ≤ λ < 1)
    G^λ_t = r_t + γ[(1 − λ) V(s_{t+1}) + λ G^λ_{t+1}]                 (no done in the segment)

(Sutton & Barto 2018, §12.1, eq. 12.2 and the recursive form of §12.8.) The first
identity reduces to gae-infinite through n-step telescoping, G^(n)_t = A^(n)_t + V(s_t);
the second splits the first TD error off the GAE sum.
"""

from __future__ import annotations

from sympy import Q, Sum, oo

from derivations._common import (
    BOUNDED_DELTA,
    BOUNDED_RV,
    LAMBDA_LT_1,
    N_STEPS,
    SEGMENT,
    plus,
    times,
)
from derivations.gae_infinite import PROOF as GAE_INFINITE
from derivations.nstep_telescoping import PROOF as TELESCOPING
from gae_sym.estimators import (
    gae,
    gae_weighted_average,
    lambda_return,
    lambda_return_weighted_average,
    nstep_advantage,
    nstep_advantage_rv,
    td_error,
)
from gae_sym.proof import (
    ApplyTheorem,
    Canonicalise,
    Derivation,
    GeometricSeries,
    Linearity,
    Proof,
    ShiftIndex,
    SplitFirst,
    Statement,
    Step,
    Unfold,
)
from gae_sym.symbols import V, delta, gamma, l, lam, n, r, t

_weights = Sum(lam ** (n - 1), (n, 1, oo))

AVERAGE = Proof(
    r"The $\lambda$-weighted average of n-step returns",
    Statement(
        lambda_return_weighted_average(),
        lambda_return(),
        lhs_latex=r"(1 - \lambda)\sum_{n=1}^{\infty} \lambda^{n-1} G^{(n)}_t",
        rhs_latex=r"\hat{A}^{\mathrm{GAE}(\gamma,\lambda)}_t + V(s_{t}) = G^{\lambda}_t",
    ),
    [
        Step(
            times(
                1 - lam,
                Sum(times(lam ** (n - 1), plus(V[t], nstep_advantage_rv(t, n))), (n, 1, oo)),
            ),
            r"add and subtract $V(s_t)$ in each n-step return",
            Canonicalise(),
        ),
        Step(
            times(
                1 - lam,
                Sum(times(lam ** (n - 1), plus(V[t], nstep_advantage(t, n))), (n, 1, oo)),
            ),
            r"n-step telescoping, read from right to left",
            ApplyTheorem(TELESCOPING, reverse=True),
        ),
        Step(
            plus(times(V[t], 1 - lam, _weights), gae_weighted_average()),
            "linearity (both series converge)",
            Linearity(),
        ),
        Step(
            plus(V[t], gae_weighted_average()),
            r"the weights sum to one: $\sum_{n \ge 1} \lambda^{n-1} = 1/(1-\lambda)$",
            GeometricSeries(
                n,
                select=lambda s: not s.has(delta),
                assumption="lambda-lt-1",
                condition=Q.lt(lam, 1),
            ),
        ),
        Step(
            plus(V[t], gae()),
            "GAE is the weighted average of n-step advantages (gae-infinite)",
            ApplyTheorem(GAE_INFINITE),
        ),
    ],
    assumptions=["lambda-lt-1", "bounded-delta", "bounded-r-V", "segment"],
)

_next = Sum((gamma * lam) ** l * delta[t + 1 + l], (l, 0, oo))

RECURSIVE = Proof(
    "The recursive form",
    Statement(
        lambda_return(),
        r[t] + gamma * ((1 - lam) * V[t + 1] + lam * lambda_return(t + 1)),
        lhs_latex=r"G^{\lambda}_t",
        rhs_latex=(
            r"r_{t} + \gamma\left[(1 - \lambda) V(s_{t+1}) + \lambda G^{\lambda}_{t+1}\right]"
        ),
    ),
    [
        Step(
            plus(delta[t], Sum((gamma * lam) ** l * delta[t + l], (l, 1, oo)), V[t]),
            r"split off the term $l = 0$ of the GAE sum",
            SplitFirst(l, assumption="bounded-delta"),
        ),
        Step(
            plus(delta[t], times(gamma, lam, _next), V[t]),
            r"shift the index, $l \to l + 1$, and factor out $\gamma\lambda$",
            ShiftIndex(l, by=-1),
        ),
        Step(
            plus(td_error(), times(gamma, lam, _next), V[t]),
            r"definition of $\delta_t$",
            Unfold(delta, td_error, at=(t,)),
        ),
        Step(
            plus(
                r[t],
                times(
                    gamma,
                    plus(times(1 - lam, V[t + 1]), times(lam, plus(_next, V[t + 1]))),
                ),
            ),
            r"$V(s_t)$ cancels; write $\gamma V(s_{t+1}) = \gamma(1-\lambda)V(s_{t+1}) + "
            r"\gamma\lambda V(s_{t+1})$, and $G^{\lambda}_{t+1} = \hat{A}_{t+1} + V(s_{t+1})$",
            Canonicalise(),
        ),
    ],
    assumptions=["bounded-delta", "segment"],
)

DERIVATION = Derivation(
    id="lambda-return",
    title=r"The $\lambda$-return",
    summary=(
        r"The $\lambda$-return $G^{\lambda}_t = \hat{A}^{\mathrm{GAE}}_t + V(s_t)$ is the target "
        r"the critic is trained on. It is the $(1-\lambda)\lambda^{n-1}$-weighted average "
        r"of the n-step returns $G^{(n)}_t = \sum_{l<n}\gamma^{l}r_{t+l} + \gamma^{n}V(s_{t+n})$, "
        r"and inside a segment with no episode end it satisfies the one-step recursion "
        r"$G^{\lambda}_t = r_t + \gamma[(1-\lambda)V(s_{t+1}) + \lambda G^{\lambda}_{t+1}]$: "
        r"bootstrap from the value with weight $1-\lambda$, from the next $\lambda$-return with "
        r"weight $\lambda$."
    ),
    assumptions=[LAMBDA_LT_1, BOUNDED_DELTA, BOUNDED_RV, N_STEPS, SEGMENT],
    proofs=[AVERAGE, RECURSIVE],
)
