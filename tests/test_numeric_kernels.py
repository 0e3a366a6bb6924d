"""The generated kernels against the SymPy oracle, the identities between estimators, torch.

Every property draws a random trajectory: T from 1, batch shape (), (k,) or (k, m),
float32 or float64, random terminations and truncations, γ and λ including the edges
0 and 1, n including 1 and n > T. The oracle (``gae_sym.oracle``) is the lambdified
closed form, so agreement means the recursion the kernels run equals the proven sum.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numeric
from gae_sym import oracle

torch = pytest.importorskip("torch")

EXAMPLES = settings(max_examples=60, deadline=None)

unit = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
batch_shapes = st.one_of(
    st.just(()),
    st.tuples(st.integers(1, 3)),
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
)


@st.composite
def trajectories(draw, max_steps: int = 12):
    """(rewards, values, next_values, terminated, truncated) as numpy arrays (T, *batch)."""
    steps = draw(st.integers(1, max_steps))
    shape = (steps, *draw(batch_shapes))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    p_terminated = draw(st.sampled_from([0.0, 0.15, 0.5]))
    p_truncated = draw(st.sampled_from([0.0, 0.15, 0.5]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rewards, values, next_values = (rng.normal(size=shape).astype(dtype) for _ in range(3))
    terminated = rng.random(shape) < p_terminated
    truncated = rng.random(shape) < p_truncated
    return rewards, values, next_values, terminated, truncated


def assert_close(actual, expected, inputs) -> None:
    """Float64 to ~1e-10; float32 to the accumulated rounding of a T-step sum."""
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    steps = expected.shape[0]
    scale = 1.0 + float(np.max(np.abs(expected)))
    tol = 1e-10 if inputs[0].dtype == np.float64 else 4e-7 * steps * scale
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def as_torch(arrays):
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


# --- each kernel against the oracle ------------------------------------------------------


@EXAMPLES
@given(trajectories(), unit)
def test_td_error_matches_oracle(trajectory, gamma):
    out = numeric.td_error(*trajectory, gamma=gamma)
    assert out.dtype == trajectory[0].dtype
    assert_close(out, oracle.td_error(*trajectory, gamma=gamma), trajectory)


@EXAMPLES
@given(trajectories(), unit, unit)
def test_gae_matches_oracle(trajectory, gamma, lam):
    out = numeric.gae(*trajectory, gamma=gamma, lam=lam)
    assert out.dtype == trajectory[0].dtype
    assert_close(out, oracle.gae(*trajectory, gamma=gamma, lam=lam), trajectory)


@EXAMPLES
@given(trajectories(), unit)
def test_mc_advantage_matches_oracle(trajectory, gamma):
    out = numeric.mc_advantage(*trajectory, gamma=gamma)
    assert_close(out, oracle.mc_advantage(*trajectory, gamma=gamma), trajectory)


@EXAMPLES
@given(trajectories(), unit, unit)
def test_lambda_return_matches_oracle(trajectory, gamma, lam):
    out = numeric.lambda_return(*trajectory, gamma=gamma, lam=lam)
    assert out.dtype == trajectory[0].dtype
    assert_close(out, oracle.lambda_return(*trajectory, gamma=gamma, lam=lam), trajectory)


@settings(max_examples=100, deadline=None)
@given(trajectories(), unit, st.one_of(st.just(1), st.integers(1, 16), st.just(10**9)))
def test_nstep_matches_oracle(trajectory, gamma, n):
    out = numeric.nstep_advantage(*trajectory, gamma=gamma, n=n)
    assert out.dtype == trajectory[0].dtype
    assert_close(out, oracle.nstep_advantage(*trajectory, gamma=gamma, n=n), trajectory)


@settings(max_examples=40, deadline=None)
@given(trajectories(), unit, unit, st.integers(1, 14))
def test_torch_kernels_match_oracle(trajectory, gamma, lam, n):
    tensors = as_torch(trajectory)
    cases = [
        (numeric.td_error(*tensors, gamma=gamma), oracle.td_error(*trajectory, gamma=gamma)),
        (
            numeric.gae(*tensors, gamma=gamma, lam=lam),
            oracle.gae(*trajectory, gamma=gamma, lam=lam),
        ),
        (
            numeric.nstep_advantage(*tensors, gamma=gamma, n=n),
            oracle.nstep_advantage(*trajectory, gamma=gamma, n=n),
        ),
        (
            numeric.lambda_return(*tensors, gamma=gamma, lam=lam),
            oracle.lambda_return(*trajectory, gamma=gamma, lam=lam),
        ),
    ]
    for result, expected in cases:
        assert isinstance(result, torch.Tensor)
        assert result.dtype == tensors[0].dtype
        assert result.device == tensors[0].device
        assert_close(result.numpy(), expected, trajectory)


# --- identities on numbers ----------------------------------------------------------------


@EXAMPLES
@given(trajectories(), unit)
def test_gae_at_lambda_zero_is_td_error(trajectory, gamma):
    np.testing.assert_array_equal(
        numeric.gae(*trajectory, gamma=gamma, lam=0.0), numeric.td_error(*trajectory, gamma=gamma)
    )


@EXAMPLES
@given(trajectories(), unit)
def test_gae_at_lambda_one_is_mc_advantage(trajectory, gamma):
    np.testing.assert_array_equal(
        numeric.gae(*trajectory, gamma=gamma, lam=1.0),
        numeric.mc_advantage(*trajectory, gamma=gamma),
    )


@EXAMPLES
@given(trajectories(), unit, unit)
def test_lambda_return_minus_values_is_gae(trajectory, gamma, lam):
    returns = numeric.lambda_return(*trajectory, gamma=gamma, lam=lam)
    advantages = numeric.gae(*trajectory, gamma=gamma, lam=lam)
    assert_close(returns - trajectory[1], advantages.astype(np.float64), trajectory)


@EXAMPLES
@given(trajectories(), unit, st.integers(0, 5))
def test_nstep_with_n_at_least_T_is_mc_advantage(trajectory, gamma, extra):
    steps = trajectory[0].shape[0]
    mc = numeric.mc_advantage(*trajectory, gamma=gamma).astype(np.float64)
    assert_close(numeric.nstep_advantage(*trajectory, gamma=gamma, n=steps + extra), mc, trajectory)


@EXAMPLES
@given(trajectories(), unit)
def test_nstep_with_n_one_is_td_error(trajectory, gamma):
    td = numeric.td_error(*trajectory, gamma=gamma).astype(np.float64)
    assert_close(numeric.nstep_advantage(*trajectory, gamma=gamma, n=1), td, trajectory)


@settings(max_examples=40, deadline=None)
@given(trajectories(), unit, unit, st.integers(1, 14))
def test_numpy_and_torch_agree(trajectory, gamma, lam, n):
    tensors = as_torch(trajectory)
    pairs = [
        (numeric.gae, {"gamma": gamma, "lam": lam}),
        (numeric.lambda_return, {"gamma": gamma, "lam": lam}),
        (numeric.mc_advantage, {"gamma": gamma}),
        (numeric.td_error, {"gamma": gamma}),
        (numeric.nstep_advantage, {"gamma": gamma, "n": n}),
    ]
    for function, kwargs in pairs:
        expected = function(*trajectory, **kwargs).astype(np.float64)
        assert_close(function(*tensors, **kwargs).numpy(), expected, trajectory)


# --- API behaviour --------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(trajectories(), unit, unit)
def test_inputs_are_never_modified(trajectory, gamma, lam):
    copies = [a.copy() for a in trajectory]
    numeric.gae(*trajectory, gamma=gamma, lam=lam)
    numeric.nstep_advantage(*trajectory, gamma=gamma, n=3)
    numeric.lambda_return(*trajectory, gamma=gamma, lam=lam)
    numeric.td_error(*trajectory, gamma=gamma)
    for before, after in zip(copies, trajectory, strict=True):
        np.testing.assert_array_equal(before, after)


def test_strided_and_integer_flag_inputs():
    rng = np.random.default_rng(3)
    wide = rng.normal(size=(9, 4, 6))
    arrays = [wide[:, :, ::2], wide[:, :, 1::2], wide[::-1, :, ::2]]
    terminated = (rng.random((9, 4, 3)) < 0.3).astype(np.int64)
    truncated = (rng.random((9, 4, 3)) < 0.3).astype(np.float32)
    expected = oracle.gae(*arrays, terminated, truncated, gamma=0.97, lam=0.9)
    result = numeric.gae(*arrays, terminated, truncated, gamma=0.97, lam=0.9)
    np.testing.assert_allclose(result, expected, atol=1e-12)


def test_mixed_float_precision_uses_the_widest():
    rewards = np.ones((4, 2), dtype=np.float32)
    values = np.zeros((4, 2), dtype=np.float64)
    flags = np.zeros((4, 2), dtype=bool)
    out = numeric.gae(rewards, values, values, flags, flags, gamma=0.9, lam=0.9)
    assert out.dtype == np.float64


def test_terminated_and_truncated_differ_only_in_the_bootstrap():
    # One step: terminated drops γ V(s'), truncated keeps it; both cut the chain.
    rewards = np.array([1.0, 1.0])
    values = np.array([0.5, 0.5])
    next_values = np.array([2.0, 2.0])
    term = np.array([True, False])
    trunc = np.array([False, True])
    out = numeric.gae(rewards, values, next_values, term, trunc, gamma=0.5, lam=1.0)
    np.testing.assert_allclose(out, [1.0 - 0.5, 1.0 + 0.5 * 2.0 - 0.5])


def test_torch_output_carries_no_gradient_and_inputs_keep_theirs():
    values = torch.tensor([0.5, 0.2, 0.1], requires_grad=True)
    rewards = torch.ones(3)
    flags = torch.zeros(3, dtype=torch.bool)
    next_values = torch.cat([values[1:], torch.zeros(1)])
    out = numeric.gae(rewards, values, next_values, flags, flags, gamma=0.9, lam=0.9)
    assert not out.requires_grad
    assert values.requires_grad


# --- the lecture's compute_gae -----------------------------------------------------------


def lecture_compute_gae(rewards, values, next_value, gamma=0.99, lam=0.95):
    """
    Compute Generalized Advantage Estimation

    Args:
        rewards: List of rewards [r_0, r_1, ..., r_T]
        values: List of value estimates [V(s_0), V(s_1), ..., V(s_T)]
        next_value: V(s_{T+1}) - value of next state
        gamma: Discount factor
        lam: Lambda parameter for GAE
    """
    gae = 0
    advantages = []

    # Work backwards from final timestep
    for t in reversed(range(len(rewards))):
        # TD error at time t
        delta = rewards[t] + gamma * next_value - values[t]

        # GAE accumulation
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)

        # Update next_value for previous timestep
        next_value = values[t]

    return advantages


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-10, 10), min_size=1, max_size=30),
    st.integers(0, 2**32 - 1),
    st.floats(-10, 10),
    unit,
    unit,
)
def test_compute_gae_agrees_with_the_lecture(rewards, seed, next_value, gamma, lam):
    values = np.random.default_rng(seed).normal(size=len(rewards)).tolist()
    expected = lecture_compute_gae(rewards, values, next_value, gamma, lam)
    np.testing.assert_allclose(
        numeric.compute_gae(rewards, values, next_value, gamma, lam), expected, atol=1e-9
    )


def test_compute_gae_defaults_and_lecture_style_torch_lists():
    rewards = [1, 1, 1, 1]  # CartPole rewards, as plain ints
    values = [torch.tensor([0.3]), torch.tensor([0.2]), torch.tensor([0.1]), torch.tensor([0.4])]
    next_value = torch.tensor([0.25])
    expected = lecture_compute_gae(rewards, [v.item() for v in values], next_value.item())
    result = numeric.compute_gae(torch.tensor(rewards, dtype=torch.float32), values, next_value)
    assert isinstance(result, torch.Tensor)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(
        numeric.compute_gae(rewards, [v.item() for v in values], 0.25), expected, atol=1e-12
    )


def test_compute_gae_takes_the_lecture_call_as_written():
    # The lecture's loop: rewards are Python floats from env.step, values and next_value
    # come from the critic (tensors of shape (1,) that require grad). float32 against the
    # lecture's float64 floats: an absolute bound too, as an advantage may be near 0.
    torch.manual_seed(0)
    critic = torch.nn.Linear(1, 1)
    states = torch.tensor([[0.1], [0.5], [-0.3]])
    values = [critic(s) for s in states]
    next_value = critic(torch.tensor([0.7]))
    rewards = [1.0, 1.0, 0.5]
    expected = lecture_compute_gae(rewards, [v.item() for v in values], next_value.item(), 0.9, 0.8)
    result = numeric.compute_gae(rewards, values, next_value, 0.9, 0.8)
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-6)
    # and the other way round: rewards a tensor, values plain floats
    result = numeric.compute_gae(
        torch.tensor(rewards), [v.item() for v in values], next_value.item(), 0.9, 0.8
    )
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_compute_gae_is_gae_with_next_values_shifted():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(2, 6, 3))
    next_value = rng.normal(size=3)
    flags = np.zeros((6, 3), dtype=bool)
    next_values = np.concatenate([values[1:], next_value[None]])
    np.testing.assert_array_equal(
        numeric.compute_gae(rewards, values, next_value, 0.9, 0.8),
        numeric.gae(rewards, values, next_values, flags, flags, gamma=0.9, lam=0.8),
    )


def _cpu_tensors(steps=30, cols=4, dtype=torch.float32, seed=0):
    rng = np.random.default_rng(seed)
    floats = [torch.tensor(rng.standard_normal((steps, cols)), dtype=dtype) for _ in range(3)]
    flags = [torch.from_numpy(rng.random((steps, cols)) < p) for p in (0.1, 0.05)]
    return floats, flags


def test_the_common_cpu_tensor_call_shares_memory_and_gives_what_the_torch_path_gives():
    from numeric._validate import cpu_tensor_views

    for dtype in (torch.float32, torch.float64):
        floats, flags = _cpu_tensors(dtype=dtype)
        views = cpu_tensor_views(*floats, *flags)
        assert views is not None
        pairs = zip(views, (*floats, *flags), strict=True)
        assert all(np.shares_memory(view, tensor.numpy()) for view, tensor in pairs)
        fast = numeric.gae(*floats, *flags, gamma=0.9, lam=0.8)
        slow = numeric.gae(*floats, *flags, gamma=0.9, lam=0.8, backend="torch")
        assert type(fast) is torch.Tensor and fast.dtype == dtype and fast.device.type == "cpu"
        assert not fast.requires_grad
        np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-5, atol=1e-6)
        # truncated left out: no time limit, on both paths
        assert torch.equal(
            numeric.gae(*floats, flags[0], gamma=0.9, lam=0.8),
            torch.from_numpy(
                numeric.gae(*(x.numpy() for x in floats), flags[0].numpy(), gamma=0.9, lam=0.8)
            ),
        )


def test_anything_but_the_common_cpu_tensor_call_keeps_the_torch_path():
    from numeric._validate import cpu_tensor_views

    floats, flags = _cpu_tensors()
    r, v, nv = floats
    declined = {
        "float16": (r.half(), v.half(), nv.half(), *flags),
        "mixed float dtypes": (r, v.double(), nv, *flags),
        "0/1 int flags": (r, v, nv, flags[0].int(), flags[1]),
        "flags of fewer axes": (r, v, nv, flags[0][:, 0], flags[1]),
        "a Parameter (a tensor subclass)": (torch.nn.Parameter(r), v, nv, *flags),
        "a numpy array among tensors": (r, v.numpy(), nv, *flags),
        "values of another shape": (r, v[:-1], nv, *flags),
    }
    for reason, arrays in declined.items():
        assert cpu_tensor_views(*arrays) is None, reason
    # ...where the torch path gives its own answers and messages:
    with pytest.raises(ValueError, match=r"shape mismatch: rewards has shape \(30, 4\) but "):
        numeric.gae(r, v[:-1], nv, *flags, gamma=0.9, lam=0.9)
    with pytest.raises(ValueError, match=r"mixed inputs: values has type ndarray"):
        numeric.gae(r, v.numpy(), nv, *flags, gamma=0.9, lam=0.9)
    grad_input = r.clone().requires_grad_()
    out = numeric.gae(grad_input, v, nv, *flags, gamma=0.9, lam=0.9)
    assert not out.requires_grad and grad_input.grad is None
