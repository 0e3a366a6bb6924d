"""The generated numba kernels (numeric/kernels/numba_kernels.py) against the SymPy oracle.

The oracle evaluates the proven closed forms (O(T^2) and more), so it checks short
trajectories; long ones are checked against the generated numpy kernel in float64, itself
the proven recursion (theorem gae-recursion) and tested against the oracle elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gae_sym import oracle
from numeric import _threads
from numeric.kernels import numba_kernels as fast
from numeric.kernels import numpy_kernels as _generated_numpy

_scan = fast  # the loops and their dispatch are one generated module

ROOT = Path(__file__).resolve().parents[1]
DTYPES = (np.float32, np.float64)
# float32: a few ulps of |A| (|A| ≲ 20 here); float64: exact up to rounding.
TOL = {np.float32: 2e-5, np.float64: 1e-11}


def trajectory(steps, batch, dtype, seed, end_rate=0.1):
    rng = np.random.default_rng(seed)
    r, v, nv = (rng.standard_normal((steps, batch)).astype(dtype) for _ in range(3))
    term = rng.random((steps, batch)) < end_rate / 2
    trunc = rng.random((steps, batch)) < end_rate / 2
    return r, v, nv, term, trunc


def run_gae(arrays, gamma, lam):
    out = np.empty(arrays[0].shape, dtype=arrays[0].dtype)
    fast.gae_kernel(*arrays, gamma, lam, out)
    return out


def assert_close(actual, expected, dtype):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL[dtype] * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 1), (7, 3), (40, 9), (33, 40)])
@pytest.mark.parametrize(("gamma", "lam"), [(0.99, 0.95), (0.0, 0.7), (0.9, 0.0), (1.0, 1.0)])
def test_gae_matches_oracle(dtype, shape, gamma, lam):
    arrays = trajectory(*shape, dtype, seed=sum(shape))
    expected = oracle.gae(*arrays, gamma=gamma, lam=lam)
    assert_close(run_gae(arrays, gamma, lam), expected, dtype)


@settings(max_examples=40)
@given(
    chunk=st.integers(1, 6),
    groups=st.integers(1, 3),
    tail=st.integers(0, 7),
    seed=st.integers(0, 2**16),
    end_rate=st.sampled_from([0.0, 0.1, 0.5]),
    dtype=st.sampled_from(DTYPES),
    parallel=st.booleans(),
)
def test_blocked_scan_matches_oracle_at_every_chunk_boundary(
    chunk, groups, tail, seed, end_rate, dtype, parallel
):
    # Tiny chunks put chunk boundaries (and dones on them) everywhere; the oracle knows no chunks.
    n_chunks = 4 * groups
    steps = n_chunks * chunk + tail
    r, v, nv, term, trunc = (a[:, 0] for a in trajectory(steps, 1, dtype, seed, end_rate))
    out = np.empty_like(r)
    scan = _scan.gae_scan_parallel if parallel else _scan.gae_scan
    scalars = (dtype(0.97), dtype(0.97 * 0.9), dtype(0), dtype(1))
    assert not scan(r, v, nv, term, trunc, *scalars, out, chunk, n_chunks, True)  # all finite
    expected = oracle.gae(r, v, nv, term, trunc, gamma=0.97, lam=0.9)
    assert_close(out, expected, dtype)


def test_blocked_scan_done_exactly_at_chunk_edges():
    chunk, n_chunks = 5, 8
    steps = chunk * n_chunks + 3
    r, v, nv, _, _ = (a[:, 0] for a in trajectory(steps, 1, np.float64, seed=3))
    term = np.zeros(steps, dtype=bool)
    trunc = np.zeros(steps, dtype=bool)
    term[chunk - 1 :: 2 * chunk] = True  # last step of every other chunk
    trunc[2 * chunk :: 3 * chunk] = True  # first step of some chunks
    out = np.empty_like(r)
    _scan.gae_scan(r, v, nv, term, trunc, 0.99, 0.99 * 0.95, 0.0, 1.0, out, chunk, n_chunks, None)
    expected = oracle.gae(r, v, nv, term, trunc, gamma=0.99, lam=0.95)
    assert_close(out, expected, np.float64)


def zero_carry_chunks(delta, done, decay, chunk, n_chunks):
    """Reference for ``_chunks_from_zero``: each chunk's recurrence from 0, one step at a time."""
    z = delta.copy()
    starts = np.empty(n_chunks, dtype=delta.dtype)
    links = np.empty(n_chunks, dtype=delta.dtype)
    zero, one = delta.dtype.type(0), delta.dtype.type(1)
    for k in range(n_chunks):
        acc, prod = zero, one
        for t in range(k * chunk + chunk - 1, k * chunk - 1, -1):
            c = zero if done[t] else decay
            acc = delta[t] + c * acc
            prod = c * prod
            z[t] = acc
        starts[k], links[k] = acc, prod
    return z, starts, links


