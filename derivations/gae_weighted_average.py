"""GAE on a finite segment is the λ-weighted average of its n-step advantages.

    (1 − λ) Σ_{n=1}^{N−1} λ^{n−1} A^(n)_t + λ^{N−1} A^(N)_t = Σ_{l=0}^{N−1} (γλ)^l δ_{t+l}

for every segment length N ≥ 1 and every λ (Schulman et al. 2016, eqs. 11-16, with the
weights truncated the way a finite segment forces: the longest estimate A^(N) takes the
remaining weight λ^{N−1}, so the weights still sum to one).
Proved by induction on N: first the step N → N + 1 written out, then the induction.
"""

from __future__ import annotations

from sympy import Sum

from derivations._common import HORIZON, plus, times
from gae_sym.estimators import gae_segment, gae_weighted_average_segment, nstep_advantage
from gae_sym.proof import (
    Derivation,
    Induction,
    Linearity,
    Proof,
    SplitLast,
    Statement,
    Step,
)
from gae_sym.symbols import N, delta, gamma, l, lam, n, t

_average = gae_weighted_average_segment()
_average_next = gae_weighted_average_segment(length=N + 1)
_inner = Sum(lam ** (n - 1) * nstep_advantage(t, n), (n, 1, N - 1))

STEP = Proof(
    r"The step from $N$ to $N + 1$",
    # Stated as "case N+1 = case N + new term" rather than as a difference, so that no
    # line of the chain has to write the whole case N out twice (it would not fit a page).
    Statement(
        _average_next,
        plus(_average, (gamma * lam) ** N * delta[t + N]),
        lhs_latex=r"\hat{A}^{\lambda,N+1}_t",
        rhs_latex=r"\hat{A}^{\lambda,N}_t + (\gamma\lambda)^{N}\delta_{t+N}",
    ),
    [
        Step(
            plus(
                times(1 - lam, plus(_inner, lam ** (N - 1) * nstep_advantage(t, N))),
                times(lam**N, nstep_advantage(t, N + 1)),
            ),
            r"split off the last term $n = N$ of the weighted sum",
            SplitLast(n, select=lambda s: s.limits[0][2] == N),
        ),
        Step(
            plus(
                times(1 - lam, plus(_inner, lam ** (N - 1) * nstep_advantage(t, N))),
                times(lam**N, plus(nstep_advantage(t, N), gamma**N * delta[t + N])),
            ),
            r"split off the last term $l = N$ of $\hat{A}^{(N+1)}_t$",
            SplitLast(l, select=lambda s: s.limits[0][2] == N),
        ),
        Step(
            plus(_average, (gamma * lam) ** N * delta[t + N]),
            r"$\hat{A}^{(N)}_t$ has weight $(1 - \lambda)\lambda^{N-1} + \lambda^{N} = "
            r"\lambda^{N-1}$, as in the case $N$; $\lambda^{N}\gamma^{N} = (\gamma\lambda)^{N}$",
            Linearity(),
        ),
    ],
    assumptions=["horizon-ge-1"],
)

PROOF = Proof(
    r"Weighted average on a segment of $N$ steps",
    Statement(
        _average,
        gae_segment(),
        lhs_latex=r"(1 - \lambda)\sum_{n=1}^{N-1} \lambda^{n-1} \hat{A}^{(n)}_t "
        r"+ \lambda^{N-1} \hat{A}^{(N)}_t",
    ),
    [
        Step(
            gae_segment(),
            r"induction on $N$: for $N = 1$ both sides are $\delta_t$; from $N$ to $N + 1$ "
            r"both sides grow by $(\gamma\lambda)^{N}\delta_{t+N}$ (above)",
            Induction(N, base=1),
        ),
    ],
    assumptions=["horizon-ge-1"],
)

DERIVATION = Derivation(
    id="gae-weighted-average",
    title=r"GAE is the $\lambda$-weighted average of n-step advantages (finite segment)",
    summary=(
        r"On a segment of $N$ steps the $n$-step advantages $\hat{A}^{(n)}_t$, "
        r"$n = 1, \dots, N$, get the weights $(1-\lambda)\lambda^{n-1}$ and the longest "
        r"one the rest, $\lambda^{N-1}$; the weights sum to one for every $\lambda$. "
        r"The weighted average is GAE: $\sum_{l=0}^{N-1} (\gamma\lambda)^{l}\delta_{t+l}$. "
        r"We write $\hat{A}^{\lambda,N}_t$ for the left side."
    ),
    assumptions=[HORIZON],
    proofs=[STEP, PROOF],
)
