"""The numeric API as a user driving it from a textbook exercise meets it (issue 13).

Integer rewards and lists of ints are computed in float64; ``truncated`` may be left out
(never truncated); flag arrays with fewer axes broadcast along time; γ/λ passed positionally
get a message naming the keywords; ``backend=`` picks a generated kernel family.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import numeric
from gae_sym import oracle

torch = pytest.importorskip("torch")

FUNCTIONS = [
    (numeric.td_error, {"gamma": 0.9}),
    (numeric.gae, {"gamma": 0.9, "lam": 0.8}),
    (numeric.mc_advantage, {"gamma": 0.9}),
    (numeric.lambda_return, {"gamma": 0.9, "lam": 0.8}),
    (numeric.nstep_advantage, {"gamma": 0.9, "n": 3}),
]
IDS = [f.__name__ for f, _ in FUNCTIONS]


def trajectory(steps=7, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)) for _ in range(3))
    term = rng.random((steps, batch)) < 0.2
    trunc = rng.random((steps, batch)) < 0.2
    return r, v, nv, term, trunc


# --- integers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("function", "kwargs"), FUNCTIONS, ids=IDS)
def test_integer_rewards_are_computed_in_float64(function, kwargs):
    steps = 6
    rewards = np.zeros(steps, dtype=int)
    rewards[-1] = 1
    values = np.arange(steps, dtype=np.int32) % 2
    flags = np.zeros(steps, dtype=bool)
    flags[-1] = True
    out = function(rewards, values, values, flags, **kwargs)
    expected = function(
        rewards.astype(float), values.astype(float), values.astype(float), flags, **kwargs
    )
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)
    as_lists = function(
        rewards.tolist(), values.tolist(), values.tolist(), flags.tolist(), **kwargs
    )
    np.testing.assert_array_equal(as_lists, expected)


def test_integers_join_the_float_dtype_of_the_other_arrays():
    _, v, nv, term, trunc = trajectory()
    out = numeric.gae(
        np.ones((7, 3), dtype=np.int64),
        v.astype(np.float32),
        nv.astype(np.float32),
        term,
        trunc,
        gamma=0.9,
        lam=0.8,
    )
    assert out.dtype == np.float32
    tensor = numeric.gae(
        torch.ones(7, 3, dtype=torch.int64),
        *map(torch.from_numpy, (v, nv, term)),
        gamma=0.9,
        lam=0.8,
    )
    assert tensor.dtype == torch.float64
    expected = oracle.gae(np.ones((7, 3)), v, nv, term, np.zeros_like(term), gamma=0.9, lam=0.8)
    np.testing.assert_allclose(tensor.numpy(), expected, atol=1e-12)


def test_bool_and_object_rewards_are_still_refused():
    r, v, nv, term, trunc = trajectory()
    with pytest.raises(ValueError, match="rewards must be a floating-point array"):
        numeric.gae(r > 0, v, nv, term, trunc, gamma=0.9, lam=0.8)


# --- truncated is optional ----------------------------------------------------------------------


@pytest.mark.parametrize(("function", "kwargs"), FUNCTIONS, ids=IDS)
def test_truncated_defaults_to_never(function, kwargs):
    r, v, nv, term, _ = trajectory()
    never = np.zeros_like(term)
    np.testing.assert_array_equal(
        function(r, v, nv, term, **kwargs), function(r, v, nv, term, never, **kwargs)
    )
    tensors = [torch.from_numpy(a) for a in (r, v, nv, term)]
    np.testing.assert_array_equal(
        function(*tensors, **kwargs).numpy(), function(r, v, nv, term, never, **kwargs)
    )
    assert inspect.signature(function).parameters["truncated"].default is None


def test_no_truncation_differs_from_truncation():
    # The default must really mean "never": a truncated step changes the result.
    r, v, nv, term, _ = trajectory()
    trunc = np.zeros_like(term)
    trunc[3, 1] = True
    assert not np.array_equal(
        numeric.gae(r, v, nv, term, gamma=0.9, lam=0.8),
        numeric.gae(r, v, nv, term, trunc, gamma=0.9, lam=0.8),
    )


# --- flags broadcast along time ----------------------------------------------------------------


@pytest.mark.parametrize(("function", "kwargs"), FUNCTIONS, ids=IDS)
@pytest.mark.parametrize("flag_shape", [(7,), (7, 1)])
def test_time_flags_broadcast_against_batched_values(function, kwargs, flag_shape):
    r, v, nv, term, trunc = trajectory(seed=4)
    column_term, column_trunc = term[:, :1], trunc[:, 1:2]
    full_term, full_trunc = np.repeat(column_term, 3, 1), np.repeat(column_trunc, 3, 1)
    expected = function(r, v, nv, full_term, full_trunc, **kwargs)
    short = [column_term.reshape(flag_shape), column_trunc.reshape(flag_shape)]
    np.testing.assert_array_equal(function(r, v, nv, *short, **kwargs), expected)
    tensors = [torch.from_numpy(a) for a in (r, v, nv, *short)]
    np.testing.assert_array_equal(function(*tensors, **kwargs).numpy(), expected)
    # 0/1 integers broadcast too, and the flag arrays are left as they were.
    ints = [s.astype(np.int8) for s in short]
    np.testing.assert_array_equal(function(r, v, nv, *ints, **kwargs), expected)
    assert ints[0].shape == flag_shape


def test_time_flags_broadcast_over_several_batch_axes():
    r, v, nv, term, trunc = (a.reshape(7, 3, 1).repeat(2, axis=2) for a in trajectory(seed=6))
    expected = numeric.gae(
        r, v, nv, term[:, :1, :1].repeat(3, 1).repeat(2, 2), trunc, gamma=0.9, lam=0.8
    )
    np.testing.assert_array_equal(
        numeric.gae(r, v, nv, term[:, 0, 0], trunc, gamma=0.9, lam=0.8), expected
    )


def test_docstrings_say_flags_broadcast_and_truncated_is_optional():
    for function, _ in FUNCTIONS:
        doc = function.__doc__
        assert "(T,)" in doc and "None" in doc, function.__name__
    assert "truncated`` None" in numeric.gae.__doc__
    assert "(T,)" in numeric.gae.__doc__ and "every column" in numeric.gae.__doc__


# --- gamma and lambda are keywords ---------------------------------------------------------------


@pytest.mark.parametrize(("function", "kwargs"), FUNCTIONS, ids=IDS)
def test_positional_gamma_names_the_keywords(function, kwargs):
    r, v, nv, term, trunc = trajectory()
    with pytest.raises(TypeError, match=r"as keyword arguments.*gamma=") as error:
        function(r, v, nv, term, trunc, *kwargs.values())
    for name in kwargs:
        assert f"{name}=" in str(error.value)
    # gamma in truncated's place: a number where a flag array goes.
    with pytest.raises(TypeError, match=r"truncated=0.99 is a number.*keyword-only"):
        function(r, v, nv, term, 0.99, **kwargs)


def test_lecture_style_positional_gamma_of_compute_gae_still_works():
    out = numeric.compute_gae([1, 0, 1], [0.5, 0.2, 0.1], 0.0, 0.9, 0.8)
    assert out.dtype == np.float64 and out.shape == (3,)


# --- backend= -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [None, "numba", "numpy"])
def test_every_numpy_backend_agrees_with_the_oracle(backend):
    arrays = trajectory(40, 5, seed=7)
    expected = oracle.gae(*arrays, gamma=0.95, lam=0.9)
    out = numeric.gae(*arrays, gamma=0.95, lam=0.9, backend=backend)
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_torch_backend_runs_the_generated_torch_kernels_on_cpu():
    arrays = trajectory(40, 5, seed=8)
    tensors = [torch.from_numpy(a) for a in arrays]
    out = numeric.gae(*tensors, gamma=0.95, lam=0.9, backend="torch")
    np.testing.assert_allclose(out.numpy(), oracle.gae(*arrays, gamma=0.95, lam=0.9), atol=1e-12)


def test_backend_names_are_checked():
    arrays = trajectory()
    with pytest.raises(ValueError, match="unknown backend 'cuda'; choose one of numba, numpy"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9, backend="cuda")
    with pytest.raises(ValueError, match="backend='torch' does not take numpy arrays"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9, backend="torch")


@pytest.mark.parametrize("backend", [None, "numba", "numpy", "torch"])
def test_inputs_are_never_modified(backend):
    arrays = trajectory(50, 4, seed=9)
    if backend == "torch":
        arrays = [torch.from_numpy(a) for a in arrays]
    before = [a.clone() if backend == "torch" else a.copy() for a in arrays]
    for function, kwargs in FUNCTIONS:
        function(*arrays, **kwargs, backend=backend)
    for a, b in zip(arrays, before, strict=True):
        assert (a == b).all()
