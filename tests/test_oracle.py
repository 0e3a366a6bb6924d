"""The oracle is the lambdified closed form: check it against SymPy's own evaluation and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sympy import Rational, nsimplify

from gae_sym import oracle
from gae_sym.estimators import gae_closed_form_flagged, td_error_flagged
from gae_sym.symbols import V, V_next, delta, done, gamma, lam, r, terminated


def small_trajectory():
    rewards = np.array([1.0, 2.0, -1.0, 0.5])
    values = np.array([0.5, -0.25, 1.0, 2.0])
    next_values = np.array([-0.25, 1.0, 3.0, 0.75])  # step 2 ends an episode: s' is final
    term = np.array([False, False, True, False])
    trunc = np.array([False, False, False, False])
    return rewards, values, next_values, term, trunc


def test_td_error_by_hand():
    result = oracle.td_error(*small_trajectory(), gamma=0.5)
    # r + γ (1 − term) V(s') − V(s)
    np.testing.assert_allclose(result, [1 - 0.125 - 0.5, 2 + 0.5 + 0.25, -1 - 1.0, 0.5 + 0.375 - 2])


def test_gae_by_hand_cuts_at_the_episode_end():
    g, lm = 0.5, 0.5
    d = oracle.td_error(*small_trajectory(), gamma=g)
    result = oracle.gae(*small_trajectory(), gamma=g, lam=lm)
    c = g * lm
    np.testing.assert_allclose(result, [d[0] + c * d[1] + c**2 * d[2], d[1] + c * d[2], d[2], d[3]])


def test_gae_matches_sympy_evaluating_the_closed_form_exactly():
    """An independent path: substitute rationals into the closed form and let SymPy sum."""
    rng = np.random.default_rng(7)
    steps = 5
    deltas = [Rational(int(x), 8) for x in rng.integers(-16, 16, size=steps)]
    dones = [0, 1, 0, 0, 1]
    g, lm = Rational(9, 10), Rational(3, 4)
    expected = []
    for t0 in range(steps):
        expr = gae_closed_form_flagged(t0, steps - t0)
        values = {delta[i]: deltas[i] for i in range(steps)}
        values.update({done[i]: dones[i] for i in range(steps)})
        expected.append(expr.doit().subs(values).subs({gamma: g, lam: lm}))
    # Feed the same δ through the oracle: r = δ, V = V' = 0, term = 0 makes δ_t = r_t.
    rewards = np.array([float(x) for x in deltas])
    zeros = np.zeros(steps)
    flags = np.array(dones, dtype=bool)
    result = oracle.gae(rewards, zeros, zeros, np.zeros(steps, bool), flags, gamma=0.9, lam=0.75)
    np.testing.assert_allclose(result, [float(x) for x in expected], rtol=1e-12)


def test_td_error_matches_sympy_substitution():
    traj = small_trajectory()
    result = oracle.td_error(*traj, gamma=0.5)
    for step in range(4):
        expr = td_error_flagged(step).subs(
            {
                r[step]: nsimplify(traj[0][step]),
                V[step]: nsimplify(traj[1][step]),
                V_next[step]: nsimplify(traj[2][step]),
                terminated[step]: int(traj[3][step]),
                gamma: Rational(1, 2),
            }
        )
        assert float(expr) == pytest.approx(result[step])


def test_nstep_truncates_at_n_at_done_and_at_the_end():
    traj = small_trajectory()
    g = 0.5
    d = oracle.td_error(*traj, gamma=g)
    np.testing.assert_allclose(oracle.nstep_advantage(*traj, gamma=g, n=1), d)
    np.testing.assert_allclose(
        oracle.nstep_advantage(*traj, gamma=g, n=2),
        [d[0] + g * d[1], d[1] + g * d[2], d[2], d[3]],
    )
    np.testing.assert_allclose(
        oracle.nstep_advantage(*traj, gamma=g, n=100), oracle.mc_advantage(*traj, gamma=g)
    )


def test_lambda_return_is_gae_plus_values_and_batches_work():
    rng = np.random.default_rng(1)
    shape = (6, 2, 3)
    rewards, values, next_values = rng.normal(size=(3, *shape))
    term, trunc = rng.random((2, *shape)) < 0.3
    returns = oracle.lambda_return(rewards, values, next_values, term, trunc, gamma=0.9, lam=0.8)
    advantages = oracle.gae(rewards, values, next_values, term, trunc, gamma=0.9, lam=0.8)
    assert returns.shape == shape
    np.testing.assert_allclose(returns - values, advantages, atol=1e-12)


def test_oracle_catches_a_missing_done_cut():
    """The lecture's recursion (no mask) differs from the oracle as soon as a done occurs."""
    traj = small_trajectory()
    d = oracle.td_error(*traj, gamma=0.9)
    no_cut = np.zeros_like(d)
    carry = 0.0
    for step in reversed(range(len(d))):
        carry = d[step] + 0.9 * 0.9 * carry
        no_cut[step] = carry
    assert not np.allclose(no_cut, oracle.gae(*traj, gamma=0.9, lam=0.9))


def test_oracles_registry_uses_the_cli_names():
    assert set(oracle.ORACLES) == {"td-error", "nstep", "mc", "gae", "lambda-return"}
