"""Bad input is refused with a ValueError that says what is wrong and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import numeric

torch = pytest.importorskip("torch")


def trajectory(shape=(5, 2), dtype=np.float64):
    rng = np.random.default_rng(0)
    rewards, values, next_values = (rng.normal(size=shape).astype(dtype) for _ in range(3))
    flags = np.zeros(shape, dtype=bool)
    return [rewards, values, next_values, flags, flags.copy()]


ALL = [
    (numeric.td_error, {"gamma": 0.9}),
    (numeric.gae, {"gamma": 0.9, "lam": 0.9}),
    (numeric.mc_advantage, {"gamma": 0.9}),
    (numeric.lambda_return, {"gamma": 0.9, "lam": 0.9}),
    (numeric.nstep_advantage, {"gamma": 0.9, "n": 3}),
]
IDS = [f.__name__ for f, _ in ALL]


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("position", range(3))
def test_shape_mismatch_is_refused_not_broadcast(function, kwargs, position):
    arrays = trajectory()
    arrays[position] = arrays[position][:, :1]  # (5, 1) would broadcast against (5, 2)
    with pytest.raises(ValueError, match=r"shape mismatch.*no broadcasting"):
        function(*arrays, **kwargs)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("position", [3, 4])
@pytest.mark.parametrize("shape", [(4,), (5, 3), (2, 2), (5, 2, 1, 1), (1, 2)])
def test_flags_that_do_not_align_on_time_are_refused(function, kwargs, position, shape):
    # Flags may have fewer axes aligned on time ((5,) or (5, 1) against (5, 2)); anything else
    # (another T, another batch size, more axes, a flag broadcast over time) is refused.
    arrays = trajectory()
    arrays[position] = np.zeros(shape, dtype=bool)
    name = ["terminated", "truncated"][position - 3]
    with pytest.raises(ValueError, match=rf"shape mismatch.*{name} has shape.*aligned on time"):
        function(*arrays, **kwargs)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
def test_empty_arrays_are_refused(function, kwargs):
    with pytest.raises(ValueError, match="empty input"):
        function(*trajectory(shape=(0, 2)), **kwargs)
    with pytest.raises(ValueError, match="empty input"):
        function(*trajectory(shape=(3, 0)), **kwargs)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
def test_scalars_are_refused(function, kwargs):
    with pytest.raises(ValueError, match="shape \\(T, \\*batch\\)"):
        function(1.0, 0.5, 0.5, False, False, **kwargs)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "0.9", None, True])
def test_gamma_outside_unit_interval_is_refused(function, kwargs, bad):
    with pytest.raises(ValueError, match="gamma"):
        function(*trajectory(), **{**kwargs, "gamma": bad})


@pytest.mark.parametrize("function", [numeric.gae, numeric.lambda_return])
@pytest.mark.parametrize("bad", [-1e-9, 1.0000001, float("nan"), "x"])
def test_lam_outside_unit_interval_is_refused(function, bad):
    with pytest.raises(ValueError, match="lam"):
        function(*trajectory(), gamma=0.9, lam=bad)


@pytest.mark.parametrize("bad", [0, -2, 2.0, 1.5, "3", True, None])
def test_n_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        numeric.nstep_advantage(*trajectory(), gamma=0.9, n=bad)


def test_n_accepts_numpy_integers():
    out = numeric.nstep_advantage(*trajectory(), gamma=0.9, n=np.int64(2))
    assert out.shape == (5, 2)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("position", range(3))
@pytest.mark.parametrize("dtype", [bool, object, np.complex128, "U3"])
def test_non_float_rewards_and_values_are_refused(function, kwargs, position, dtype):
    arrays = trajectory()
    arrays[position] = np.ones((5, 2), dtype=dtype)
    name = ["rewards", "values", "next_values"][position]
    with pytest.raises(ValueError, match=f"{name} must be a floating-point array.*astype"):
        function(*arrays, **kwargs)


@pytest.mark.parametrize(("function", "kwargs"), ALL, ids=IDS)
@pytest.mark.parametrize("position", range(3))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_refused(function, kwargs, position, bad):
    arrays = trajectory()
    arrays[position] = arrays[position].copy()
    arrays[position][3, 1] = bad
    with pytest.raises(ValueError, match=r"NaN or inf \(first at index \(3, 1\)\)"):
        function(*arrays, **kwargs)


@pytest.mark.parametrize("position", [3, 4])
def test_flags_must_be_zero_or_one(position):
    arrays = trajectory()
    arrays[position] = np.full((5, 2), 2)
    with pytest.raises(ValueError, match="must hold only 0/1"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9)


# --- torch ----------------------------------------------------------------------------------


def torch_trajectory(shape=(5, 2), dtype=torch.float64):
    return [
        torch.from_numpy(a).to(dtype) if i < 3 else torch.from_numpy(a)
        for i, a in enumerate(trajectory(shape))
    ]


def test_torch_shape_mismatch_is_refused():
    arrays = torch_trajectory()
    arrays[1] = arrays[1][:, :1]
    with pytest.raises(ValueError, match=r"shape mismatch.*no broadcasting"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9)
    arrays = torch_trajectory()
    arrays[3] = torch.zeros(4, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"terminated has shape \(4,\).*aligned on time"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9)


def test_torch_and_numpy_cannot_be_mixed():
    arrays = torch_trajectory()
    arrays[2] = arrays[2].numpy()
    with pytest.raises(ValueError, match="mixed inputs: next_values"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9)


def test_torch_non_float_nan_and_empty_are_refused():
    arrays = torch_trajectory()
    arrays[0] = torch.ones((5, 2), dtype=torch.bool)
    with pytest.raises(ValueError, match="rewards must be a floating-point tensor"):
        numeric.td_error(*arrays, gamma=0.9)
    arrays = torch_trajectory()
    arrays[1] = arrays[1].clone()
    arrays[1][2, 0] = float("nan")
    with pytest.raises(ValueError, match=r"values contains NaN or inf \(first at index \(2, 0\)\)"):
        numeric.td_error(*arrays, gamma=0.9)
    with pytest.raises(ValueError, match="empty input"):
        numeric.td_error(*torch_trajectory(shape=(0, 3)), gamma=0.9)
    arrays = torch_trajectory()
    arrays[3] = torch.full((5, 2), 3)
    with pytest.raises(ValueError, match="terminated must hold only 0/1"):
        numeric.td_error(*arrays, gamma=0.9)


def test_compute_gae_refuses_a_wrong_next_value():
    with pytest.raises(ValueError, match="next_value has 2 elements"):
        numeric.compute_gae([1.0, 2.0], [0.0, 0.0], [0.1, 0.2])
    with pytest.raises(ValueError, match="empty input"):
        numeric.compute_gae([], [], 0.0)
    with pytest.raises(ValueError, match="gamma"):
        numeric.compute_gae([1.0], [0.0], 0.0, gamma=1.2)


# The finiteness check must not be replaced by a look at the result: the kernels *select* at
# episode ends (a NaN behind a done, or in V' where terminated, never reaches A). Attacks: a
# bad entry where a flag or a zero parameter takes it away, behind an episode end, in one
# column of many, in the last step, on the fast path and the general one.
@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("where", ["last-step", "after-done", "terminated-next", "one-column"])
@pytest.mark.parametrize("params", [(0.99, 0.95), (0.0, 0.0), (1.0, 1.0), (0.5, 0.0)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gae_result_check_finds_every_non_finite_input(position, where, params, bad, dtype):
    steps, cols = 9, 70  # 70 columns: the SIMD path as well as the narrow one below
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((steps, cols)).astype(dtype) for _ in range(3)]
    terminated = np.zeros((steps, cols), dtype=bool)
    truncated = np.zeros((steps, cols), dtype=bool)
    t, b = {
        "last-step": (steps - 1, 5),
        "after-done": (6, 0),
        "terminated-next": (4, 69),
        "one-column": (3, 33),
    }[where]
    if where == "after-done":
        truncated[5, b] = True  # the chain is cut just before the bad entry
    if where == "terminated-next":
        terminated[t, b] = True  # V'(s'_t) is multiplied by 0 in δ_t
    arrays[position][t, b] = bad
    for width in (cols, 3):
        sliced = [a[:, :width] if width < cols else a for a in arrays]
        if b >= width:
            continue
        flags = (terminated[:, :width], truncated[:, :width])
        with pytest.raises(ValueError, match=rf"\({t}, {b}\)"):
            numeric.gae(*sliced, *flags, gamma=params[0], lam=params[1])


def test_gae_overflow_from_finite_inputs_is_returned_not_refused():
    big = np.full((4, 64), 3e38, dtype=np.float32)
    out = numeric.gae(big, -big, big, np.zeros((4, 64), bool), gamma=1.0, lam=1.0)
    assert np.isinf(out).any()  # the advantages overflow float32; the inputs were fine


def test_a_zero_d_array_gamma_is_one_number_and_anything_else_array_like_is_refused():
    r = np.ones((5, 2))
    flags = np.zeros((5, 2), dtype=bool)
    expected = numeric.gae(r, r, r, flags, flags, gamma=0.9, lam=0.95)
    for gamma in (np.array(0.9), np.float64(0.9)):
        np.testing.assert_array_equal(
            numeric.gae(r, r, r, flags, flags, gamma=gamma, lam=0.95), expected
        )
    for bad, reason in [
        (np.array(True), "must be a real number"),
        (np.array([0.9]), "must be a real number"),
        (np.array("0.9"), "must be a real number"),
        (np.array(1.5), "must lie in"),
    ]:
        with pytest.raises(ValueError, match=f"gamma {reason}"):
            numeric.gae(r, r, r, flags, flags, gamma=bad, lam=0.95)
