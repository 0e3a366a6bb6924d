"""GAE is the λ-weighted average of the n-step advantages (infinite horizon).

    (1 − λ) Σ_{n≥1} λ^{n−1} A^(n)_t = Σ_{l≥0} (γλ)^l δ_{t+l},   0 ≤ λ < 1, bounded δ

(Schulman et al. 2016, eq. 16). The lecture's derivation: write each A^(n)_t as its sum
of TD errors, swap the two sums over the triangle 0 ≤ l < n (absolute convergence makes
the order irrelevant), and sum the geometric series of the weights that each δ_{t+l}
collects: Σ_{n>l} λ^{n−1} = λ^l / (1 − λ).
"""

from __future__ import annotations

from sympy import Q, Sum, oo

from derivations._common import BOUNDED_DELTA, LAMBDA_LT_1, times
from gae_sym.estimators import gae, gae_weighted_average
from gae_sym.proof import (
    Canonicalise,
    Derivation,
    GeometricSeries,
    Linearity,
    Proof,
    Statement,
    Step,
    SwapTriangle,
)
from gae_sym.symbols import delta, gamma, l, lam, n, t

_term = times(lam ** (n - 1), gamma**l, delta[t + l])

PROOF = Proof(
    "Infinite-horizon weighted average",
    Statement(
        gae_weighted_average(),
        gae(),
        lhs_latex=r"(1 - \lambda)\sum_{n=1}^{\infty} \lambda^{n-1} \hat{A}^{(n)}_t",
    ),
    [
        Step(
            times(1 - lam, Sum(Sum(_term, (l, 0, n - 1)), (n, 1, oo))),
            r"definition of $\hat{A}^{(n)}_t$; move $\lambda^{n-1}$ into the inner sum",
            Linearity(),
        ),
        Step(
            times(1 - lam, Sum(Sum(_term, (n, l + 1, oo)), (l, 0, oo))),
            r"sum over the triangle $0 \le l < n$ the other way round (absolute convergence)",
            SwapTriangle(n, l, assumption="bounded-delta"),
        ),
        Step(
            times(
                1 - lam,
                Sum(times(gamma**l, delta[t + l], Sum(lam ** (n - 1), (n, l + 1, oo))), (l, 0, oo)),
            ),
            r"$\gamma^{l}\delta_{t+l}$ does not depend on $n$",
            Linearity(),
        ),
        Step(
            times(1 - lam, Sum(times(gamma**l, delta[t + l], lam**l / (1 - lam)), (l, 0, oo))),
            r"geometric series: $\sum_{n=l+1}^{\infty} \lambda^{n-1} = \lambda^{l}/(1-\lambda)$ "
            r"for $0 \le \lambda < 1$",
            GeometricSeries(n, assumption="lambda-lt-1", condition=Q.lt(lam, 1)),
        ),
        Step(
            gae(),
            r"cancel $1 - \lambda$; $\gamma^{l}\lambda^{l} = (\gamma\lambda)^{l}$",
            Canonicalise(),
        ),
    ],
    assumptions=["lambda-lt-1", "bounded-delta"],
)

DERIVATION = Derivation(
    id="gae-infinite",
    title=r"GAE is the $\lambda$-weighted average of n-step advantages (infinite horizon)",
    summary=(
        r"Weighting the $n$-step advantage $\hat{A}^{(n)}_t$ by $(1-\lambda)\lambda^{n-1}$ "
        r"(weights that sum to one for $0 \le \lambda < 1$) and adding over all $n \ge 1$ "
        r"gives the generalized advantage estimate "
        r"$\hat{A}^{\mathrm{GAE}(\gamma,\lambda)}_t = "
        r"\sum_{l \ge 0} (\gamma\lambda)^{l}\delta_{t+l}$: "
        r"the TD error $l$ steps ahead enters every $\hat{A}^{(n)}_t$ with $n > l$, and "
        r"those weights add up to $\lambda^{l}$."
    ),
    assumptions=[LAMBDA_LT_1, BOUNDED_DELTA],
    proofs=[PROOF],
)