@settings(max_examples=30)
@given(
    chunk=st.integers(1, 9),
    groups=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    end_rate=st.sampled_from([0.0, 0.2, 0.9]),
    dtype=st.sampled_from(DTYPES),
)
def test_chunks_from_zero_is_bit_exact(chunk, groups, seed, end_rate, dtype):
    # The interleaved chains (unsigned index arithmetic) must give exactly the sequential
    # recurrence of each chunk, including the start value s_k and link product p_k; the group
    # starts past the first one and leaves other groups' steps untouched.
    n_chunks = 4 * (groups + 1)
    steps = n_chunks * chunk + 3
    r, v, nv, term, trunc = (a[:, 0] for a in trajectory(steps, 1, dtype, seed, end_rate))
    gamma, decay, zero, one = dtype(0.97), dtype(0.97 * 0.9), dtype(0), dtype(1)
    delta = np.empty_like(r)
    _scan._td_errors(r, v, nv, term, gamma, zero, delta, 0, steps, None)
    z, starts, links = zero_carry_chunks(delta, term | trunc, decay, chunk, n_chunks)
    out = delta.copy()
    s = np.full(n_chunks, np.nan, dtype=dtype)
    p = np.full(n_chunks, np.nan, dtype=dtype)
    first = 4 * groups
    _scan._chunks_from_zero(term, trunc, decay, zero, one, out, chunk, first, s, p)
    group = slice(first * chunk, (first + 4) * chunk)
    np.testing.assert_array_equal(out[group], z[group])
    np.testing.assert_array_equal(out[: first * chunk], delta[: first * chunk])
    np.testing.assert_array_equal(out[(first + 4) * chunk :], delta[(first + 4) * chunk :])
    np.testing.assert_array_equal(s[first : first + 4], starts[first : first + 4])
    np.testing.assert_array_equal(p[first : first + 4], links[first : first + 4])
    assert np.isnan(s[:first]).all()
    assert np.isnan(p[:first]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [-1, 0, 1, 4 * 1024 + 5])
