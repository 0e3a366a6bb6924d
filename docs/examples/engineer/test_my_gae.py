# test_my_gae.py
import numpy as np
from hypothesis import given, settings
from my_gae import compute_gae, masked_gae

import numeric
from gae_sym.testing import assert_gae_matches, trajectories


def test_compute_gae_is_gae():
    assert_gae_matches(compute_gae, convention="lecture", max_examples=200)


def test_masked_gae_is_gae():
    assert_gae_matches(masked_gae, convention="masked", max_examples=200)


# The strategies also serve properties of your own: here, GAE at lambda = 0 is the TD error.
@settings(max_examples=50)
@given(trajectories("canonical", max_length=16, batch_shape=(4,), truncation_rate=0.2))
def test_gae_at_lambda_zero_is_the_td_error(traj):
    args = (traj.rewards, traj.values, traj.next_values, traj.terminated, traj.truncated)
    np.testing.assert_allclose(
        numeric.gae(*args, gamma=traj.gamma, lam=0.0), numeric.td_error(*args, gamma=traj.gamma)
    )
