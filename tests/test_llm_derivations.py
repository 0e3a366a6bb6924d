"""The LLM-era theorems: proved, and their false neighbours refused for the right reason."""

from __future__ import annotations

import dataclasses

from sympy import Integer, Sum

import derivations
from derivations import baseline_unbiased, llm_terminal_reward, rloo, token_gae_masked
from gae_sym.llm_estimators import (
    K,
    M,
    R,
    c,
    i,
    leave_one_out_sum,
    policy_derivative,
    rloo_advantage_mean_form,
    terminal_reward_gae,
    u,
    w,
)
from gae_sym.proof import Canonicalise, Proof, Statement, Step
from gae_sym.symbols import N, V, gamma, j, lam, r, t

LLM_IDS = ["token-gae-masked", "llm-terminal-reward", "rloo", "baseline-unbiased"]


def test_registered_after_the_cartpole_theorems_and_proved():
    ids = [d.id for d in derivations.ALL]
    assert ids[-4:] == LLM_IDS
    for name in LLM_IDS:
        result = derivations.get(name).verify()
        assert result.status == "proved", (name, result.why)


def _retarget(proof: Proof, **changes) -> Proof:
    return dataclasses.replace(proof, statement=dataclasses.replace(proof.statement, **changes))


def test_rloo_dividing_by_k_is_refused_at_the_algebra():
    wrong = r[i] - leave_one_out_sum() / K
    bad = _retarget(rloo.RLOO_IDENTITY, lhs=wrong)
    failed = bad.check(known={"group-ge-2": rloo.GROUP})
    assert failed is not None and "not shown to be 0" in failed[1]


def test_rloo_needs_two_responses():
    bad = Proof("no group fact", rloo.RLOO_IDENTITY.statement, list(rloo.RLOO_IDENTITY.steps))
    failed = bad.check()
    assert failed is not None and "undefined where K - 1 = 0" in failed[1]


def test_rloo_sum_with_a_wrong_scale_is_not_zero():
    # K/(K-1)(r_i - mean) + r_i / K does not sum to zero: the last step must fail.
    wrong = Sum(rloo_advantage_mean_form() + r[i] / K, (i, 0, K - 1))
    bad = _retarget(rloo.RLOO_SUM, lhs=wrong)
    assert bad.check(known={"group-ge-2": rloo.GROUP}) is not None


def test_terminal_reward_with_a_bootstrap_from_padding_is_refused():
    # The last response token bootstrapping from the (padding) value after it.
    wrong = terminal_reward_gae(left=N + 1) + (gamma * lam) ** N * gamma * V[t + N + 1]
    bad = _retarget(llm_terminal_reward.TERMINAL_REWARD, lhs=wrong)
    failed = bad.check()
    assert failed is not None
    assert failed[0] == len(bad.steps) + 1 or "not shown to be 0" in failed[1]


def test_terminal_reward_at_gamma_below_one_is_not_r_minus_v():
    bad = _retarget(llm_terminal_reward.TERMINAL_REWARD, at={gamma: Integer(1) / 2, lam: 1})
    failed = bad.check()
    assert failed is not None and "substitutes values the statement does not fix" in failed[1]
    assert R in llm_terminal_reward.TERMINAL_REWARD.statement.rhs.free_symbols


def test_score_zero_refuses_a_wrong_quotient_rule_and_needs_the_normaliser_fact():
    total_w, total_u = Sum(w[j], (j, 0, M - 1)), Sum(u[j], (j, 0, M - 1))
    plus_sign = (u[c] * total_w + w[c] * total_u) / total_w**2
    bad = Proof(
        "sign slip",
        Statement(Sum(plus_sign, (c, 0, M - 1)), Integer(0)),
        [Step(Integer(0), "x", Canonicalise())],
        assumptions=[baseline_unbiased.POLICY],
    )
    failed = bad.check()
    assert failed is not None and "not shown to be 0" in failed[1]
    unfounded = Proof(
        "no policy fact",
        Statement(Sum(policy_derivative(c), (c, 0, M - 1)), Integer(0)),
        [Step(Integer(0), "x", Canonicalise())],
    )
    failed = unfounded.check()
    assert failed is not None and "undefined where" in failed[1]


def test_mask_cases_refuse_the_swapped_values():
    swapped = _retarget(token_gae_masked.MASKED, rhs=token_gae_masked.a)
    failed = swapped.check(known={"mask-binary": token_gae_masked.MASK})
    assert failed is not None and "not the right-hand side" in failed[1]
