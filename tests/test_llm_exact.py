"""The exact (enumerated) bias of the group estimators agrees with the theorems."""

from __future__ import annotations

import pytest

from numeric.llm.experiments import PROBLEMS, exact_moments


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("k", [2, 3, 5])
def test_rloo_unbiased_and_drgrpo_scaled_by_k_minus_1_over_k(problem, k):
    probs, rewards = PROBLEMS[problem]["probs"], PROBLEMS[problem]["rewards"]
    assert exact_moments(probs, rewards, k, "rloo")["unbiased"]
    assert exact_moments(probs, rewards, k, "reinforce")["unbiased"]
    dr = exact_moments(probs, rewards, k, "drgrpo")
    assert dr["scale"] == pytest.approx((k - 1) / k, abs=1e-12)
    assert dr["direction_error"] < 1e-12 and not dr["unbiased"]


def test_grpo_std_division_turns_the_gradient_with_graded_rewards():
    problem = PROBLEMS["graded"]
    grpo = exact_moments(problem["probs"], problem["rewards"], 2, "grpo")
    assert grpo["cosine"] < 0.99 and grpo["direction_error"] > 0.1
