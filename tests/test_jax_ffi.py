"""backend="jax-numba": the generated numba kernel called from XLA through its FFI.

Checked against the oracle and the lax.scan kernel, inside jit / vmap / grad, and attacked:
the handler must refuse any call frame that is not the one numeric.jax_ffi builds (wrong
operand count, dtype, rank or shape), with its reason, instead of reading past a buffer.
"""

from __future__ import annotations

import numpy as np
import pytest

from gae_sym import oracle

jax = pytest.importorskip("jax", reason="the jax extra is not installed (pip install '.[jax]')")
pytest.importorskip("numba")
jnp = jax.numpy

import numeric  # noqa: E402
from numeric import jax_ffi  # noqa: E402
from numeric.kernels import jax_kernels  # noqa: E402


def trajectory(steps, batch, seed=0, dtype=np.float32, end_rate=0.2):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)).astype(dtype) for _ in range(3))
    term = rng.random((steps, batch)) < end_rate / 2
    trunc = rng.random((steps, batch)) < end_rate / 2
    return r, v, nv, term, trunc


def tolerance(dtype, expected):
    return (1e-5 if dtype == np.float32 else 1e-12) * (1.0 + float(np.max(np.abs(expected))))


@pytest.fixture(autouse=True)
def _x64():
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


# Shapes that take each loop of gae_plan: SIMD columns, the blocked scan of one long column
# (T >= 4096 with B = 1), and a short single column (plain columns loop).
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (9, 3), (120, 1), (4096, 1), (10_007, 1), (50, 40)])
def test_matches_the_oracle_on_every_loop(dtype, shape):
    arrays = trajectory(*shape, seed=shape[0], dtype=dtype, end_rate=0.01)
    if shape[0] < 1000:
        expected = oracle.gae(*arrays, gamma=0.99, lam=0.95)
    else:  # the oracle's double sum is O(T^2) in Python: the numpy kernels (oracle-tested)
        expected = numeric.gae(*arrays, gamma=0.99, lam=0.95, backend="numpy")
    result = jax.jit(jax_ffi.gae)(*map(jnp.asarray, arrays), 0.99, 0.95)
    assert result.dtype == dtype and result.shape == shape
    np.testing.assert_allclose(np.asarray(result), expected, atol=tolerance(dtype, expected))


def test_equals_the_numba_kernel_bit_for_bit():
    # The same generated loops as numeric.gae on numpy arrays: not close, equal.
    arrays = trajectory(257, 17, seed=4)
    via_xla = numeric.gae(*map(jnp.asarray, arrays), gamma=0.97, lam=0.9, backend="jax-numba")
    direct = numeric.gae(*arrays, gamma=0.97, lam=0.9, backend="numba")
    assert np.array_equal(np.asarray(via_xla), direct)


def test_a_new_gamma_or_lambda_does_not_retrace_or_recompile():
    arrays = [jnp.asarray(a) for a in trajectory(40, 3)]
    traces = []

    @jax.jit
    def advantages(gamma, lam):
        traces.append(1)
        return numeric.gae(*arrays, gamma=gamma, lam=lam, backend="jax-numba")

    for gamma, lam in [(0.99, 0.95), (0.5, 0.1), (1.0, 1.0), (0.0, 0.7)]:
        expected = oracle.gae(*map(np.asarray, arrays), gamma=gamma, lam=lam)
        np.testing.assert_allclose(np.asarray(advantages(gamma, lam)), expected, atol=1e-5)
    assert len(traces) == 1


def test_vmap_over_trajectories_and_over_gamma_in_one_call():
    r, v, nv, term, trunc = trajectory(33, 4, seed=7)
    stacked = [jnp.asarray(np.stack([x, x[::-1]])) for x in (r, v, nv, term, trunc)]
    gammas = jnp.asarray([0.5, 0.99], dtype=jnp.float32)
    both = jax.vmap(jax_ffi.gae, in_axes=(0, 0, 0, 0, 0, 0, None))(*stacked, gammas, 0.9)
    for i, (g, flip) in enumerate([(0.5, False), (0.99, True)]):
        arrays = [x[::-1] if flip else x for x in (r, v, nv, term, trunc)]
        expected = oracle.gae(*arrays, gamma=g, lam=0.9)
        np.testing.assert_allclose(np.asarray(both[i]), expected, atol=1e-5)
    # Nested vmaps: two leading axes, unbatched lam.
    inner = jax.vmap(jax_ffi.gae, in_axes=(0, 0, 0, 0, 0, None, None))
    nested = jax.vmap(inner, in_axes=(0, 0, 0, 0, 0, None, None))(
        *[jnp.stack([x, x]) for x in stacked], 0.9, 0.8
    )
    assert nested.shape == (2, 2, 33, 4)
    np.testing.assert_allclose(
        np.asarray(nested[1, 1]),
        oracle.gae(r[::-1], v[::-1], nv[::-1], term[::-1], trunc[::-1], gamma=0.9, lam=0.8),
        atol=1e-5,
    )


