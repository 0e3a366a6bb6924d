"""Fast numpy kernels (numba) for GAE, the TD error and n-step advantages.

The kernel interface shared with ``numeric.estimators`` (validated 2-D time-major arrays
``(T, B)``; r, v, nv of one float dtype, float32 or float64, possibly strided views;
terminated/truncated bool; ``out`` preallocated with the same dtype; the kernel writes ``out``
and returns None)::

    gae_kernel(rewards, values, next_values, terminated, truncated, gamma, lam, out)
    td_kernel(rewards, values, next_values, terminated, gamma, out)
    nstep_kernel(rewards, values, next_values, terminated, truncated, gamma, n, out)

Semantics (DESIGN.md): δ_t = r_t + γ(1 − term_t)V(s'_t) − V(s_t); A_t = δ_t + γλ(1 − done_t)A_{t+1},
A_T = 0, done = term ∨ trunc (Schulman et al. 2016, GAE); A^(n)_t = Σ_{l<n} γ^l δ_{t+l} stopping
after the first done and at the segment end.

Strategy, chosen per call from the shape (measured on a 2-core AMD EPYC, see ``gae-sym bench``):

* two or more columns: the backward recurrence over t with the loop over columns innermost, so
  it runs in SIMD lanes (``numeric._scan.gae_columns``); column blocks across numba threads
  when threads are enabled and the array is big enough to repay a parallel region;
* one long column (B = 1, T ≥ 4096): a blocked scan (``numeric._scan.gae_scan``): δ_t by a
  SIMD loop, then four chunks run from a zero carry with interleaved chains, the carries
  propagated across chunks, and a fix-up that adds each carry's share only until the first
  done. The 10^6-step dependency chain becomes independent pieces, and no prefix product of
  (γλ)^t is ever divided (the cumulative-product trick loses float32 beyond ~2,000 steps).

Threads: one by default (``kernel_threads``); opt in with ``GAE_SYM_THREADS`` or ``set_threads``.

No input is copied; the only memory besides ``out`` is O(B + T/chunk). Compiled lazily on the
first call (``import numeric.fast`` imports neither numba nor ``_scan``) and cached on disk, so a
second process loads machine code instead of recompiling.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import numpy as np

# Environment variable: numba threads the kernels may use (default 1, see ``kernel_threads``).
THREADS_ENV = "GAE_SYM_THREADS"
# Below this many steps a parallel region costs more than it saves (numba's start-up ~10-30 µs).
PARALLEL_MIN_STEPS = 1 << 16
# Columns per SIMD block: 16 float32 = one 64-byte cache line, so threads never share a line.
COLUMN_BLOCK = 16
# Fewer columns than this: the blocked scan over time. Measured at T = 4·10^5 float32: one column
# 1000 M steps/s by the scan vs 270 by the column loop; from two columns on the column loop wins
# (the scan would run on strided column views).
SIMD_MIN_COLUMNS = 2
# The blocked scan pays off once each chunk is long against the carry pass and loop set-up.
CHUNK_MIN_STEPS = 4096
# Groups of four interleaved chunks per thread when several threads share a trajectory.
CHUNK_GROUPS_PER_THREAD = 4

_scan: ModuleType | None = None
_threads: int | None = None


def _loops() -> ModuleType:
    """``numeric._scan``, imported on first use (numba import ~0.3 s, paid only by kernel users)."""
    global _scan
    if _scan is None:
        from numeric import _scan as module

        _scan = module
    return _scan


def set_threads(threads: int | None) -> None:
    """Let the kernels use up to ``threads`` numba threads (None: back to ``GAE_SYM_THREADS``)."""
    global _threads
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    _threads = None if threads is None else int(threads)


def kernel_threads() -> int:
    """Threads the kernels use: ``set_threads``, else ``$GAE_SYM_THREADS``, else 1.

    One by default, on purpose. On a 2-core machine shared with other work (or with torch's own
    OpenMP pool in a training loop) a numba parallel region waits for the busiest core: with one
    core busy we measured 2048×64 float32 drop from ~650 M steps/s (1 thread) to ~11 M steps/s
    (2 threads, numba's OpenMP layer spinning). On an idle machine 2 threads give ~1.6×. Opt in
    with ``GAE_SYM_THREADS=2`` (and consider ``OMP_WAIT_POLICY=PASSIVE`` or
    ``NUMBA_THREADING_LAYER=workqueue`` when cores are shared).
    """
    if _threads is not None:
        return _threads
    raw = os.environ.get(THREADS_ENV, "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}") from None


def _scalars(dtype: np.dtype, *values: float) -> tuple[np.floating, ...]:
    return tuple(dtype.type(x) for x in values)


def _chunk_count(steps: int, threads: int) -> int:
    """Chunks of the blocked scan: a multiple of 4 (the interleave), each ≥ 1024 steps.

    One thread needs only one group of four chains; several threads get
    CHUNK_GROUPS_PER_THREAD groups each so that uneven chunks still balance.
    """
    groups = 1 if threads == 1 else CHUNK_GROUPS_PER_THREAD * threads
    return 4 * max(1, min(groups, steps // (4 * 1024)))


def gae_kernel(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    lam: float,
    out: np.ndarray,
) -> None:
    """Write A^GAE(γ, λ) of ``(T, B)`` arrays into ``out``.

    A_t = δ_t + γλ (1 − done_t) A_{t+1}, A_T = 0 (Schulman et al. 2016, eq. 16, cut at done).
    """
    loops = _loops()
    steps, n_cols = rewards.shape
    gamma_, decay, zero, one = _scalars(out.dtype, gamma, gamma * lam, 0.0, 1.0)
    threads = kernel_threads()
    parallel = threads > 1 and steps * n_cols >= PARALLEL_MIN_STEPS
    if parallel:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if n_cols < SIMD_MIN_COLUMNS and steps >= CHUNK_MIN_STEPS:
        n_chunks = _chunk_count(steps, threads if parallel else 1)
        scan = loops.gae_scan_parallel if parallel else loops.gae_scan
        for b in range(n_cols):
            column = (x[:, b] for x in (rewards, values, next_values, terminated, truncated))
            scan(*column, gamma_, decay, zero, one, out[:, b], steps // n_chunks, n_chunks)
        return
    args = (rewards, values, next_values, terminated, truncated, gamma_, decay, zero, out)
    if parallel and n_cols >= 2 * COLUMN_BLOCK:
        block = -(-n_cols // threads)
        block = -(-block // COLUMN_BLOCK) * COLUMN_BLOCK
        loops.gae_columns_parallel(*args, block)
    else:
        loops.gae_columns(*args, 0, n_cols)


def td_kernel(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    gamma: float,
    out: np.ndarray,
) -> None:
    """Write δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t) into ``out`` (Sutton 1988)."""
    gamma_, zero = _scalars(out.dtype, gamma, 0.0)
    _loops().td_rows(rewards, values, next_values, terminated, gamma_, zero, out)


def nstep_kernel(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    n: int,
    out: np.ndarray,
) -> None:
    """Write A^(n)_t = Σ_{l<n} γ^l δ_{t+l} into ``out``, stopping after the first done.

    The n-step advantage of Sutton & Barto (2018, §7.1) written with TD errors; the sum also
    stops at the segment end T (no δ beyond the data).
    """
    gamma_, zero, one = _scalars(out.dtype, gamma, 0.0, 1.0)
    _loops().nstep_rows(
        rewards, values, next_values, terminated, truncated, gamma_, int(n), zero, one, out
    )


Kernel = Callable[..., None]
FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_FAST = {"gae": gae_kernel, "td": td_kernel, "nstep": nstep_kernel}


def kernels(fallback: Mapping[str, Kernel] | None = None) -> dict[str, Kernel]:
    """The numba kernels by the names ``numeric.estimators._numpy_kernels`` uses.

    Arrays of another float dtype (float16, longdouble: numba compiles neither) go to
    ``fallback[name]`` when given. Raises ImportError when numba is missing, so that the
    caller keeps its own kernels.
    """
    import numba  # noqa: F401  (the ImportError is the signal)

    if fallback is None:
        return dict(_FAST)
    return {name: _or_fallback(kernel, fallback[name]) for name, kernel in _FAST.items()}


def _or_fallback(kernel: Kernel, fallback: Kernel) -> Kernel:
    @functools.wraps(kernel)
    def dispatch(*args: Any) -> None:
        out = args[-1]
        (kernel if out.dtype in FAST_DTYPES else fallback)(*args)

    return dispatch


def torch_kernels(fallback: Mapping[str, Kernel]) -> dict[str, Kernel]:
    """Kernels for torch tensors: CPU float32/float64 through the numba kernels, else fallback.

    A CPU tensor's ``.detach().numpy()`` is a view of the same memory (``detach`` drops the
    autograd graph, not the data), so inputs and the preallocated ``out`` are used in place:
    nothing is copied. CUDA tensors, and dtypes numba does not compile (float16, bfloat16),
    stay with ``fallback`` (the generated torch kernel: one vectorized step per t, on the
    device). Raises ImportError when numba is missing.
    """
    import numba  # noqa: F401

    def route(name: str) -> Kernel:
        kernel, other = _FAST[name], fallback[name]

        @functools.wraps(kernel)
        def dispatch(*args: Any) -> None:
            out = args[-1]
            if out.device.type == "cpu" and _torch_dtype_name(out) in ("float32", "float64"):
                kernel(*(_cpu_view(a) for a in args))
            else:
                other(*args)

        return dispatch

    return {name: route(name) for name in _FAST}


def _torch_dtype_name(tensor: Any) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _cpu_view(x: Any) -> Any:
    """A CPU tensor as a numpy view of its memory; scalars (γ, λ, n) unchanged."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().numpy()
    return x
