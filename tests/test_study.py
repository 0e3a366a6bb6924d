"""The bias–variance study: exact ground truth, sampler bookkeeping, and the headline facts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numeric
from gae_sym.cli import main
from numeric.study import (
    _critic_arrays,
    _power_weights,
    exact_expectation,
    exact_values,
    gradient_variance,
    policy_transition,
    random_mdp,
    run_study,
    sample_trajectories,
)


@pytest.fixture(scope="module")
def small_study():
    return run_study(samples_per_pair=400)


def test_exact_values_satisfy_bellman_and_advantages_average_to_zero():
    mdp = random_mdp(seed=3)
    V, Q, A = exact_values(mdp)
    r_pi = (mdp.policy * mdp.R).sum(axis=1)
    np.testing.assert_allclose(V, r_pi + mdp.gamma * policy_transition(mdp) @ V, atol=1e-12)
    np.testing.assert_allclose((mdp.policy * Q).sum(axis=1), V, atol=1e-12)
    np.testing.assert_allclose((mdp.policy * A).sum(axis=1), 0.0, atol=1e-12)


@settings(max_examples=20)
@given(
    lam=st.floats(0.0, 1.0),
    n=st.integers(1, 40),
    seed=st.integers(0, 50),
)
def test_with_true_values_every_estimator_expects_the_true_advantage(lam, n, seed):
    mdp = random_mdp(seed=seed)
    V, _, A = exact_values(mdp)
    horizon = 64
    for weights in (
        _power_weights(mdp.gamma * lam, horizon, horizon),
        _power_weights(mdp.gamma, n, horizon),
    ):
        np.testing.assert_allclose(exact_expectation(mdp, V, weights), A, atol=1e-10)


def test_with_a_wrong_critic_td_error_expectation_is_off_by_the_bellman_residual():
    mdp = random_mdp(seed=1)
    V, _, A = exact_values(mdp)
    error = np.linspace(-1.0, 1.0, mdp.n_states)
    got = exact_expectation(mdp, V + error, _power_weights(mdp.gamma, 1, 8))
    expected = A + mdp.gamma * mdp.P @ error - error[:, None]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_sampler_pads_after_termination_and_truncates_only_running_columns():
    mdp = random_mdp(seed=0)
    traj = sample_trajectories(mdp, samples_per_pair=50, horizon=40, seed=5)
    S = mdp.n_states
    ended = traj.states[1:] == S
    # Once ended, a column stays ended, and every step from there on is flagged terminated.
    assert np.all(ended[1:] >= ended[:-1])
    assert np.all(traj.terminated[ended])
    assert np.all(traj.rewards[traj.states[:-1] == S] == 0.0)
    assert not traj.truncated[:-1].any()
    np.testing.assert_array_equal(traj.truncated[-1], traj.states[-1] < S)
    assert not np.any(traj.terminated[-1] & traj.truncated[-1])
    values, next_values = _critic_arrays(traj, np.arange(1.0, S + 1.0))
    assert np.all(values[traj.states[:-1] == S] == 0.0)
    assert np.all(next_values[ended] == 0.0)


def test_sampled_means_agree_with_exact_expectations(small_study):
    worst = max(row["max_abs_z"] for row in small_study.rows)
    assert worst < 5.0


def test_a_kernel_that_ignores_termination_is_caught_by_the_exact_comparison():
    """The sampled-vs-exact check has power: bootstrapping through terminations is visible."""
    mdp = random_mdp(seed=0)
    V, _, _ = exact_values(mdp)
    traj = sample_trajectories(mdp, samples_per_pair=400, horizon=64, seed=2)
    critic = V + 5.0
    values, next_values = _critic_arrays(traj, critic)
    # The bug: next_values of the terminal state taken as the critic's mean, not 0.
    wrong_next = np.where(traj.states[1:] == mdp.n_states, critic.mean(), next_values)
    never = np.zeros_like(traj.terminated)
    adv = numeric.td_error(traj.rewards, values, wrong_next, never, traj.truncated, gamma=mdp.gamma)
    first = adv[0].reshape(mdp.n_states * mdp.n_actions, -1)
    exact = exact_expectation(mdp, critic, _power_weights(mdp.gamma, 1, 64)).ravel()
    z = np.abs(first.mean(axis=1) - exact) / np.sqrt(first.var(axis=1, ddof=1) / first.shape[1])
    assert z.max() > 5.0


def test_headline_facts_hold(small_study):
    holds = {check["id"]: check["holds"] for check in small_study.checks}
    assert holds == {
        "gae-unbiased-with-true-values": True,
        "lambda1-unbiased-whatever-critic": True,
        "lambda-below-1-biased-with-wrong-critic": True,
        "variance-grows-with-lambda": True,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_headline_facts_hold_for_other_mdps(seed):
    result = run_study(samples_per_pair=300, seed=seed, lambdas=(0.0, 0.5, 0.9, 1.0), nsteps=(4,))
    assert all(check["holds"] for check in result.checks), result.checks


def test_lambda1_bias_is_the_critic_error_and_wrong_critic_biases_lambda0(small_study):
    rows = {(r["estimator"], r["value"], r["critic_error"]): r for r in small_study.rows}
    errors = small_study.errors
    for kind in ("noise", "bias"):
        one = rows[("gae", 1.0, kind)]
        rms_error = float(np.sqrt(np.mean(np.repeat(errors[kind], 2) ** 2)))
        assert one["bias_rms_exact"] == pytest.approx(rms_error, rel=1e-3)
        assert (
            rows[("gae", 0.0, kind)]["gradient_bias_rms_exact"]
            > 10 * one["gradient_bias_rms_exact"]
        )
    # REINFORCE estimates Q, not A: its bias is V(s), a baseline with no gradient bias.
    reinforce = rows[("reinforce", None, "none (no critic)")]
    assert reinforce["bias_rms_exact"] == pytest.approx(
        float(np.sqrt(np.mean(small_study.V**2))), rel=1e-3
    )
    assert reinforce["gradient_bias_rms_exact"] < 1e-6
    assert reinforce["gradient_variance"] > rows[("mc", None, "exact")]["gradient_variance"]


def test_gradient_variance_of_an_action_independent_signal():
    policy = np.array([[0.25, 0.75], [0.5, 0.5]])
    mean = np.full((2, 2), 3.0)
    var = np.zeros((2, 2))
    # Â = 3 whatever happens: g = 3 (e_a − π); E g = 0, E|g|² = 9 Σ_a π_a |e_a − π|².
    expected = np.mean([9 * (2 * 0.25 * 0.75), 9 * (2 * 0.5 * 0.5)])
    assert gradient_variance(mean, var, policy) == pytest.approx(expected)


def test_cli_json_and_out(tmp_path, capsys):
    assert main(["study", "--json", "--samples", "200", "--out", str(tmp_path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"config", "mdp", "rows", "checks", "value_errors"} <= document.keys()
    assert document["config"]["samples_per_pair"] == 200
    assert (tmp_path / "study.png").stat().st_size > 0
    assert json.loads((tmp_path / "study.json").read_text()) == document


def test_cli_rejects_a_sample_size_without_variance(capsys):
    assert main(["study", "--samples", "1"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_the_study_is_reproducible_from_its_seed():
    """The committed numbers (docs/data/study) must come back from the same command."""
    kwargs = {"samples_per_pair": 100, "lambdas": (0.0, 1.0), "nsteps": (2,)}
    assert run_study(**kwargs).to_dict() == run_study(**kwargs).to_dict()
    assert run_study(seed=1, **kwargs).to_dict() != run_study(**kwargs).to_dict()
