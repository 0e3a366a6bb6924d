"""The proof engine and the derivation API (ids, verify, rendering)."""

from __future__ import annotations

import dataclasses

import pytest
from sympy import Add, Sum, oo, sqrt

import derivations
from gae_sym.proof import Canonicalise, Derivation, Proof, Statement, Step, canonical, equivalent
from gae_sym.symbols import V, delta, gamma, j, l, lam, n, r, t

CONTRACT_IDS = [
    "nstep-telescoping",
    "gae-weighted-average",
    "gae-infinite",
    "gae-lambda0",
    "gae-lambda1",
    "gae-recursion",
    "lambda-return",
    "gae-scan",
    "token-gae-masked",
    "llm-terminal-reward",
    "rloo",
    "baseline-unbiased",
]


def test_all_in_teaching_order_and_get():
    assert [d.id for d in derivations.ALL] == CONTRACT_IDS
    assert derivations.get("gae-infinite") is derivations.ALL[2]
    with pytest.raises(KeyError, match="known"):
        derivations.get("gae-lambda2")


@pytest.mark.parametrize("derivation", derivations.ALL, ids=lambda d: d.id)
def test_every_theorem_is_proved(derivation):
    result = derivation.verify()
    assert result.status == "proved", result.why
    assert result.id == derivation.id
    assert result.failed_step is None and result.why is None
    assert result.seconds >= 0
    assert result.assumptions == [a.name for a in derivation.assumptions]


@pytest.mark.parametrize("derivation", derivations.ALL, ids=lambda d: d.id)
def test_derivation_api_fields(derivation):
    assert derivation.title and derivation.summary
    for assumption in derivation.assumptions:
        assert assumption.name and assumption.text and assumption.latex


def _mutated(derivation: Derivation, part: int, step: int) -> Derivation:
    """The derivation with one written line changed by an extra term."""
    proofs = list(derivation.proofs)
    proof = proofs[part]
    steps = list(proof.steps)
    wrong = Add(steps[step].expr, gamma**2 * r[t + 7], evaluate=False)
    steps[step] = dataclasses.replace(steps[step], expr=wrong)
    proofs[part] = Proof(proof.title, proof.statement, steps, proof.assumptions)
    return Derivation(
        derivation.id, derivation.title, derivation.summary, derivation.assumptions, proofs
    )


def _every_step():
    for derivation in derivations.ALL:
        offset = 0
        for part, proof in enumerate(derivation.proofs):
            for step in range(len(proof.steps)):
                yield pytest.param(
                    derivation,
                    part,
                    step,
                    offset + step + 1,
                    id=f"{derivation.id}-{offset + step + 1}",
                )
            offset += len(proof.steps)


@pytest.mark.parametrize(("derivation", "part", "step", "number"), list(_every_step()))
def test_every_step_rejects_a_wrong_line(derivation, part, step, number):
    result = _mutated(derivation, part, step).verify()
    assert result.status == "failed"
    assert result.failed_step == number
    assert result.why


def test_wrong_right_hand_side_is_reported_after_the_last_step():
    proof = derivations.get("nstep-telescoping").proofs[0]
    statement = dataclasses.replace(proof.statement, rhs=proof.statement.rhs + V[t])
    broken = Proof(proof.title, statement, proof.steps, proof.assumptions)
    assert broken.check()[0] == len(proof.steps) + 1
    assert "right-hand side" in broken.check()[1]


def test_undeclared_assumption_fails():
    derivation = derivations.get("gae-infinite")
    stripped = Derivation(
        derivation.id,
        "t",
        "s",
        [a for a in derivation.assumptions if a.name != "lambda-lt-1"],
        derivation.proofs,
    )
    result = stripped.verify()
    assert result.status == "failed" and "undeclared" in result.why


def test_infinite_sums_need_a_convergence_assumption():
    series = Sum(gamma**l * delta[t + l], (l, 0, oo))
    proof = Proof("p", Statement(series, series), [Step(series, "same", Canonicalise())])
    result = Derivation("x", "x", "x", [], [proof]).verify()
    assert result.status == "failed" and "not shown to converge absolutely" in result.why


def test_canonical_form_renames_bound_variables_and_splits_sums():
    assert equivalent(
        Sum(gamma**l * delta[t + l], (l, 0, n - 1)), Sum(gamma**j * delta[t + j], (j, 0, n - 1))
    )
    merged = Sum(gamma**l * (r[t + l] + delta[t + l]), (l, 0, n - 1))
    split = Sum(gamma**l * r[t + l], (l, 0, n - 1)) + Sum(gamma**l * delta[t + l], (l, 0, n - 1))
    assert canonical(merged) == canonical(split)
    assert equivalent(
        gamma * Sum(gamma**l * delta[t + l], (l, 0, n - 1)),
        Sum(gamma ** (l + 1) * delta[t + l], (l, 0, n - 1)),
    )
    # different ranges are different sums: not shown equal
    assert not equivalent(Sum(gamma**l, (l, 0, n - 1)), Sum(gamma**l, (l, 0, n)))


def test_rational_coefficients_cancel_only_where_the_denominator_is_not_zero():
    from gae_sym.proof.assumptions import CONVENTION, LAMBDA_LT_1

    s = Sum(gamma**l * delta[t + l], (l, 0, oo))
    below_one = CONVENTION.facts | LAMBDA_LT_1.facts
    assert equivalent((1 - lam) * s / (1 - lam), s, below_one)
    assert equivalent((1 - lam) * (-1 / (lam - 1)) * s, s, below_one)
    # at λ = 1 the line (1 − λ)·s/(1 − λ) is 0/0: without λ < 1 the kernel refuses it
    from sympy import Mul, Pow

    from gae_sym.proof.kernel import KernelError, check_defined

    written = Mul(1 - lam, s, Pow(1 - lam, -1), evaluate=False)
    check_defined(written, below_one)
    with pytest.raises(KernelError, match="undefined where 1 - lambda = 0"):
        check_defined(written, CONVENTION.facts)


