"""The one-pass finite check the public numpy path uses with numba (numba_kernels.all_finite)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

import numeric
from numeric.kernels import numba_kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", range(3))
def test_every_non_finite_value_is_found_wherever_it_is(dtype, bad, position):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((37, 16)).astype(dtype) for _ in range(3)]
    assert numba_kernels.all_finite(*arrays) is True
    for where in [(0, 0), (36, 15), (17, 3)]:
        broken = [a.copy() for a in arrays]
        broken[position][where] = bad
        assert numba_kernels.all_finite(*broken) is False
        name = ["rewards", "values", "next_values"][position]
        flags = np.zeros((37, 16), dtype=bool)
        with pytest.raises(ValueError, match=rf"{name} contains NaN or inf \(first at index"):
            numeric.gae(*broken, flags, gamma=0.9, lam=0.9)


def test_huge_finite_values_are_not_mistaken_for_overflow():
    # x * 0 is 0 for any finite x: a sum of maxima would overflow to inf, this does not.
    big = np.full((10, 16), np.finfo(np.float32).max, dtype=np.float32)
    assert numba_kernels.all_finite(big, big, -big) is True
    numeric.td_error(big, big * 0, big * 0, np.ones((10, 16), bool), gamma=0.0)


def test_it_declines_what_it_does_not_cover():
    one_column = np.ones((100, 1))
    assert numba_kernels.all_finite(one_column, one_column, one_column) is None
    mixed = np.ones((4, 16), np.float32)
    assert numba_kernels.all_finite(mixed, mixed.astype(np.float64), mixed) is None
    half = mixed.astype(np.float16)
    assert numba_kernels.all_finite(half, half, half) is None


# --- the check numeric.gae makes inside the kernel's own pass (gae_kernel_finite) ----------


def _batch(steps, cols, dtype, seed=0):
    rng = np.random.default_rng(seed)
    floats = [rng.standard_normal((steps, cols)).astype(dtype) for _ in range(3)]
    term = rng.random((steps, cols)) < 0.05
    trunc = rng.random((steps, cols)) < 0.02
    return floats, term, trunc


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_check_sees_every_position_the_select_hides(dtype, threads):
    # nv at a terminated step never enters delta (a select, not a multiply by 0): the check
    # adds nv itself, so a NaN there is still found; so is one in the last row, which the
    # loop computes apart, and in the first and last column.
    steps, cols = 300, 64  # 19,200 steps: with 2 threads still one column loop...
    if threads == 2:
        steps = 2048  # ...and here the parallel column loop (>= 2**16 steps, >= 32 columns)
    floats, term, trunc = _batch(steps, cols, dtype)
    out = np.empty_like(floats[0])
    numeric.set_threads(threads)
    try:
        assert numba_kernels.gae_kernel_finite(*floats, term, trunc, 0.9, 0.9, out) is True
        for where in [(steps - 1, 0), (0, cols - 1), (steps // 2, 7), (steps - 1, cols - 1)]:
            for position in range(3):
                for bad in (np.nan, np.inf, -np.inf):
                    broken = [a.copy() for a in floats]
                    broken[position][where] = bad
                    flags = term.copy()
                    flags[where] = position == 2  # nv's NaN on a terminated step
                    found = numba_kernels.gae_kernel_finite(*broken, flags, trunc, 0.9, 0.9, out)
                    assert found is False, (where, position, bad)
                    name = ["rewards", "values", "next_values"][position]
                    message = rf"{name} contains NaN or inf \(first at index \({where[0]}, "
                    with pytest.raises(ValueError, match=message):
                        numeric.gae(*broken, flags, trunc, gamma=0.9, lam=0.9)
    finally:
        numeric.set_threads(None)


def test_an_overflow_is_a_second_look_not_a_refusal():
    # delta_t + nv_t overflows to inf on finite inputs: the kernel says "maybe not finite",
    # the exact check finds every input finite, and the result stands (as the numpy path's).
    big = np.finfo(np.float32).max
    r = np.full((8, 16), big, np.float32)
    v = np.full((8, 16), -big, np.float32)
    flags = np.zeros((8, 16), bool)
    flags[-1] = True
    out = np.empty_like(r)
    assert numba_kernels.gae_kernel_finite(r, v, r, flags, flags, 0.5, 0.5, out) is False
    with np.errstate(over="ignore"):
        result = numeric.gae(r, v, r, flags, gamma=0.5, lam=0.5)
        expected = numeric.gae(r, v, r, flags, gamma=0.5, lam=0.5, backend="numpy")
    np.testing.assert_array_equal(result, expected)
    assert np.isinf(result).all()


def test_the_index_reported_is_the_callers_shape_not_the_kernels():
    # The kernel sees (T, B) = (20, 12); the message names the (20, 3, 4) index.
    floats, term, _ = _batch(20, 12, np.float32)
    arrays = [a.reshape(20, 3, 4) for a in floats]
    arrays[1][13, 2, 1] = np.nan
    message = r"values contains NaN or inf \(first at index \(13, 2, 1\)"
    with pytest.raises(ValueError, match=message):
        numeric.gae(*arrays, term.reshape(20, 3, 4), gamma=0.9, lam=0.9)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_blocked_scan_of_one_long_column_looks_too(threads):
    # One long column takes the blocked scan: its delta pass covers the chunks, its tail loop
    # the steps after them (5,000 = 4 chunks of 1,250; 70,000 on two threads: the parallel
    # scan, 32 chunks of 2,187 and a tail of 16).
    steps = 5000 if threads == 1 else 70_000
    rng = np.random.default_rng(1)
    flags = np.zeros((steps, 1), bool)
    numeric.set_threads(threads)
    try:
        for where in (0, 1249, 1250, steps // 2, steps - 17, steps - 1):
            for position in range(3):
                floats = [rng.standard_normal((steps, 1)) for _ in range(3)]
                out = np.empty_like(floats[0])
                assert numba_kernels.gae_kernel_finite(*floats, flags, flags, 0.9, 0.9, out)
                floats[position][where, 0] = np.inf
                assert not numba_kernels.gae_kernel_finite(*floats, flags, flags, 0.9, 0.9, out)
                name = ["rewards", "values", "next_values"][position]
                message = rf"{name} contains NaN or inf \(first at index \({where},\)"
                with pytest.raises(ValueError, match=message):
                    numeric.gae(*(a[:, 0] for a in floats), flags[:, 0], gamma=0.9, lam=0.9)
    finally:
        numeric.set_threads(None)


def test_checking_changes_no_bit_of_the_result():
    for steps, cols in [(1, 1), (7, 1), (5000, 1), (300, 3), (512, 64)]:
        floats, term, trunc = _batch(steps, cols, np.float32, seed=steps)
        plain, checked = np.empty_like(floats[0]), np.empty_like(floats[0])
        numba_kernels.gae_kernel(*floats, term, trunc, 0.97, 0.9, plain)
        assert numba_kernels.gae_kernel_finite(*floats, term, trunc, 0.97, 0.9, checked)
        np.testing.assert_array_equal(plain, checked)
        public = numeric.gae(*floats, term, trunc, gamma=0.97, lam=0.9)
        np.testing.assert_array_equal(public, plain)


def test_the_row_loop_keeps_its_simd_loop():
    # LLVM hoists the SIMD loop's alias checks out of a loop whose row addresses it can
    # follow, and that hoisted check refuses a negative step ("stride.check"): a backward row
    # loop would then always run scalar. gae_columns indexes row ``step ^ opaque`` to hide
    # the step. Compiled fresh (numba does not show the IR of cached code), and against the
    # same source without the xor, which must still show the refusal: if a new LLVM stops
    # hoisting it, this says so and the xor can go.
    import inspect
    import textwrap

    import numba

    source = textwrap.dedent(inspect.getsource(numba_kernels.gae_columns.py_func))
    source = source[source.index("def ") :]
    assert "t = step ^ opaque" in source
    plain_source = source.replace("t = step ^ opaque", "t = step")
    namespace = dict(vars(numba_kernels))
    exec(compile(plain_source, "<gae_columns without xor>", "exec"), namespace)
    floats, term, trunc = _batch(64, 16, np.float32)
    z = np.float32
    args = (*floats, term, trunc, z(0.99), z(0.9), z(0), np.empty_like(floats[0]), 0, 16, 0, None)
    for function, hoisted in [
        (numba_kernels.gae_columns.py_func, False),
        (namespace["gae_columns"], True),
    ]:
        compiled = numba.njit(nogil=True)(function)
        compiled(*args)
        (ir,) = compiled.inspect_llvm().values()
        assert "x float>" in ir, "no SIMD loop at all"
        assert ("stride.check" in ir) is hoisted, function


@pytest.mark.parametrize(
    ("loop", "local"), [("gae_columns", "nv_t"), ("gae_columns", "a_next"), ("_td_errors", "nv_t")]
)
def test_loads_are_made_before_the_select_not_inside_it(loop, local):
    # Read inside ``zero if term else gamma * nv[t, b]`` (or ``... else out[t + 1, b] *
    # decay``) a load is conditional and LLVM vectorizes it as a masked load: out of cache
    # the column loop ran 1.6-1.9x slower (10^5 x 64 and 10^6 x 64). The generated loops
    # read V'_t and A_{t+1} into locals first. Compiled fresh, and against the same source
    # with one load moved back into its select, which must show the masked load: if a new
    # LLVM stops emitting it there, this says so.
    import inspect
    import re
    import textwrap

    import numba

    source = textwrap.dedent(inspect.getsource(getattr(numba_kernels, loop).py_func))
    source = source[source.index("def ") :]
    pattern = rf"\n\s*{local} = ([^\n]*)"
    loads = re.findall(pattern, source)
    assert loads, f"no {local} load in the generated loop"
    inlined = source
    for load in loads:  # each load, then the use that follows it
        at = inlined.index(f"{local} = {load}")
        head, rest = inlined[:at], inlined[at:].split("\n", 1)[1]
        use = re.search(rf"\b{local}\b", rest)
        inlined = head.rstrip(" ") + rest[: use.start()] + load + rest[use.end() :]
    assert not re.search(rf"\b{local}\b", inlined)
    namespace = dict(vars(numba_kernels))
    exec(compile(inlined, f"<{loop} loading {local} inside the select>", "exec"), namespace)
    floats, term, trunc = _batch(64, 16, np.float32)
    z = np.float32
    if loop == "gae_columns":
        out = np.empty_like(floats[0])
        args = (*floats, term, trunc, z(0.99), z(0.9), z(0), out, 0, 16, 0, None)
    else:
        columns = [np.ascontiguousarray(a[:, 0]) for a in (*floats, term)]
        args = (*columns, z(0.99), z(0), np.empty_like(columns[0]), 0, 64, None)
    for function, masked in [
        (getattr(numba_kernels, loop).py_func, False),
        (namespace[loop], True),
    ]:
        compiled = numba.njit(nogil=True)(function)
        compiled(*args)
        ir = "".join(compiled.inspect_llvm().values())
        assert "x float>" in ir, "no SIMD loop at all"
        assert ("llvm.masked.load" in ir) is masked, function


def test_compiled_callers_pass_an_opaque_zero_that_keeps_the_simd_loop():
    # From Python, opaque = 0 arrives at run time. From compiled code (the XLA FFI handler) a
    # literal 0 is folded into the inlined loop and the refusal comes back; _opaque_zero is
    # the handler's 0 and must not be. Both callers compiled fresh, their IR read.
    import inspect

    import numba

    columns = numba.njit(nogil=True)(numba_kernels.gae_columns.py_func)
    opaque_zero = numba_kernels._opaque_zero
    z = np.float32

    def literal(r, v, nv, term, trunc, out):
        columns(r, v, nv, term, trunc, z(0.99), z(0.9), z(0), out, 0, r.shape[1], 0, None)

    def hidden(r, v, nv, term, trunc, out):
        zero = opaque_zero()
        columns(r, v, nv, term, trunc, z(0.99), z(0.9), z(0), out, 0, r.shape[1], zero, None)

    floats, term, trunc = _batch(64, 16, np.float32)
    for caller, refused in [(literal, True), (hidden, False)]:
        compiled = numba.njit(caller)
        out = np.empty_like(floats[0])
        compiled(*floats, term, trunc, out)
        expected = np.empty_like(out)
        numba_kernels.gae_kernel(*floats, term, trunc, 0.99, 0.9 / 0.99, expected)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
        ir = "".join(compiled.inspect_llvm().values())
        assert "x float>" in ir, "no SIMD loop at all"
        assert ("stride.check" in ir) is refused, caller.__name__
    assert "_opaque_zero()" in inspect.getsource(numba_kernels._ffi_gae.py_func)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_cpu_tensors_are_checked_in_the_kernel_pass_with_the_same_messages(dtype):
    # float32/float64 CPU tensors: the numba kernel's pass; float16: the eager torch check
    # (the torch kernels run it). Either way the same refusal, naming the caller's index.
    torch = pytest.importorskip("torch")
    floats, term, trunc = _batch(40, 3 * 4, np.float64, seed=4)
    shape = (40, 3, 4)
    for position in range(3):
        tensors = [torch.tensor(a.reshape(shape), dtype=getattr(torch, dtype)) for a in floats]
        flags = [torch.from_numpy(f.reshape(shape)) for f in (term, trunc)]
        assert torch.isfinite(numeric.gae(*tensors, *flags, gamma=0.9, lam=0.9)).all()
        tensors[position][39, 2, 3] = float("nan")
        name = ["rewards", "values", "next_values"][position]
        message = rf"{name} contains NaN or inf \(first at index \(39, 2, 3\)\)"
        with pytest.raises(ValueError, match=message):
            numeric.gae(*tensors, *flags, gamma=0.9, lam=0.9)


def test_a_nan_in_a_float16_tensor_mixed_with_float32_is_still_found():
    # float16 is checked eagerly, float32 in the kernel pass, after promotion to float32.
    torch = pytest.importorskip("torch")
    floats, term, _ = _batch(30, 5, np.float32, seed=5)
    r, v, nv = (torch.from_numpy(a) for a in floats)
    flags = torch.from_numpy(term)
    half = v.half()
    half[7, 1] = float("inf")
    with pytest.raises(ValueError, match=r"values contains NaN or inf \(first at index \(7, 1\)\)"):
        numeric.gae(r, half, nv, flags, gamma=0.9, lam=0.9)
    nv[29, 4] = float("nan")
    with pytest.raises(
        ValueError, match=r"next_values contains NaN or inf \(first at index \(29, 4"
    ):
        numeric.gae(r, v.half(), nv, flags, gamma=0.9, lam=0.9)