def test_grad_and_jvp_equal_those_of_the_lax_scan_kernel():
    arrays = [jnp.asarray(a) for a in trajectory(21, 2, seed=2, dtype=np.float64)]

    def loss(kernel):
        def f(r, v, nv, gamma, lam):
            weights = jnp.arange(r.size, dtype=r.dtype).reshape(r.shape)
            return (weights * kernel(r, v, nv, *arrays[3:], gamma, lam)).sum()

        return f

    ours = jax.grad(loss(jax_ffi.gae), argnums=(0, 1, 2, 3, 4))(*arrays[:3], 0.9, 0.8)
    scan = jax.grad(loss(jax_kernels.gae_scan), argnums=(0, 1, 2, 3, 4))(*arrays[:3], 0.9, 0.8)
    for a, b in zip(ours, scan, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    assert float(ours[3]) != 0.0  # dA/dγ is not silently zero


def test_user_mistakes_get_a_message_not_a_crash():
    arrays = [jnp.asarray(a) for a in trajectory(6, 2)]
    half = [a.astype(jnp.float16) for a in arrays[:3]]
    with pytest.raises(ValueError, match="computes in float32 or float64, not float16"):
        numeric.gae(*half, *arrays[3:], gamma=0.9, lam=0.9, backend="jax-numba")
    with pytest.raises(ValueError, match="backend='jax-numba' does not take numpy arrays"):
        numeric.gae(*map(np.asarray, arrays), gamma=0.9, lam=0.9, backend="jax-numba")
    with pytest.raises(ValueError, match="float32 or float64, not int32"):
        jax_ffi.target("int32")


def _raw_call(operands, result):
    """Call the registered handler with operands of our choosing (what an attacker would)."""
    name = jax_ffi.target("float32")
    return jax.jit(lambda *ops: jax.ffi.ffi_call(name, result)(*ops))(*operands)


def _good_operands(steps=5, cols=3):
    r, v, nv, term, trunc = (jnp.asarray(a) for a in trajectory(steps, cols))
    return [r, v, nv, term, trunc, jnp.float32(0.9), jnp.float32(0.8)]


REFUSAL = "operands not as numeric.jax_ffi builds them"


def test_the_handler_runs_the_good_call():
    operands = _good_operands()
    out = _raw_call(operands, jax.ShapeDtypeStruct((5, 3), jnp.float32))
    expected = oracle.gae(*map(np.asarray, operands[:5]), gamma=0.9, lam=0.8)
    np.testing.assert_allclose(np.asarray(out), expected, atol=1e-5)


@pytest.mark.parametrize(
    "attack",
    [
        "one operand fewer",
        "one operand more",
        "float64 rewards into the float32 handler",
        "int flags",
        "rewards shorter than the result",
        "values with more columns",
        "rank-1 arrays",
        "gamma an array",
        "result of another dtype",
        "result of another shape",
    ],
)
def test_the_handler_refuses_every_other_call_frame_with_its_reason(attack):
    operands = _good_operands()
    result = jax.ShapeDtypeStruct((5, 3), jnp.float32)
    if attack == "one operand fewer":
        operands = operands[:-1]
    elif attack == "one operand more":
        operands = [*operands, jnp.float32(1.0)]
    elif attack == "float64 rewards into the float32 handler":
        operands[0] = operands[0].astype(jnp.float64)
    elif attack == "int flags":
        operands[3] = operands[3].astype(jnp.int8)
    elif attack == "rewards shorter than the result":
        operands[0] = operands[0][:4]
    elif attack == "values with more columns":
        operands[1] = jnp.concatenate([operands[1], operands[1]], axis=1)
    elif attack == "rank-1 arrays":
        operands = [a[:, 0] for a in operands[:5]] + operands[5:]
        result = jax.ShapeDtypeStruct((5,), jnp.float32)
    elif attack == "gamma an array":
        operands[5] = jnp.full((5, 3), 0.9, dtype=jnp.float32)
    elif attack == "result of another dtype":
        result = jax.ShapeDtypeStruct((5, 3), jnp.float64)
    elif attack == "result of another shape":
        result = jax.ShapeDtypeStruct((6, 3), jnp.float32)
    with pytest.raises(Exception, match=REFUSAL):
        np.asarray(_raw_call(operands, result))


def test_backends_checked_on_cartpole_include_it():
    from numeric.cartpole import rollout_check

    names = [name for name, _ in rollout_check.installed_backends()]
    assert "jax-numba-generated" in names


def _fields(header: str, struct: str) -> list[str]:
    import re

    body = re.search(r"struct " + struct + r" \{(.*?)\n\};", header, re.S).group(1)
    lines = [line.split("//")[0].strip() for line in body.splitlines()]
    return [re.split(r"[\s*]+", line.rstrip(";"))[-1] for line in lines if line.endswith(";")]


def test_the_installed_c_api_has_the_layout_the_handler_reads():
    # The handler reads the structs at fixed word offsets (numba_kernels, the FFI section);
    # a jaxlib whose c_api.h orders them differently must fail here, not crash a user.
    from pathlib import Path

    header = (Path(jax.ffi.include_dir()) / "xla" / "ffi" / "api" / "c_api.h").read_text()
    assert "#define XLA_FFI_API_MAJOR 0" in header
    list_fields = ["struct_size", "extension_start", "size", "types"]
    assert _fields(header, "XLA_FFI_CallFrame") == [
        "struct_size",
        "extension_start",
        "api",
        "ctx",
        "stage",
        "args",
        "rets",
        "attrs",
        "future",
    ]
    assert _fields(header, "XLA_FFI_Args") == [*list_fields, "args"]
    assert _fields(header, "XLA_FFI_Rets") == [*list_fields, "rets"]
    assert _fields(header, "XLA_FFI_Buffer") == [
        "struct_size",
        "extension_start",
        "dtype",
        "data",
        "rank",
        "dims",
    ]
    assert _fields(header, "XLA_FFI_Api_Version") == [
        "struct_size",
        "extension_start",
        "major_version",
        "minor_version",
    ]
    assert _fields(header, "XLA_FFI_Metadata_Extension") == ["extension_base", "metadata"]
    # XLA_FFI_Error_Create is word 6: two words, the 3-word api_version, internal_api.
    api = _fields(header, "XLA_FFI_Api")
    assert api[:4] == ["struct_size", "extension_start", "api_version", "internal_api"]
    assert api[4] == "_XLA_FFI_API_STRUCT_FIELD(XLA_FFI_Error_Create)"


def test_on_cpu_the_default_for_float32_and_float64_is_this_backend():
    # As numpy arrays default to numba: bit-equal to backend="jax-numba" (and to numba on
    # numpy), while lax.scan rounds differently somewhere in 3000 steps.
    for dtype in (np.float32, np.float64):
        arrays = trajectory(3000, 5, seed=8, dtype=dtype, end_rate=0.01)
        jarrays = list(map(jnp.asarray, arrays))
        default = np.asarray(numeric.gae(*jarrays, gamma=0.99, lam=0.95))
        assert default.dtype == dtype
        ffi = np.asarray(numeric.gae(*jarrays, gamma=0.99, lam=0.95, backend="jax-numba"))
        scan = np.asarray(numeric.gae(*jarrays, gamma=0.99, lam=0.95, backend="jax"))
        assert np.array_equal(default, ffi)
        assert np.array_equal(default, numeric.gae(*arrays, gamma=0.99, lam=0.95))
        assert not np.array_equal(default, scan)  # so the comparison above can fail


def test_where_it_cannot_run_the_default_is_lax_scan(monkeypatch):
    arrays = [jnp.asarray(a) for a in trajectory(300, 3, seed=9)]
    half = [a.astype(jnp.float16) for a in arrays[:3]] + arrays[3:]
    default = numeric.gae(*half, gamma=0.9, lam=0.8)
    assert default.dtype == jnp.float16
    assert np.array_equal(
        np.asarray(default), np.asarray(numeric.gae(*half, gamma=0.9, lam=0.8, backend="jax"))
    )
    # Without numba (as in a plain install), lax.scan, never an error.
    from numeric import estimators

    monkeypatch.setattr(estimators, "_numba_installed", lambda: False)
    with pytest.raises(ValueError, match="backend='jax-numba' needs numba"):
        numeric.gae(*arrays, gamma=0.9, lam=0.8, backend="jax-numba")
    default = np.asarray(numeric.gae(*arrays, gamma=0.9, lam=0.8))
    scan = np.asarray(numeric.gae(*arrays, gamma=0.9, lam=0.8, backend="jax"))
    assert np.array_equal(default, scan)


@pytest.mark.parametrize("name", ["rewards", "values", "next_values"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_one_pass_finite_check_still_names_the_first_bad_element(name, bad):
    # 16 columns: wide enough for numba's one-pass check (narrower arrays go to numpy's).
    arrays = [jnp.asarray(a) for a in trajectory(64, 16, seed=5)]
    position = ["rewards", "values", "next_values"].index(name)
    arrays[position] = arrays[position].at[41, 13].set(bad).at[50, 2].set(bad)
    with pytest.raises(
        ValueError, match=rf"{name} contains NaN or inf \(first at index \(41, 13\)\)"
    ):
        numeric.gae(*arrays, gamma=0.99, lam=0.95)


def test_finite_values_whose_sum_overflows_are_not_refused():
    # The one-pass check may say "look again" on a finite overflow; it must never refuse.
    arrays = [jnp.asarray(a) for a in trajectory(64, 16, seed=6)]
    big = jnp.full((64, 16), 3e38, dtype=jnp.float32)
    result = numeric.gae(big, -big, big, *arrays[3:], gamma=0.99, lam=0.95)
    assert result.shape == (64, 16)


@pytest.fixture
def two_threads():
    from numeric import _threads

    previous = _threads.configured_threads()
    numeric.set_threads(2)
    yield
    numeric.set_threads(previous)


# Shapes whose gae_plan takes a parallel loop at 2 threads: the column loop (>= 1024 columns,
# >= 2^16 steps) and the blocked scan of one long column; each is compared, bit for bit, with
# numba on numpy arrays at the same thread count (the parallel scan chunks differently from
# the one-thread scan, so equality to the 2-thread numpy call is the check that can fail).
@pytest.mark.parametrize("shape", [(70, 1030), (70_000, 1)])
def test_set_threads_reaches_the_handler_and_its_parallel_loops(shape, two_threads):
    import numba

    from numeric.kernels import numba_kernels

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    loop, _, _ = numba_kernels.gae_plan(*shape, 2)
    assert loop in (numba_kernels.COLUMNS_PARALLEL, numba_kernels.SCAN_PARALLEL)
    arrays = trajectory(*shape, seed=11, end_rate=0.001)
    jarrays = list(map(jnp.asarray, arrays))
    lowered = jax.jit(lambda *a: jax_ffi.gae(*a, 0.99, 0.95)).lower(*jarrays).as_text()
    assert "gae_sym_numba_gae_float32_2_threads" in lowered
    via_xla = np.asarray(numeric.gae(*jarrays, gamma=0.99, lam=0.95, backend="jax-numba"))
    direct = numeric.gae(*arrays, gamma=0.99, lam=0.95, backend="numba")
    assert np.array_equal(via_xla, direct)
    # vmap hands the handler leading slices: each takes the parallel loop in turn.
    stacked = [jnp.stack([a, a[::-1]]) for a in jarrays]
    both = np.asarray(jax.vmap(lambda *a: jax_ffi.gae(*a, 0.99, 0.95))(*stacked))
    assert np.array_equal(both[0], direct)
    flipped = numeric.gae(*(a[::-1].copy() for a in arrays), gamma=0.99, lam=0.95)
    assert np.array_equal(both[1], flipped)


def test_a_new_thread_count_retraces_the_public_call(monkeypatch):
    # The count is read at trace time; numeric.gae's jitted entry keys on it, so a call after
    # set_threads builds the other target instead of reusing the first trace.
    from numeric import _threads

    asked = []
    real = jax_ffi.target
    monkeypatch.setattr(
        jax_ffi, "target", lambda dtype, threads=1: asked.append(threads) or real(dtype, threads)
    )
    arrays = [jnp.asarray(a) for a in trajectory(33, 7, seed=12)]
    previous = _threads.configured_threads()
    try:
        for threads in (2, 1, 2):
            numeric.set_threads(threads)
            numeric.gae(*arrays, gamma=0.9, lam=0.8, backend="jax-numba").block_until_ready()
    finally:
        numeric.set_threads(previous)
    assert asked[:2] == [2, 1], asked  # the third call is the first trace again, cached


def test_more_threads_than_numba_has_are_numbas_pool():
    import numba

    from numeric.kernels import numba_kernels

    assert numba_kernels.numba_threads(10_000) == numba.config.NUMBA_NUM_THREADS
    assert numba_kernels.numba_threads(1) == 1
    assert jax_ffi.target("float32", 10_000) == jax_ffi.target(
        "float32", numba.config.NUMBA_NUM_THREADS
    )
