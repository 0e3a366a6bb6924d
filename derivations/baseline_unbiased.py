"""A baseline that does not depend on the sampled response leaves the policy gradient
unbiased (categorical policy over a finite set of M responses).

    Σ_{a=0}^{M−1} ∂π(a) = 0                                  (the score has mean zero)
    Σ_a (f(a) − b) ∂π(a) = Σ_a f(a) ∂π(a)                    (b free of a)
    Σ_a Σ_c π(c) f(c) ∂π(a) = 0                              (a baseline from another,
                                                             independent sample)

with π(a) = w_a / Σ_b w_b (every categorical policy; softmax is w = exp(logits)) and
∂π(a) = (u_a Σ_b w_b − w_a Σ_b u_b)/(Σ_b w_b)² its derivative along one parameter
direction (u = ∂w/∂θ), i.e. π(a) ∂ log π(a). Since E_{a∼π}[g(a) ∇ log π(a)] = Σ_a g(a) ∇π(a),
these are the statements E[∇ log π] = 0, E[(f − b) ∇ log π] = E[f ∇ log π] and
E_{a,c}[f(c) ∇ log π(a)] = 0 for independent a, c (Williams 1992; Sutton & Barto 2018,
§13.4). The kernel has no derivatives: the quotient rule is applied in the definition of
∂π (``gae_sym.llm_estimators.policy_derivative``); everything after it is proved.
"""

from __future__ import annotations

from sympy import Integer, Rational, Sum, Symbol, oo

from derivations._common import plus, times
from gae_sym.llm_estimators import M, c, policy, policy_derivative, score, w
from gae_sym.proof import (
    ApplyTheorem,
    Assumption,
    Canonicalise,
    Derivation,
    Interval,
    Linearity,
    Proof,
    Statement,
    Step,
)
from gae_sym.symbols import j, k

b = Symbol("b", real=True)
"""A baseline: any number that does not depend on the sampled response."""

POLICY = Assumption(
    "categorical-policy",
    "the policy is a categorical distribution over $M \\ge 1$ responses, "
    "$\\pi(a) = w_a / \\sum_b w_b$ with positive weights (so the normaliser is positive)",
    r"\pi(a) = \frac{w_a}{\sum_{b=0}^{M-1} w_b},\ \sum_{b=0}^{M-1} w_b > 0",
    ranges=((Sum(w[j], (j, 0, M - 1)), Interval(Integer(0), oo, True, True)),),
)

_score_sum = Sum(policy_derivative(c), (c, 0, M - 1))

SCORE_ZERO = Proof(
    "The score has mean zero",
    Statement(_score_sum, Integer(0), lhs_latex=r"\sum_{a} \pi(a)\,\partial_\theta \log \pi(a)"),
    [
        Step(
            Integer(0),
            r"pull the normaliser out of the sum: "
            r"$\frac{(\sum_a u_a)(\sum_b w_b) - (\sum_a w_a)(\sum_b u_b)}{(\sum_b w_b)^2} = 0$",
            Canonicalise(),
        )
    ],
    assumptions=["categorical-policy"],
)

BASELINE = Proof(
    "A constant baseline changes nothing in expectation",
    Statement(
        Sum((score[c] - b) * policy_derivative(c), (c, 0, M - 1)),
        Sum(score[c] * policy_derivative(c), (c, 0, M - 1)),
        lhs_latex=r"\sum_{a} \pi(a)\,(f(a) - b)\,\partial_\theta \log \pi(a)",
    ),
    [
        Step(
            plus(
                Sum(score[c] * policy_derivative(c), (c, 0, M - 1)),
                times(Rational(-1), b, _score_sum),
            ),
            r"linearity: $b$ does not depend on $a$",
            Linearity(),
        ),
        Step(
            plus(
                Sum(score[c] * policy_derivative(c), (c, 0, M - 1)),
                times(Rational(-1), b, Integer(0)),
            ),
            "the score has mean zero",
            ApplyTheorem(SCORE_ZERO),
        ),
        Step(
            Sum(score[c] * policy_derivative(c), (c, 0, M - 1)), r"$b \cdot 0 = 0$", Canonicalise()
        ),
    ],
    assumptions=["categorical-policy"],
)

_other_mean = Sum(policy(c) * score[c], (c, 0, M - 1))

OTHER_SAMPLE = Proof(
    "A baseline from an independent sample changes nothing in expectation",
    Statement(
        Sum(Sum(policy(c) * score[c] * policy_derivative(k), (c, 0, M - 1)), (k, 0, M - 1)),
        Integer(0),
        lhs_latex=r"\mathbb{E}_{a, c \sim \pi}\left[f(c)\,\partial_\theta \log \pi(a)\right]",
    ),
    [
        Step(
            times(_other_mean, Sum(policy_derivative(k), (k, 0, M - 1))),
            r"the sum over $c$ does not depend on $a$: the expectation factorises",
            Linearity(),
        ),
        Step(times(_other_mean, Integer(0)), "the score has mean zero", ApplyTheorem(SCORE_ZERO)),
        Step(Integer(0), r"anything times 0 is 0", Canonicalise()),
    ],
    assumptions=["categorical-policy"],
)

DERIVATION = Derivation(
    id="baseline-unbiased",
    title="Baselines that do not depend on the sampled response leave the policy gradient unbiased",
    summary=(
        r"For a categorical policy over a finite set of responses the score "
        r"$\nabla \log \pi$ has mean zero, so subtracting any $b$ that does not depend on "
        r"the sampled response, or the reward of another, independent sample, leaves the "
        r"expected gradient unchanged. RLOO's baseline is the mean of $K - 1$ such "
        r"independent samples: unbiased. The group mean of GRPO and Dr. GRPO contains "
        r"$r_i/K$ itself, so $\mathbb{E}[(r_i - \bar r)\nabla\log\pi(a_i)] = "
        r"\frac{K-1}{K}\nabla J$: a positive rescaling (from the RLOO identity and the "
        r"last part here, by linearity over the other samples; that last step, an "
        r"expectation over $K$ independent samples for symbolic $K$, is not in the "
        r"kernel's language and is checked numerically). Dividing by GRPO's group std, "
        r"which depends on every sample including $r_i$, breaks the argument: the "
        r"estimator is biased for $\nabla J$ and this is only shown numerically, by exact "
        r"enumeration on a small problem (notes). Taken as given, not proved: the quotient "
        r"rule for $\partial_\theta \pi$ (the kernel has no derivatives)."
    ),
    assumptions=[POLICY],
    proofs=[SCORE_ZERO, BASELINE, OTHER_SAMPLE],
)
