"""RLOO's leave-one-out baseline is a rescaled group mean; group advantages sum to zero.

    r_i − (1/(K−1)) Σ_{j≠i} r_j = K/(K−1) (r_i − r̄),   r̄ = (1/K) Σ_{j=0}^{K−1} r_j
    Σ_{i=0}^{K−1} (r_i − r̄) = 0   (Dr. GRPO),   Σ_{i=0}^{K−1} A^RLOO_i = 0

for a symbolic group size K ≥ 2 (Ahmadian et al. 2024, "Back to Basics: Revisiting
REINFORCE Style Optimization for Learning from Human Feedback in LLMs"; Liu et al. 2025,
"Understanding R1-Zero-Like Training", Dr. GRPO). Σ_{j≠i} is written as the two sums on
either side of i; the proof adds and subtracts r_i, merges the three pieces into the
group sum (split at i, proved first), and collects terms. The zero sums use Σ_{i<K} 1 = K,
proved by induction on K.
"""

from __future__ import annotations

from sympy import Integer, Rational, Sum, oo

from derivations._common import plus, times
from gae_sym.llm_estimators import (
    K,
    drgrpo_advantage,
    group_mean,
    i,
    rloo_advantage,
    rloo_advantage_mean_form,
)
from gae_sym.proof import (
    ApplyTheorem,
    Assumption,
    Canonicalise,
    Derivation,
    Induction,
    Interval,
    Linearity,
    Proof,
    SplitAt,
    SplitFirst,
    Statement,
    Step,
)
from gae_sym.symbols import j, r

GROUP = Assumption(
    "group-ge-2",
    "a group holds $K \\ge 2$ responses to the same prompt (so each has $K - 1$ others)",
    r"K \in \{2, 3, \dots\}",
    ranges=((K, Interval(Integer(2), oo)),),
)

_before = Sum(r[j], (j, 0, i - 1))
_after = Sum(r[j], (j, i + 1, K - 1))
_total = Sum(r[j], (j, 0, K - 1))

GROUP_SPLIT = Proof(
    "The group sum, split at member i",
    Statement(_total, plus(_before, r[i], _after)),
    [
        Step(
            plus(_before, Sum(r[j], (j, i, K - 1))), r"split the range at $j = i$", SplitAt(j, at=i)
        ),
        Step(
            plus(_before, r[i], _after),
            r"split off the term $j = i$",
            SplitFirst(j, select=lambda s: s.limits[0][1] == i),
        ),
    ],
)

RLOO_IDENTITY = Proof(
    "The leave-one-out baseline is a rescaled mean",
    Statement(
        rloo_advantage(),
        rloo_advantage_mean_form(),
        lhs_latex=r"r_i - \frac{1}{K-1}\sum_{j \ne i} r_j",
    ),
    [
        Step(
            plus(r[i], times(Rational(-1), 1 / (K - 1), plus(plus(_before, r[i], _after), -r[i]))),
            r"add and subtract $r_i$",
            Canonicalise(),
        ),
        Step(
            plus(r[i], times(Rational(-1), 1 / (K - 1), plus(_total, -r[i]))),
            "the three pieces are the group sum",
            ApplyTheorem(GROUP_SPLIT, reverse=True),
        ),
        Step(
            rloo_advantage_mean_form(),
            r"collect $r_i$: $1 + \frac{1}{K-1} = \frac{K}{K-1}$",
            Canonicalise(),
        ),
    ],
    assumptions=["group-ge-2"],
)

COUNT = Proof(
    "A group has K members",
    Statement(Sum(Integer(1), (i, 0, K - 1)), K),
    [Step(K, r"induction on $K$", Induction(K, base=1))],
)

DRGRPO_SUM = Proof(
    "Dr. GRPO advantages sum to zero",
    Statement(
        Sum(drgrpo_advantage(), (i, 0, K - 1)),
        Integer(0),
        lhs_latex=r"\sum_{i=0}^{K-1} (r_i - \bar r)",
    ),
    [
        Step(
            plus(
                Sum(r[i], (i, 0, K - 1)),
                times(Rational(-1), group_mean(), Sum(Integer(1), (i, 0, K - 1))),
            ),
            r"linearity: $\bar r$ does not depend on $i$",
            Linearity(),
        ),
        Step(
            plus(Sum(r[i], (i, 0, K - 1)), times(Rational(-1), group_mean(), K)),
            r"$\sum_{i=0}^{K-1} 1 = K$",
            ApplyTheorem(COUNT),
        ),
        Step(Integer(0), r"$K \bar r$ is the group sum", Canonicalise()),
    ],
)

RLOO_SUM = Proof(
    "RLOO advantages sum to zero",
    Statement(
        Sum(rloo_advantage(), (i, 0, K - 1)),
        Integer(0),
        lhs_latex=r"\sum_{i=0}^{K-1} A^{\mathrm{RLOO}}_i",
    ),
    [
        Step(
            Sum(rloo_advantage_mean_form(), (i, 0, K - 1)),
            "the RLOO identity, for each member",
            ApplyTheorem(RLOO_IDENTITY),
        ),
        Step(
            times(K / (K - 1), Sum(drgrpo_advantage(), (i, 0, K - 1))),
            r"linearity: $\frac{K}{K-1}$ is a constant",
            Linearity(),
        ),
        Step(Integer(0), "Dr. GRPO advantages sum to zero", ApplyTheorem(DRGRPO_SUM)),
    ],
    assumptions=["group-ge-2"],
)

DERIVATION = Derivation(
    id="rloo",
    title="RLOO is a rescaled group mean baseline; group advantages sum to zero",
    summary=(
        r"RLOO subtracts from each reward the mean of the other $K - 1$ rewards of its "
        r"group. That equals $\frac{K}{K-1}(r_i - \bar r)$: Dr. GRPO's advantage "
        r"$r_i - \bar r$ times a constant, so the two give the same update direction and "
        r"differ in scale by $\frac{K-1}{K}$. Over a group both sum to 0, for every "
        r"$K \ge 2$. Dividing by $K$ instead of $K - 1$, a common slip, gives "
        r"$r_i - \bar r + \frac{r_i}{K}$, which does not sum to 0. Proved for a symbolic "
        r"group size; the leave-one-out sum is written as the two sums either side of $i$."
    ),
    assumptions=[GROUP],
    proofs=[GROUP_SPLIT, RLOO_IDENTITY, COUNT, DRGRPO_SUM, RLOO_SUM],
)