def test_scan_threshold_and_uneven_tail(dtype, offset):
    # T just below / at / above CHUNK_MIN_STEPS (column loop vs blocked scan), and a T whose
    # chunks leave a tail; dones placed on the chunk edges the kernel will pick.
    steps = fast.CHUNK_MIN_STEPS + offset
    arrays = trajectory(steps, 1, dtype, seed=steps, end_rate=0.002)
    n_chunks = fast._chunk_count(steps, 1)
    chunk = steps // n_chunks
    arrays[3][chunk - 1 :: chunk, 0] = True
    arrays[4][2 * chunk :: 2 * chunk, 0] = True
    reference = np.empty(arrays[0].shape, dtype=np.float64)
    _generated_numpy.gae_kernel(*(a.astype(np.float64) for a in arrays[:3]), *arrays[3:],
                                0.99, 0.95, reference)  # fmt: skip
    assert_close(run_gae(arrays, 0.99, 0.95), reference, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("steps", "batch", "loops"),
    [
        # (one thread's loop, two threads' loop)
        (5000, 1, (fast.SCAN, fast.SCAN)),  # under PARALLEL_MIN_STEPS: one thread anyway
        (5000, 3, (fast.COLUMNS, fast.COLUMNS)),
        (5000, 64, (fast.COLUMNS, fast.COLUMNS)),  # too narrow to split between threads
        (70_000, 1, (fast.SCAN, fast.SCAN_PARALLEL)),
        (80, 1040, (fast.COLUMNS, fast.COLUMNS_PARALLEL)),  # blocks of 528 and 512 columns
    ],
)
def test_long_trajectories_take_every_path(dtype, steps, batch, loops):
    arrays = trajectory(steps, batch, dtype, seed=batch, end_rate=0.01)
    reference = np.empty(arrays[0].shape, dtype=np.float64)
    _generated_numpy.gae_kernel(*(a.astype(np.float64) for a in arrays[:3]), *arrays[3:],
                                0.99, 0.95, reference)  # fmt: skip
    assert [fast.gae_plan(steps, batch, n)[0] for n in (1, 2)] == list(loops)
    assert_close(run_gae(arrays, 0.99, 0.95), reference, dtype)
    _threads.set_threads(2)
    try:
        assert_close(run_gae(arrays, 0.99, 0.95), reference, dtype)
    finally:
        _threads.set_threads(None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_float32_error_at_a_million_steps_stays_small(dtype):
    """No cumulative-product trick: the float32 error stays at the plain recurrence's level."""
    r, v, nv, term, trunc = trajectory(1_000_000, 1, dtype, seed=7, end_rate=0.005)
    reference = np.empty(r.shape)
    _generated_numpy.gae_kernel(*(a.astype(np.float64) for a in (r, v, nv)), term, trunc,
                                0.99, 0.95, reference)  # fmt: skip
    error = np.max(np.abs(run_gae((r, v, nv, term, trunc), 0.99, 0.95) - reference))
    assert error < (5e-5 if dtype == np.float32 else 1e-12), error


def test_no_done_at_all_and_lambda_one_over_long_chunks():
    # γλ = 1 and no done: every chunk's carry reaches its first step (the fix-up's worst case).
    steps = 20_000
    rng = np.random.default_rng(11)
    r = rng.standard_normal(steps) * 1e-3
    v, nv = np.zeros(steps), np.zeros(steps)
    flags = np.zeros(steps, dtype=bool)
    out = np.empty((steps, 1))
    fast.gae_kernel(*(a[:, None] for a in (r, v, nv, flags, flags)), 1.0, 1.0, out)
    np.testing.assert_allclose(out[:, 0], np.cumsum(r[::-1])[::-1], atol=1e-12)


def strided_views(dtype):
    """Non-contiguous views of the kind callers pass: every other row, a column range, F-order."""
    r, v, nv, term, trunc = trajectory(60, 10, dtype, seed=5)
    yield tuple(a[::2] for a in (r, v, nv, term, trunc))
    yield tuple(a[:, 2:5] for a in (r, v, nv, term, trunc))
    yield tuple(np.asfortranarray(a) for a in (r, v, nv, term, trunc))
    yield tuple(a[::-1] for a in (r, v, nv, term, trunc))


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(dtype):
    for arrays in strided_views(dtype):
        expected = oracle.gae(*arrays, gamma=0.95, lam=0.9)
        before = [a.copy() for a in arrays]
        assert_close(run_gae(arrays, 0.95, 0.9), expected, dtype)
        for a, b in zip(arrays, before, strict=True):
            np.testing.assert_array_equal(a, b)  # inputs untouched


@pytest.mark.parametrize("dtype", DTYPES)
def test_td_and_nstep_on_non_contiguous_inputs(dtype):
    for r, v, nv, term, trunc in strided_views(dtype):
        out = np.empty(r.shape, dtype=dtype)
        fast.td_kernel(r, v, nv, term, 0.9, out)
        assert_close(out, oracle.td_error(r, v, nv, term, trunc, gamma=0.9), dtype)
        fast.nstep_kernel(r, v, nv, term, trunc, 0.9, 4, out)
        assert_close(out, oracle.nstep_advantage(r, v, nv, term, trunc, gamma=0.9, n=4), dtype)


def test_long_strided_column_uses_the_scan():
    r, v, nv, term, trunc = trajectory(9000, 6, np.float64, seed=9, end_rate=0.01)
    arrays = tuple(a[:, 1:4] for a in (r, v, nv, term, trunc))
    reference = np.empty(arrays[0].shape)
    _generated_numpy.gae_kernel(*arrays, 0.99, 0.95, reference)
    assert_close(run_gae(arrays, 0.99, 0.95), reference, np.float64)


@settings(max_examples=30)
@given(
    steps=st.integers(1, 25),
    batch=st.integers(1, 4),
    n=st.integers(1, 30),
    gamma=st.sampled_from([0.0, 0.5, 0.99, 1.0]),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from(DTYPES),
)
def test_td_and_nstep_match_oracle(steps, batch, n, gamma, seed, dtype):
    r, v, nv, term, trunc = trajectory(steps, batch, dtype, seed, end_rate=0.3)
    out = np.empty_like(r)
    fast.td_kernel(r, v, nv, term, gamma, out)
    assert_close(out, oracle.td_error(r, v, nv, term, trunc, gamma=gamma), dtype)
    fast.nstep_kernel(r, v, nv, term, trunc, gamma, n, out)
    assert_close(out, oracle.nstep_advantage(r, v, nv, term, trunc, gamma=gamma, n=n), dtype)


@pytest.mark.parametrize("n", [1, 7, 1000, 50_000])
def test_nstep_on_long_trajectories_any_n(n):
    # O(T) whatever n: blocks of n steps; compared with the generated kernel (also O(T)).
    arrays = trajectory(20_000, 3, np.float64, seed=n, end_rate=0.002)
    expected = np.empty(arrays[0].shape)
    _generated_numpy.nstep_kernel(*arrays, 0.99, n, expected)
    out = np.empty_like(expected)
    fast.nstep_kernel(*arrays, 0.99, n, out)
    assert_close(out, expected, np.float64)


def test_kernels_route_other_dtypes_to_the_fallback():
    calls = []
    fallback = {name: (lambda *a, name=name: calls.append(name)) for name in ("gae", "td", "nstep")}
    kernels = fast.kernels(fallback)
    r, v, nv, term, trunc = trajectory(5, 2, np.float16, seed=1)
    kernels["gae"](r, v, nv, term, trunc, 0.9, 0.9, np.empty_like(r))
    assert calls == ["gae"]
    r32 = r.astype(np.float32)
    out = np.empty_like(r32)
    kernels["gae"](r32, r32, r32, term, trunc, 0.9, 0.9, out)
    assert calls == ["gae"]  # float32 stayed on the numba path


def test_public_api_uses_the_fast_kernels():
    from numeric import estimators

    assert estimators._numpy_kernels()["gae"].__wrapped__ is fast.gae_kernel


def test_torch_cpu_tensors_are_used_in_place():
    torch = pytest.importorskip("torch")
    from numeric.kernels import torch_kernels as _generated_torch

    generated = {
        "gae": _generated_torch.gae_kernel,
        "td": _generated_torch.td_kernel,
        "nstep": _generated_torch.nstep_kernel,
    }
    kernels = fast.torch_kernels(generated)
    arrays = trajectory(50, 4, np.float32, seed=2)
    tensors = [torch.from_numpy(a) for a in arrays]
    tensors[1].requires_grad_(True)  # a critic's output: computed on .detach(), no copy
    out = torch.empty(50, 4)
    view = fast._cpu_view(out)
    assert view.__array_interface__["data"][0] == out.data_ptr()
    assert fast._cpu_view(tensors[1]).__array_interface__["data"][0] == tensors[1].data_ptr()
    kernels["gae"](*tensors, 0.95, 0.9, out)
    assert_close(out.numpy(), oracle.gae(*arrays, gamma=0.95, lam=0.9), np.float32)
    half = [t.detach().half() if t.is_floating_point() else t for t in tensors]
    out_half = torch.empty(50, 4, dtype=torch.float16)
    kernels["gae"](*half, 0.95, 0.9, out_half)  # numba has no float16: the generated kernel
    assert torch.isfinite(out_half).all()


def test_threads_setting():
    import numeric

    with pytest.raises(ValueError, match="positive"):
        numeric.set_threads(0)
    numeric.set_threads(3)
    assert _threads.kernel_threads() == 3
    numeric.set_threads(None)
    assert _threads.kernel_threads() == int(os.environ.get(_threads.THREADS_ENV, "1"))


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_import_compiles_nothing_and_second_process_loads_the_cache():
    probe = """
        import sys
        import numpy as np
        import numeric
        assert "numba" not in sys.modules, "import numeric must not import numba"
        from numeric.kernels import numba_kernels as fast
        r = np.ones((5000, 1), dtype=np.float32)
        flags = np.zeros((5000, 1), dtype=bool)
        fast.gae_kernel(r, r, r, flags, flags, 0.99, 0.95, np.empty_like(r))
        stats = fast.gae_scan.stats
        print(len(stats.cache_hits), len(stats.cache_misses))
    """
    _python(probe)  # compiles (or loads) and writes the cache
    hits, misses = map(int, _python(probe).split())
    assert hits >= 1 and misses == 0


def test_peak_memory_is_inputs_plus_output():
    # RSS growth while the kernel runs on 2·10^5 x 64 float32 (warm: compiled on a small call).
    probe = """
        import resource
        import numpy as np
        from numeric.kernels import numba_kernels as fast
        small = np.ones((8, 64), dtype=np.float32)
        flags = np.zeros((8, 64), dtype=bool)
        fast.gae_kernel(small, small, small, flags, flags, 0.99, 0.95, np.empty_like(small))
        shape = (200_000, 64)
        r, v, nv = (np.ones(shape, dtype=np.float32) for _ in range(3))
        term, trunc = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
        out = np.ones(shape, dtype=np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fast.gae_kernel(r, v, nv, term, trunc, 0.99, 0.95, out)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        data = sum(a.nbytes for a in (r, v, nv, term, trunc, out))
        print((after - before) * 1024, data)
    """
    growth, data = map(int, _python(probe).split())
    assert growth < 0.05 * data, (growth, data)


def test_public_torch_path_on_non_contiguous_tensors_matches_numpy():
    torch = pytest.importorskip("torch")
    import numeric

    for arrays in strided_views(np.float32):
        if any(s < 0 for a in arrays for s in a.strides):
            continue  # torch has no negative strides
        tensors = [torch.from_numpy(a) for a in arrays]
        result = numeric.gae(*tensors, gamma=0.95, lam=0.9)
        assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
        assert_close(result.numpy(), oracle.gae(*arrays, gamma=0.95, lam=0.9), np.float32)
    transposed = [
        torch.from_numpy(np.ascontiguousarray(a.T)).T for a in trajectory(40, 6, np.float32, 8)
    ]
    assert not transposed[0].is_contiguous()
    expected = oracle.gae(*(t.numpy() for t in transposed), gamma=0.9, lam=0.8)
    assert_close(numeric.gae(*transposed, gamma=0.9, lam=0.8).numpy(), expected, np.float32)


def test_without_numba_the_generated_kernels_serve():
    probe = """
        import sys
        sys.modules["numba"] = None  # as if numba were not installed
        import numpy as np
        import numeric
        from numeric import estimators
        rng = np.random.default_rng(0)
        r, v, nv = rng.standard_normal((3, 5000, 2))
        term, trunc = rng.random((2, 5000, 2)) < 0.01
        kernel = estimators._numpy_kernels()["gae"]
        try:
            from numeric.kernels import numba_kernels
            raised = False
        except ImportError:
            raised = True
        a = numeric.gae(r, v, nv, term, trunc, gamma=0.99, lam=0.95)
        print(raised, kernel.__module__, float(np.abs(a).max()) > 0)
    """
    assert _python(probe).split() == ["True", "numeric.kernels.numpy_kernels", "True"]


def _vma_flags(address: int) -> list[str]:
    """The VmFlags of the mapping of this process that holds ``address`` (/proc/self/smaps)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            low, high = (int(x, 16) for x in head.split("-"))
            inside = low <= address < high
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    raise AssertionError(f"no mapping holds {address:#x}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_HUGEPAGE is Linux's")
def test_the_ffi_handler_asks_for_huge_pages_inside_its_output_only():
    # The XLA FFI handler advises MADV_HUGEPAGE on the whole 2 MiB pages inside XLA's output
    # buffer before writing it. On a fresh anonymous mapping with a buffer that starts 1 MiB
    # into it: the advised interior is marked "hg" in /proc/self/smaps, the first MiB (outside
    # the aligned pages) and the memory after the buffer are not.
    import mmap

    huge = 1 << 21
    region = mmap.mmap(-1, 8 * huge, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        base = np.frombuffer(region, dtype=np.uint8).ctypes.data
        aligned = (base + huge - 1) & -huge
        start = aligned + huge // 2  # a buffer that does not start on a huge page
        size = 3 * huge
        assert "hg" not in _vma_flags(start)
        fast._advise_huge_pages(start, size)
        assert "hg" in _vma_flags(aligned + huge)  # the one whole huge page inside the buffer
        assert "hg" not in _vma_flags(start)  # the half page before it: not advised
        assert "hg" not in _vma_flags(aligned + 3 * huge)  # past the buffer's last whole page
        fast._advise_huge_pages(start + 4 * huge, huge)  # no whole huge page inside: nothing
        assert "hg" not in _vma_flags(start + 4 * huge + huge // 2)
    finally:
        del base
        region.close()