def test_power_laws_are_used_only_where_they_hold():
    # q^(a+b) = q^a q^b and (γλ)^l = γ^l λ^l (integer l, nonnegative γ, λ) are identities ...
    assert equivalent(gamma ** (l + 1), gamma * gamma**l)
    assert equivalent((gamma * lam) ** l, gamma**l * lam**l)
    # ... (ab)^(1/2) = a^(1/2) b^(1/2) is not: false for V(s_t) = V(s_(t+1)) = -1
    assert not equivalent(sqrt(V[t] * V[t + 1]), sqrt(V[t]) * sqrt(V[t + 1]))
    assert not equivalent(sqrt((lam - 1) ** 2), lam - 1)


@pytest.mark.parametrize("derivation", derivations.ALL, ids=lambda d: d.id)
def test_latex_rendering(derivation):
    text = derivation.to_latex()
    assert text == derivation.to_latex()  # deterministic
    assert r"\section" not in text
    assert text.count(r"\begin{align*}") == len(derivation.proofs)
    assert text.count(r"\end{align*}") == len(derivation.proofs)
    assert text.count("&& \\text{") == sum(len(p.steps) for p in derivation.proofs)
    for assumption in derivation.assumptions:
        assert assumption.name in text
    assert text.isascii()


@pytest.mark.parametrize("derivation", derivations.ALL, ids=lambda d: d.id)
def test_markdown_rendering(derivation):
    text = derivation.to_markdown()
    assert text == derivation.to_markdown()
    assert text.count("$$") % 2 == 0 and text.count("$$") >= 4 * len(derivation.proofs)
    assert r"\begin{aligned}" in text
    for proof in derivation.proofs:
        for number, step in enumerate(proof.steps, start=1):
            assert f"{number}. {step.reason}" in text


# --- infinite series: each one must converge under the stated assumptions ---------------------


def _telescoping_chain(weight):
    """Σ_{l≥0} w^l (V_{t+l} − w V_{t+l+1}) = V(s_t) by splitting the sum in two: true for a
    weight below one and bounded V, false otherwise (V constant, w = 1: 0 ≠ V(s_t))."""
    from gae_sym.proof import Linearity, ShiftIndex, SplitFirst, involving

    def tail(lower):
        return Sum(weight**l * V[t + l], (l, lower, oo))

    shifted = Sum(weight ** (l + 1) * V[t + l + 1], (l, 0, oo))
    return Proof(
        "infinite telescoping",
        Statement(Sum(weight**l * (V[t + l] - weight * V[t + l + 1]), (l, 0, oo)), V[t]),
        [
            Step(tail(0) - shifted, "linearity", Linearity()),
            Step(tail(0) - tail(1), "shift", ShiftIndex(l, select=involving(V[t + l + 1]), by=1)),
            Step(
                V[t] + tail(1) - tail(1),
                "split off l = 0",
                SplitFirst(l, select=lambda s: s.limits[0][1] == 0, assumption="series"),
            ),
            Step(V[t], "cancel", Linearity()),
        ],
    )


def _verify_with(proof, **assumption):
    from gae_sym.proof import Assumption

    return Derivation("x", "x", "x", [Assumption("series", "s", "s", **assumption)], [proof])


def test_splitting_a_series_needs_its_parts_to_converge():
    # every step is algebra on sums; only the convergence of each part makes it valid
    undamped = _telescoping_chain(1)
    result = _verify_with(undamped, bounded=("delta",), ratios=(gamma * lam,)).verify()
    assert result.status == "failed" and "needs a bounded V" in result.why
    result = _verify_with(undamped, bounded=("V",), ratios=(gamma,)).verify()
    assert result.status == "failed" and "no geometric weight" in result.why
    damped = _telescoping_chain(gamma)
    assert _verify_with(damped, bounded=("V",), ratios=(gamma,)).verify().status == "proved"
    assert _verify_with(damped, bounded=("V",), ratios=(lam,)).verify().status == "failed"


def test_a_cited_result_must_converge_under_the_citing_assumptions():
    from gae_sym.proof import ApplyTheorem, Assumption, Linearity

    # The lemma adds and subtracts the value series: valid only when V is bounded.
    in_l = Sum(gamma**l * delta[t + l], (l, 0, oo))
    in_j = Sum(gamma**j * delta[t + j], (j, 0, oo))
    detour = Sum(gamma**l * (delta[t + l] + V[t + l]), (l, 0, oo)) - Sum(
        gamma**l * V[t + l], (l, 0, oo)
    )
    lemma = Proof(
        "detour",
        Statement(in_l, in_j),
        [Step(detour, "add and subtract", Linearity()), Step(in_j, "rename", Linearity())],
        assumptions=["series"],
    )
    citing = Proof("cites", Statement(in_l, in_j), [Step(in_j, "lemma", ApplyTheorem(lemma))])
    only_delta = Assumption("series", "s", "s", bounded=("delta",), ratios=(gamma,))
    result = Derivation("x", "x", "x", [only_delta], [citing]).verify()
    assert result.status == "failed" and "the cited result 'detour' is not proved" in result.why
    assert "needs a bounded V" in result.why
    with_v = Assumption("series", "s", "s", bounded=("delta", "V"), ratios=(gamma,))
    assert Derivation("x", "x", "x", [with_v], [citing]).verify().status == "proved"
