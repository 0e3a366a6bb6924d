"""gae_sym.testing.trajectories: the generated cases respect each convention; the edge cases
cover what the issue requires."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gae_sym.testing import CONVENTIONS, edge_cases, named_inputs, segment, trajectories


@settings(max_examples=40)
@given(trajectories("lecture"))
def test_lecture_cases_are_one_segment_without_dones(traj):
    assert not traj.done.any()
    assert traj.rewards.ndim == 1
    np.testing.assert_array_equal(traj.next_values[:-1], traj.values[1:])
    assert set(named_inputs(traj, "lecture")) == {"rewards", "values", "next_value", "gamma", "lam"}


@settings(max_examples=40)
@given(trajectories("masked", termination_rate=0.5))
def test_masked_cases_have_terminations_but_no_truncations(traj):
    assert not traj.truncated.any()
    np.testing.assert_array_equal(traj.next_values[:-1], traj.values[1:])
    masks = named_inputs(traj, "masked")["masks"]
    np.testing.assert_array_equal(masks == 0, traj.terminated)


@settings(max_examples=40)
@given(trajectories("canonical", batch_shape=st.sampled_from([(), (2,), (2, 3)])))
def test_canonical_next_values_follow_the_episode(traj):
    # V(s'_t) is V(s_{t+1}) while the episode goes on; at a done it is the final observation's.
    going_on = ~traj.done[:-1]
    np.testing.assert_array_equal(traj.next_values[:-1][going_on], traj.values[1:][going_on])
    assert traj.rewards.shape[1:] == traj.batch_shape
    assert 0.0 <= traj.gamma <= 1.0 and 0.0 <= traj.lam <= 1.0


@settings(max_examples=20)
@given(
    trajectories(
        "canonical",
        min_length=5,
        max_length=8,
        dtype=np.float32,
        termination_rate=0.0,
        truncation_rate=1.0,
        reward_range=(0.0, 1.0),
        value_range=(-1.0, 0.0),
    )
)
def test_parameters_are_honoured(traj):
    assert 5 <= traj.length <= 8
    assert traj.dtype == np.float32
    assert not traj.terminated.any() and traj.truncated.all()
    assert traj.rewards.min() >= 0.0 and traj.rewards.max() <= 1.0
    assert traj.values.min() >= -1.0 and traj.values.max() <= 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"convention": "lecture", "termination_rate": 0.1},
        {"convention": "masked", "truncation_rate": 0.1},
        {"convention": "episode-start", "truncation_rate": 0.1},
        {"convention": "discount", "truncation_rate": 0.1},
        {"convention": "canonical", "termination_rate": 1.5},
        {"convention": "sideways"},
    ],
)
def test_inexpressible_requests_are_refused(kwargs):
    with pytest.raises(ValueError):
        trajectories(**kwargs)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_edge_cases_cover_the_required_corners(convention):
    cases = [traj for _, traj in edge_cases(convention)]
    assert any(c.gamma == 0.0 for c in cases)
    assert any(c.lam == 0.0 for c in cases)
    assert any(c.gamma == 1.0 for c in cases)
    assert any(c.lam == 1.0 for c in cases)
    assert any(c.length == 1 for c in cases)
    assert any(c.length >= 40 for c in cases)
    if convention != "lecture":
        assert any(c.terminated[-1] for c in cases)
        assert any(c.terminated[1:-1].any() for c in cases)
    if convention == "canonical":
        assert any(c.truncated[1:-1].any() for c in cases)
        # At a truncation the bootstrap value is not the next stored value (the reset state).
        assert any((c.next_values[:-1] != c.values[1:])[c.truncated[:-1]].any() for c in cases)
    for _, traj in edge_cases(convention):
        named_inputs(traj, convention)  # expressible in the convention


def test_edge_cases_are_fixed_by_the_seed():
    first = edge_cases("canonical", seed=3)
    again = edge_cases("canonical", seed=3)
    other = edge_cases("canonical", seed=4)
    assert [label for label, _ in first] == [label for label, _ in other]
    np.testing.assert_array_equal(first[7][1].rewards, again[7][1].rewards)
    assert not np.array_equal(first[7][1].rewards, other[7][1].rewards)


def test_segment_uses_final_values_only_where_an_episode_ended():
    traj = segment(
        [1.0, 2.0, 3.0],
        [10.0, 20.0, 30.0],
        40.0,
        gamma=0.9,
        lam=0.8,
        truncated=[False, True, False],
        final_values=[-1.0, -2.0, -3.0],
    )
    np.testing.assert_array_equal(traj.next_values, [20.0, -2.0, 40.0])
