"""Gymnasium 1.x NEXT_STEP autoreset and time-limit truncation, on a hand-made episode."""

from __future__ import annotations

import numpy as np
import pytest

import numeric
from numeric.cartpole.batched import BatchedConfig, gae_loop, make_envs
from numeric.cartpole.rollout_check import (
    Rollout,
    RolloutChecker,
    check_rollout,
    discounted_returns_of_ended_episodes,
    tolerances,
)

GAMMA, LAM = 0.9, 0.8


def test_native_vector_env_next_step_autoreset():
    """What the batched loop relies on: the final obs at the end, then a reward-0 dummy step."""
    envs = make_envs(BatchedConfig(num_envs=2, max_episode_steps=5))
    obs, _ = envs.reset(seed=0)
    for step in range(5):
        obs, reward, terminated, truncated, _ = envs.step(np.array([step % 2, step % 2]))
    assert truncated.all() and not terminated.any() and np.all(reward == 1)
    final_obs = obs
    assert np.abs(final_obs).max() > 0.05  # not a reset state (those lie in [-0.05, 0.05])
    obs, reward, terminated, truncated, _ = envs.step(np.array([0, 1]))
    assert np.all(reward == 0) and not terminated.any() and not truncated.any()
    assert np.abs(obs).max() <= 0.05  # the reset observation, the action was ignored
    envs.close()


def _hand_made_rollout(dummy_value: float, dummy_next_value: float):
    """One env, 9 steps: an episode truncated at step 3 (after 4 steps), the dummy step 4, then an
    episode that terminates at step 6, the dummy step 7, and step 8 of a running episode."""
    rewards = np.array([1, 1, 1, 1, 0, 1, 1, 0, 1], dtype=np.float32)
    values = np.array([5, 4, 3, 2, dummy_value, 6, 7, 8, 9], dtype=np.float32)
    final_value = np.float32(10.0)  # V(final observation) of the truncated episode
    next_values = np.array(
        [4, 3, 2, final_value, dummy_next_value, 7, 0.5, 9, 11], dtype=np.float32
    )
    terminated = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0], dtype=bool)
    truncated = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    valid = np.array([1, 1, 1, 1, 0, 1, 1, 0, 1], dtype=bool)
    column = [a[:, None] for a in (rewards, values, next_values, terminated, truncated, valid)]
    return column


def _expected_advantages() -> np.ndarray:
    """Written out by hand: GAE within each episode, bootstrap only at the truncation."""
    g, gl = GAMMA, GAMMA * LAM
    d = [1 + g * 4 - 5, 1 + g * 3 - 4, 1 + g * 2 - 3, 1 + g * 10 - 2]  # truncated: + γ V(final)
    first = [d[0] + gl * (d[1] + gl * (d[2] + gl * d[3])), d[1] + gl * (d[2] + gl * d[3])]
    first += [d[2] + gl * d[3], d[3]]
    e = [1 + g * 7 - 6, 1 - 7]  # terminated at step 6: no bootstrap from V = 0.5
    second = [e[0] + gl * e[1], e[1]]
    third = [1 + g * 11 - 9]  # segment end: bootstrapped with next_values
    return np.array([*first, np.nan, *second, np.nan, *third])


@pytest.mark.parametrize("dummy", [(0.0, 0.0), (123.0, -77.0)])
def test_truncation_bootstraps_and_the_dummy_step_never_leaks(dummy):
    r, v, nv, term, trunc, valid = _hand_made_rollout(*dummy)
    expected = _expected_advantages()[:, None]
    mask = valid[:, 0]
    loop = gae_loop(r, v, nv, term, trunc, GAMMA, LAM)
    np.testing.assert_allclose(loop[mask], expected[mask], atol=1e-5)
    kernel = numeric.gae(r.astype(np.float64), v, nv, term, trunc, gamma=GAMMA, lam=LAM)
    np.testing.assert_allclose(kernel[mask], expected[mask], atol=1e-5)

    rollout = Rollout(r, v, nv, term, trunc, valid, loop, loop + v, GAMMA, LAM)
    diffs = check_rollout(rollout)
    assert diffs["gae-numpy-vs-loop"][0] < 1e-5
    assert diffs["mc-advantage-vs-raw-returns"] == (pytest.approx(0.0, abs=1e-12), 6)


def test_bootstrapping_the_reset_state_is_caught():
    """The silent bug: bootstrapping a truncation with V(reset obs) instead of V(final obs)."""
    r, v, nv, term, trunc, valid = _hand_made_rollout(0.0, 0.0)
    wrong_nv = nv.copy()
    wrong_nv[3] = v[5]  # V of the next episode's first state
    wrong = gae_loop(r, v, wrong_nv, term, trunc, GAMMA, LAM)
    rollout = Rollout(r, v, nv, term, trunc, valid, wrong, wrong + v, GAMMA, LAM)
    assert check_rollout(rollout)["gae-numpy-vs-loop"][0] > 1.0
    checker = RolloutChecker()
    checker.add(rollout)
    assert not checker.agree
    assert not next(c for c in checker.summary()["checks"] if c["name"] == "gae-numpy-vs-loop")[
        "agree"
    ]


def test_tolerance_is_a_rounding_bound_of_the_rollout():
    r, v, nv, term, trunc, valid = _hand_made_rollout(0.0, 0.0)
    loop = gae_loop(r, v, nv, term, trunc, GAMMA, LAM)
    bounds = tolerances(Rollout(r, v, nv, term, trunc, valid, loop, loop + v, GAMMA, LAM))
    magnitude = max(float(np.max(np.abs(a))) for a in (r, v, nv, loop, loop + v))  # V' = 11
    horizon = 1 / (1 - GAMMA * LAM)  # 3.57 < T = 9
    assert bounds["gae-numpy-vs-loop"] == pytest.approx(16 * 2.0**-24 * magnitude * horizon)
    assert bounds["td-error-vs-gae-lambda0"] == pytest.approx(16 * 2.0**-53 * magnitude * 9)
    long = tolerances(Rollout(r, v, nv, term, trunc, valid, loop, loop + v, 1.0, 1.0))
    assert long["gae-numpy-vs-loop"] == pytest.approx(16 * 2.0**-24 * magnitude * 9)  # H = T


def test_raw_returns_include_the_truncation_bootstrap_only():
    r, _, nv, term, trunc, _ = _hand_made_rollout(0.0, 0.0)
    G, ended = discounted_returns_of_ended_episodes(r, nv, term, trunc, GAMMA)
    assert ended[:, 0].tolist() == [True] * 7 + [False] * 2
    assert G[3, 0] == pytest.approx(1 + GAMMA * 10)
    assert G[0, 0] == pytest.approx(1 + GAMMA + GAMMA**2 + GAMMA**3 + GAMMA**4 * 10)
    assert G[6, 0] == pytest.approx(1.0)
    assert G[4, 0] == pytest.approx(0 + GAMMA * 1 + GAMMA**2 * 1)  # the dummy heads the segment
