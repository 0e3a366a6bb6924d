"""The generated JAX kernels: numeric.* on jax.Array, in jax.jit and jax.vmap, vs the oracle."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from gae_sym import oracle

jax = pytest.importorskip("jax", reason="the jax extra is not installed (pip install '.[jax]')")
jnp = jax.numpy

import numeric  # noqa: E402
from numeric.kernels import jax_kernels  # noqa: E402

BACKENDS = ("jax", "jax-associative", "jax-chunked", "jax-numba")


def trajectory(steps=23, batch=4, seed=0, dtype=np.float32, end_rate=0.15):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)).astype(dtype) for _ in range(3))
    term = rng.random((steps, batch)) < end_rate / 2
    trunc = rng.random((steps, batch)) < end_rate / 2
    return r, v, nv, term, trunc


def close(actual, expected, dtype=np.float32):
    scale = 1.0 + float(np.max(np.abs(expected)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=0, atol=tol * scale)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (23, 4), (64, 1), (9, 2, 3)])
@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (1.0, 1.0), (0.0, 0.5), (0.9, 0.0)])
def test_gae_on_jax_arrays_matches_the_oracle(backend, shape, gamma, lam):
    arrays = trajectory(shape[0], int(np.prod(shape[1:])), seed=sum(shape))
    arrays = [a.reshape(shape) for a in arrays]
    expected = oracle.gae(*arrays, gamma=gamma, lam=lam)
    result = numeric.gae(*map(jnp.asarray, arrays), gamma=gamma, lam=lam, backend=backend)
    assert isinstance(result, jax.Array)
    assert result.shape == shape and result.dtype == jnp.float32
    close(result, expected)


@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_td_nstep_mc_lambda_return_on_jax_arrays(n):
    arrays = trajectory(17, 3, seed=n)
    jarrays = [jnp.asarray(a) for a in arrays]
    close(numeric.td_error(*jarrays, gamma=0.9), oracle.td_error(*arrays, gamma=0.9))
    close(
        numeric.nstep_advantage(*jarrays, gamma=0.9, n=n),
        oracle.nstep_advantage(*arrays, gamma=0.9, n=n),
    )
    close(numeric.mc_advantage(*jarrays, gamma=0.9), oracle.mc_advantage(*arrays, gamma=0.9))
    close(
        numeric.lambda_return(*jarrays, gamma=0.9, lam=0.7),
        oracle.lambda_return(*arrays, gamma=0.9, lam=0.7),
    )


@pytest.mark.parametrize("chunk", [1, 2, 5, 31, 64])
def test_chunked_scan_at_every_chunk_size(chunk):
    arrays = trajectory(31, 3, seed=chunk, end_rate=0.4)
    expected = oracle.gae(*arrays, gamma=0.97, lam=0.9)
    result = jax_kernels.gae_chunked(*map(jnp.asarray, arrays), 0.97, 0.9, chunk=chunk)
    close(result, expected)


def test_associative_scan_combine_order_matters_and_is_right():
    # The operator is not commutative: swapping later/earlier would give a different (wrong)
    # answer whenever a done flag sits inside the sequence. A long sequence with many dones
    # catches a swapped or misordered combine.
    arrays = trajectory(300, 2, seed=5, end_rate=0.3)
    expected = numeric.gae(*arrays, gamma=0.97, lam=0.9, backend="numpy")
    a, c = jax_kernels._combine((jnp.float32(2.0), jnp.float32(0.5)), (jnp.float32(1.0), 3.0))
    assert (float(a), float(c)) == (1.0 + 3.0 * 2.0, 1.5)  # earlier ∘ later
    result = numeric.gae(*map(jnp.asarray, arrays), gamma=0.97, lam=0.9, backend="jax-associative")
    close(result, expected)


def test_works_inside_jit_and_a_new_gamma_or_lambda_does_not_retrace():
    arrays = [jnp.asarray(a) for a in trajectory()]
    traces = []

    @jax.jit
    def advantages(r, v, nv, term, trunc, gamma, lam):
        traces.append(1)  # runs once per trace, not per call
        return numeric.gae(r, v, nv, term, trunc, gamma=gamma, lam=lam)

    first = advantages(*arrays, 0.99, 0.95)
    second = advantages(*arrays, 0.9, 0.8)
    third = advantages(*arrays, 0.5, 0.5)
    assert len(traces) == 1
    numpy_arrays = [np.asarray(a) for a in arrays]
    close(first, oracle.gae(*numpy_arrays, gamma=0.99, lam=0.95))
    close(second, oracle.gae(*numpy_arrays, gamma=0.9, lam=0.8))
    close(third, oracle.gae(*numpy_arrays, gamma=0.5, lam=0.5))


def test_eager_calls_with_new_gamma_reuse_the_compiled_kernel():
    arrays = [jnp.asarray(a) for a in trajectory(31, 2)]
    numeric.gae(*arrays, gamma=0.99, lam=0.95)
    from numeric import estimators

    before = (jax_kernels.gae_scan._cache_size(), estimators._jax_entry("gae")._cache_size())
    for gamma, lam in [(0.9, 0.8), (0.5, 0.1), (1.0, 1.0)]:
        numeric.gae(*arrays, gamma=gamma, lam=lam)
    assert (
        jax_kernels.gae_scan._cache_size(),
        estimators._jax_entry("gae")._cache_size(),
    ) == before


def test_vmap_over_trajectories_equals_the_batched_call():
    r, v, nv, term, trunc = trajectory(19, 6, seed=3)
    # vmap over axis 1 (environments): each call sees one (T,) trajectory.
    per_env = jax.vmap(lambda *x: numeric.gae(*x, gamma=0.95, lam=0.9), in_axes=1, out_axes=1)(
        *map(jnp.asarray, (r, v, nv, term, trunc))
    )
    close(per_env, oracle.gae(r, v, nv, term, trunc, gamma=0.95, lam=0.9))
    # vmap over gamma: a traced scalar per lane.
    gammas = jnp.asarray([0.5, 0.9, 0.99], dtype=jnp.float32)
    over_gamma = jax.vmap(
        lambda g: numeric.gae(*map(jnp.asarray, (r, v, nv, term, trunc)), gamma=g, lam=0.9)
    )(gammas)
    for i, g in enumerate([0.5, 0.9, 0.99]):
        close(over_gamma[i], oracle.gae(r, v, nv, term, trunc, gamma=g, lam=0.9))


def test_grad_through_the_advantages_is_allowed_in_jax():
    # JAX arrays carry no autograd state; the function is differentiable wrt rewards.
    arrays = [jnp.asarray(a) for a in trajectory(5, 1)]
    grad = jax.grad(lambda r: numeric.gae(r, *arrays[1:], gamma=0.9, lam=0.8).sum())(arrays[0])
    assert grad.shape == arrays[0].shape and bool(jnp.isfinite(grad).all())
    assert float(grad[0, 0]) == pytest.approx(1.0)  # only A_0 depends on r_0


def test_concrete_bad_values_are_refused_with_the_numpy_messages():
    arrays = [jnp.asarray(a) for a in trajectory(6, 2)]
    bad = arrays[1].at[3, 1].set(jnp.nan)
    with pytest.raises(ValueError, match=r"values contains NaN or inf \(first at index \(3, 1\)\)"):
        numeric.gae(arrays[0], bad, *arrays[2:], gamma=0.9, lam=0.9)
    with pytest.raises(ValueError, match="terminated must hold only 0/1"):
        numeric.gae(*arrays[:3], jnp.full((6, 2), 2), arrays[4], gamma=0.9, lam=0.9)
    with pytest.raises(ValueError, match="gamma must lie in"):
        numeric.gae(*arrays, gamma=jnp.float32(1.5), lam=0.9)
    with pytest.raises(ValueError, match="shape mismatch"):
        numeric.gae(arrays[0][:, :1], *arrays[1:], gamma=0.9, lam=0.9)
    with pytest.raises(ValueError, match="backend='numba' does not take jax arrays"):
        numeric.gae(*arrays, gamma=0.9, lam=0.9, backend="numba")


def test_flags_broadcast_and_truncated_default_on_jax():
    r, v, nv, term, _ = trajectory(12, 3, seed=9)
    column = term[:, 0]
    expected = oracle.gae(
        r, v, nv, np.repeat(column[:, None], 3, 1), np.zeros_like(term), gamma=0.9, lam=0.8
    )
    result = numeric.gae(*map(jnp.asarray, (r, v, nv, column)), gamma=0.9, lam=0.8)
    close(result, expected)


def test_dtype_is_preserved_and_integers_become_the_default_float():
    _, v, nv, term, trunc = trajectory(8, 2)
    ints = jnp.asarray(np.arange(16).reshape(8, 2))
    out = numeric.gae(ints, jnp.asarray(v), jnp.asarray(nv), term, trunc, gamma=0.9, lam=0.8)
    assert out.dtype == jnp.float32
    expected = oracle.gae(np.arange(16.0).reshape(8, 2), v, nv, term, trunc, gamma=0.9, lam=0.8)
    close(out, expected)


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_jax_is_imported_only_for_jax_arrays_or_the_jax_backend():
    probe = (
        "import sys, numpy as np, gae_sym, numeric;"
        "a = np.ones((4, 2)); f = np.zeros((4, 2), bool);"
        "numeric.gae(a, a, a, f, f, gamma=0.9, lam=0.9);"
        "numeric.nstep_advantage(a, a, a, f, gamma=0.9, n=2, backend='numpy');"
        "print('jax' in sys.modules, 'jaxlib' in sys.modules)"
    )
    assert _python(probe) == "False False"


@pytest.mark.parametrize("name", ["gamma", "lam"])
@pytest.mark.parametrize("shape", [(1,), (4,), (100, 4)])
def test_an_array_gamma_or_lambda_is_refused_by_every_jax_backend(name, shape):
    # Not an XLA error from the FFI handler, not a silent per-column γ from lax.scan.
    arrays = [jnp.asarray(a) for a in trajectory(100, 4)]
    params = {"gamma": 0.99, "lam": 0.95, name: jnp.full(shape, 0.9)}
    for backend in (None, "jax", "jax-numba", "jax-chunked"):
        with pytest.raises(
            ValueError, match=rf"{name} must be a scalar .* {re.escape(str(shape))}"
        ):
            numeric.gae(*arrays, **params, backend=backend)
        with pytest.raises(ValueError, match=rf"{name} must be a scalar"):
            jax.jit(lambda p, b=backend: numeric.gae(*arrays, **{**params, name: p}, backend=b))(
                params[name]
            )


def test_bfloat16_is_a_float_and_its_nan_is_found():
    arrays = [jnp.asarray(a) for a in trajectory(30, 3)]
    half = [a.astype(jnp.bfloat16) for a in arrays[:3]] + arrays[3:]
    result = numeric.gae(*half, gamma=0.9, lam=0.8)
    assert result.dtype == jnp.bfloat16
    expected = numeric.gae(*map(np.asarray, arrays), gamma=0.9, lam=0.8)
    np.testing.assert_allclose(np.asarray(result, dtype=np.float32), expected, atol=0.1)
    half[1] = half[1].at[7, 2].set(jnp.inf)
    with pytest.raises(ValueError, match=r"values contains NaN or inf \(first at index \(7, 2\)\)"):
        numeric.gae(*half, gamma=0.9, lam=0.8)


def test_an_empty_batch_is_named_as_such():
    arrays = [jnp.zeros((5, 0)) for _ in range(3)] + [jnp.zeros((5, 0), dtype=bool)] * 2
    with pytest.raises(ValueError, match=r"shape \(5, 0\); need a batch of at least one column"):
        numeric.gae(*arrays, gamma=0.9, lam=0.8)
    with pytest.raises(ValueError, match=r"shape \(5, 0\); need a batch of at least one column"):
        numeric.gae(*map(np.asarray, arrays), gamma=0.9, lam=0.8)


def test_a_concrete_zero_d_jax_gamma_works_with_numpy_arrays_too():
    r = np.ones((5, 2))
    flags = np.zeros((5, 2), dtype=bool)
    expected = numeric.gae(r, r, r, flags, flags, gamma=0.5, lam=0.95)
    got = numeric.gae(r, r, r, flags, flags, gamma=jnp.array(0.5), lam=0.95)  # 0.5 is exact
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="gamma must lie in"):
        numeric.gae(r, r, r, flags, flags, gamma=jnp.array(1.5), lam=0.95)


def test_a_zero_d_bool_or_text_like_gamma_is_refused_with_jax_arrays():
    # float(jnp.array(True)) is 1.0: a bool must not slip through as gamma = 1.
    arrays = [jnp.asarray(a) for a in trajectory(6, 2)]
    for bad in (jnp.array(True), jnp.array(False)):
        with pytest.raises(ValueError, match="gamma must be a real number"):
            numeric.gae(*arrays, gamma=bad, lam=0.9)
    np.testing.assert_array_equal(
        np.asarray(numeric.gae(*arrays, gamma=jnp.array(0.5), lam=0.9)),
        np.asarray(numeric.gae(*arrays, gamma=0.5, lam=0.9)),
    )
