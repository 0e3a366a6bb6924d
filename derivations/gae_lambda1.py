"""GAE at λ = 1 is the Monte-Carlo advantage.

    finite segment:   A^GAE(γ,1)_t = Σ_{l=0}^{N−1} γ^l r_{t+l} + γ^N V(s_{t+N}) − V(s_t)
    infinite horizon: A^GAE(γ,1)_t = Σ_{l≥0} γ^l r_{t+l} − V(s_t)   (γ < 1, bounded r and V)

At λ = 1 the GAE sum is the N-step advantage, which telescopes (nstep-telescoping).
The infinite form is the limit N → ∞ of the finite one; it needs the named assumption
that the discounted tail γ^N V(s_{t+N}) vanishes. Setting λ = 1 in the weighted average
(1 − λ) Σ λ^{n−1} A^(n)_t instead gives 0 in SymPy 1.14 (0 times a divergent series):
that path is never used.
"""

from __future__ import annotations

from sympy import Limit, Sum, oo

from derivations._common import BOUNDED_V, GAMMA_LT_1, HORIZON, SEGMENT
from derivations.nstep_telescoping import PROOF as TELESCOPING
from gae_sym.estimators import (
    gae,
    gae_segment,
    mc_advantage,
    mc_advantage_segment,
    nstep_advantage,
    nstep_advantage_rv,
)
from gae_sym.proof import (
    ApplyTheorem,
    Derivation,
    PartialSums,
    Proof,
    Statement,
    Step,
    Substitute,
    TakeLimit,
)
from gae_sym.symbols import N, V, delta, gamma, l, lam, n, t

# The telescoping lemma is stated for n >= 1; here n = N, the segment length.
_RENAMED = {"n-ge-1": "horizon-ge-1"}

FINITE = Proof(
    "Finite segment",
    Statement(
        gae_segment(),
        mc_advantage_segment(),
        lhs_latex=r"\hat{A}^{\mathrm{GAE}(\gamma,1)}_t",
        at={lam: 1},
    ),
    [
        Step(nstep_advantage(t, N), r"set $\lambda = 1$: a finite sum", Substitute({lam: 1})),
        Step(
            nstep_advantage_rv(t, N),
            r"n-step telescoping with $n = N$",
            ApplyTheorem(TELESCOPING, {n: N}, renamed=_RENAMED),
        ),
    ],
    assumptions=["horizon-ge-1", "segment"],
)

INFINITE = Proof(
    "Infinite horizon",
    Statement(gae(), mc_advantage(), lhs_latex=r"\hat{A}^{\mathrm{GAE}(\gamma,1)}_t", at={lam: 1}),
    [
        Step(
            Sum(gamma**l * delta[t + l], (l, 0, oo)),
            r"set $\lambda = 1$; the series converges for $\gamma < 1$",
            Substitute({lam: 1}, assumption="gamma-lt-1"),
        ),
        Step(
            Limit(nstep_advantage(t, N), N, oo),
            "a series is the limit of its partial sums",
            PartialSums(N, assumption="gamma-lt-1"),
        ),
        Step(
            Limit(nstep_advantage_rv(t, N), N, oo),
            r"n-step telescoping with $n = N$",
            ApplyTheorem(TELESCOPING, {n: N}, renamed=_RENAMED),
        ),
        Step(
            mc_advantage(),
            r"$\gamma^{N} V(s_{t+N}) \to 0$ for $\gamma < 1$ and bounded $V$",
            TakeLimit(vanishing=(gamma**N * V[t + N],), assumption="bounded-V"),
        ),
    ],
    assumptions=["gamma-lt-1", "bounded-V", "segment"],
)

DERIVATION = Derivation(
    id="gae-lambda1",
    title=r"GAE with $\lambda = 1$ is the Monte-Carlo advantage",
    summary=(
        r"With $\lambda = 1$ GAE weighs all future TD errors by $\gamma^{l}$, and the sum "
        r"telescopes to the discounted return minus the baseline $V(s_t)$: the Monte-Carlo "
        r"advantage. Whatever the critic, it is an unbiased policy-gradient signal (a wrong "
        r"$V(s_t)$ is only a baseline); as an estimate of the advantage it is off by the "
        r"critic's error at $s_t$. It has the highest variance of the family. On a "
        r"segment of $N$ steps the return is bootstrapped with $\gamma^{N}V(s_{t+N})$; over "
        r"an infinite horizon that tail vanishes when $\gamma < 1$ and $V$ is bounded."
    ),
    assumptions=[HORIZON, GAMMA_LT_1, BOUNDED_V, SEGMENT],
    proofs=[FINITE, INFINITE],
)
