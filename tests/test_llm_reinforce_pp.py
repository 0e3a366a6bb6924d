"""REINFORCE++'s return-to-go with response masks: ``mask_mode="reset"`` (verl, the default)
and ``"skip"`` against SymPy oracles of each, on every backend; the two agree on trailing
padding; verl's and OpenRLHF's loops, written as they are, land where the docstring says."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import lambdify

from gae_sym.llm_estimators import reinforce_pp_instance
from numeric import reinforce_pp_returns

torch = pytest.importorskip("torch")

FAST = settings(max_examples=30, deadline=None)
floats = st.floats(-2, 2, allow_nan=False, width=32)
gammas = st.sampled_from([0.0, 0.5, 0.9, 1.0])


@st.composite
def batches(draw, trailing_only=False):
    b, length = draw(st.integers(1, 3)), draw(st.integers(1, 7))
    r = np.array(draw(st.lists(floats, min_size=b * length, max_size=b * length)))
    if trailing_only:
        # prompt-free single turn: the response, then padding
        lengths = draw(st.lists(st.integers(0, length), min_size=b, max_size=b))
        m = np.array([[1] * n + [0] * (length - n) for n in lengths])
    else:
        m = np.array(
            draw(st.lists(st.sampled_from([0, 1]), min_size=b * length, max_size=b * length))
        )
    return r.reshape(b, length), m.reshape(b, length)


def _oracle(rewards, mask, gamma, mode):
    out = np.zeros_like(rewards)
    for row in range(rewards.shape[0]):
        rs, returns = reinforce_pp_instance(tuple(int(x) for x in mask[row]), mode, gamma)
        out[row] = lambdify(rs, returns, "math")(*rewards[row])
    return out


@FAST
@given(batches(), gammas, st.sampled_from(["reset", "skip"]))
def test_each_mask_mode_equals_its_sympy_oracle_numpy_and_torch(batch, gamma, mode):
    r, m = batch
    expected = _oracle(r, m, gamma, mode)
    before = [x.copy() for x in batch]
    got = reinforce_pp_returns(r, m, gamma=gamma, mask_mode=mode)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    for old, new in zip(before, batch, strict=True):
        np.testing.assert_array_equal(old, new)  # inputs never modified
    tr, tm = torch.as_tensor(r), torch.as_tensor(m)
    got_t = reinforce_pp_returns(tr, tm, gamma=gamma, mask_mode=mode)
    assert isinstance(got_t, torch.Tensor) and got_t.dtype == torch.float64
    np.testing.assert_allclose(got_t.numpy(), expected, atol=1e-9)


@FAST
@given(batches(trailing_only=True), gammas)
def test_the_modes_agree_when_the_mask_only_pads_the_end(batch, gamma):
    r, m = batch
    reset = reinforce_pp_returns(r, m, gamma=gamma, mask_mode="reset")
    skip = reinforce_pp_returns(r, m, gamma=gamma, mask_mode="skip")
    np.testing.assert_array_equal(reset, skip)


def test_the_modes_differ_across_an_observation_gap_and_the_reason_is_the_reset():
    r = np.array([[0.0, 0.0, 5.0, 0.0, 1.0]])  # the tool's token carries a reward: never used
    m = np.array([[1, 1, 0, 1, 1]])
    reset = reinforce_pp_returns(r, m, gamma=1.0)
    skip = reinforce_pp_returns(r, m, gamma=1.0, mask_mode="skip")
    np.testing.assert_allclose(reset, [[0.0, 0.0, 0.0, 1.0, 1.0]])  # the first turn sees 0
    np.testing.assert_allclose(skip, [[1.0, 1.0, 0.0, 1.0, 1.0]])  # the final reward crosses


def _verl_reinforce_pp_returns(token_level_rewards, response_mask, gamma):
    # verl's compute_reinforce_plus_plus_outcome_advantage, its returns (before whitening).
    returns = torch.zeros_like(token_level_rewards)
    running_return = 0
    for t in reversed(range(token_level_rewards.shape[1])):
        running_return = token_level_rewards[:, t] + gamma * running_return
        returns[:, t] = running_return
        running_return = running_return * response_mask[:, t]
    return returns


def _openrlhf_cumulative_returns(rewards, action_mask, gamma):
    # OpenRLHF's get_cumulative_returns: masked rewards zeroed, no reset.
    returns = torch.zeros_like(rewards)
    cumulative = torch.zeros(rewards.size(0), dtype=rewards.dtype)
    rewards = action_mask * rewards
    for t in reversed(range(rewards.size(1))):
        cumulative = rewards[:, t] + gamma * cumulative
        returns[:, t] = cumulative
    return returns


@FAST
@given(batches(), gammas)
def test_verl_is_reset_and_openrlhf_is_skip_at_gamma_one(batch, gamma):
    r, m = (torch.as_tensor(x, dtype=torch.float64) for x in batch)
    keep = m.bool()
    verl = _verl_reinforce_pp_returns(r, m, gamma)
    ours = reinforce_pp_returns(r, m, gamma=gamma)
    np.testing.assert_allclose(ours[keep].numpy(), verl[keep].numpy(), atol=1e-9)
    openrlhf = _openrlhf_cumulative_returns(r, m, 1.0)
    skip = reinforce_pp_returns(r, m, gamma=1.0, mask_mode="skip")
    np.testing.assert_allclose(skip[keep].numpy(), openrlhf[keep].numpy(), atol=1e-9)


def test_openrlhf_discounts_per_position_so_it_is_neither_mode_below_gamma_one():
    r = torch.tensor([[0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    m = torch.tensor([[1.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    openrlhf = _openrlhf_cumulative_returns(r, m, 0.5)[0, 0].item()
    skip = reinforce_pp_returns(r, m, gamma=0.5, mask_mode="skip")[0, 0].item()
    reset = reinforce_pp_returns(r, m, gamma=0.5)[0, 0].item()
    assert (openrlhf, skip, reset) == (0.125, 0.5, 0.0)


def test_jax_matches_numpy_in_both_modes_also_under_jit():
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(3)
    r = rng.normal(size=(3, 6))
    m = np.array([[0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1], [1, 0, 1, 0, 0, 1]], dtype=float)
    for mode in ("reset", "skip"):
        expected = reinforce_pp_returns(r, m, gamma=0.9, mask_mode=mode)
        f = jax.jit(lambda a, b, mode=mode: reinforce_pp_returns(a, b, gamma=0.9, mask_mode=mode))
        for got in (
            reinforce_pp_returns(
                jax.numpy.asarray(r), jax.numpy.asarray(m), gamma=0.9, mask_mode=mode
            ),
            f(jax.numpy.asarray(r), jax.numpy.asarray(m)),
        ):
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-5)


def test_float32_stays_float32_and_a_bad_mode_is_named():
    r = np.ones((2, 3), np.float32)
    assert reinforce_pp_returns(r, np.ones((2, 3)), gamma=1.0).dtype == np.float32
    with pytest.raises(ValueError, match="mask_mode must be one of reset, skip, got 'zero'"):
        reinforce_pp_returns(r, np.ones((2, 3)), gamma=1.0, mask_mode="zero")
    with pytest.raises(ValueError, match="only 0 and 1"):
        reinforce_pp_returns(r, np.full((2, 3), 2), gamma=1.0)
