"""numba loops behind ``numeric.fast``: the GAE recurrence, TD error and n-step sums.

Importing this module imports numba but compiles nothing: every function is ``@njit(cache=True)``
and is compiled on its first call for the argument types it meets (float32 or float64, contiguous
or strided), then loaded from numba's on-disk cache by later processes.

All loops read the trajectory convention of DESIGN.md on 2-D time-major arrays ``(T, B)``::

    δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
    A_t = δ_t + γλ (1 − done_t) A_{t+1},   A_T = 0,   done_t = terminated_t ∨ truncated_t

(GAE: Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
Estimation", eq. 16 with the episode cut of rlax ``truncated_generalized_advantage_estimation``.)

Scalars (``gamma``, ``decay`` = γλ, ``zero``) arrive already cast to the array dtype: a numba
float64 literal inside a float32 loop would silently promote the whole recurrence to float64.
No loop uses ``fastmath``: every sum is evaluated in the order the recurrence states it.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange


@numba.njit(cache=True, nogil=True)
def gae_columns(r, v, nv, term, trunc, gamma, decay, zero, out, col0, col1):
    """A_t for columns ``col0:col1`` of ``(T, B)`` arrays: backward over t, SIMD across columns.

    Row t reads row t+1 of ``out`` itself (just written, still in L1), so there is no carry
    array; the columns are independent, so the inner loop vectorizes and the only sequential
    chain is the one over t. Measured choices (2-core EPYC, cold caches):

    * columns visited from last to first, so that every array is read as one continuous
      descending stream, which the hardware prefetcher follows (2048x64 float64: 200 -> 850
      M steps/s; an ascending walk inside descending rows defeats it);
    * unsigned indices: numba then drops its negative-index wrap-around branch, without
      which LLVM does not vectorize the loop (2x).
    """
    width = np.uint64(col1 - col0)
    top = np.uint64(col1 - 1)
    last = r.shape[0] - 1
    for j in range(width):
        b = top - j
        boot = zero if term[last, b] else nv[last, b]
        out[last, b] = r[last, b] + gamma * boot - v[last, b]
    for t in range(last - 1, -1, -1):
        for j in range(width):
            b = top - j
            boot = zero if term[t, b] else nv[t, b]
            link = zero if (term[t, b] | trunc[t, b]) else decay
            out[t, b] = (r[t, b] + gamma * boot - v[t, b]) + link * out[t + 1, b]


@numba.njit(cache=True, nogil=True, parallel=True)
def gae_columns_parallel(r, v, nv, term, trunc, gamma, decay, zero, out, block):
    """``gae_columns`` on blocks of ``block`` columns, one block per thread (``prange``)."""
    n_cols = r.shape[1]
    n_blocks = (n_cols + block - 1) // block
    for i in prange(n_blocks):
        col0 = i * block
        col1 = min(col0 + block, n_cols)
        gae_columns(r, v, nv, term, trunc, gamma, decay, zero, out, col0, col1)


@numba.njit(cache=True, nogil=True)
def _td_errors(r, v, nv, term, gamma, zero, out, start, stop):
    """out[t] = δ_t for t in ``start:stop`` of a 1-D trajectory (contiguous: SIMD).

    Unsigned bounds: no wrap-around branch for negative indices, so LLVM vectorizes the loop.
    """
    for t in range(np.uint64(start), np.uint64(stop)):
        boot = zero if term[t] else nv[t]
        out[t] = r[t] + gamma * boot - v[t]


@numba.njit(cache=True, nogil=True)
def _chunks_from_zero(term, trunc, decay, zero, one, out, chunk, first, s, p):
    """Chunks ``first:first+4`` of a 1-D trajectory run from a zero carry, interleaved.

    ``out`` holds δ_t on entry and the zero-carry values z_t on exit (z_t = δ_t + c_t z_{t+1}
    inside the chunk, z = 0 after its end), with c_t = γλ(1 − done_t). Also writes each chunk's
    start value s_k = z_start and link product p_k = Π c_t. The four chains live in named
    locals (registers), so each hides the others' multiply-add latency.

    The loop is instruction-bound, not latency-bound, so (measured at 10^6 steps, one thread):

    * unsigned indices, as in ``gae_columns``: a signed index makes numba emit a negative-index
      wrap-around (compare, add, select) on each of the twelve loads and stores per step;
      dropping it gave float32 ~1.35x and float64 ~1.25-1.3x over the same loop with signed
      indices, with bit-identical results;
    * four chains, not eight: eight were 0.85-0.97x of four (more registers and streams, no
      idle FPU left to fill);
    * δ_t from the separate SIMD pass, not computed here: fusing it in was 0.7-0.87x.
    """
    size = np.uint64(chunk)
    t0 = np.uint64(first) * size
    t1 = t0 + size
    t2 = t1 + size
    t3 = t2 + size
    top = size - np.uint64(1)
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    p0 = one
    p1 = one
    p2 = one
    p3 = one
    for j in range(size):
        i = top - j
        c0 = zero if (term[t0 + i] | trunc[t0 + i]) else decay
        c1 = zero if (term[t1 + i] | trunc[t1 + i]) else decay
        c2 = zero if (term[t2 + i] | trunc[t2 + i]) else decay
        c3 = zero if (term[t3 + i] | trunc[t3 + i]) else decay
        a0 = out[t0 + i] + c0 * a0
        a1 = out[t1 + i] + c1 * a1
        a2 = out[t2 + i] + c2 * a2
        a3 = out[t3 + i] + c3 * a3
        p0 = c0 * p0
        p1 = c1 * p1
        p2 = c2 * p2
        p3 = c3 * p3
        out[t0 + i] = a0
        out[t1 + i] = a1
        out[t2 + i] = a2
        out[t3 + i] = a3
    s[first] = a0
    s[first + 1] = a1
    s[first + 2] = a2
    s[first + 3] = a3
    p[first] = p0
    p[first + 1] = p1
    p[first + 2] = p2
    p[first + 3] = p3


@numba.njit(cache=True, nogil=True)
def _chunk_fixup(term, trunc, decay, zero, out, start, stop, carry):
    """A_t = z_t + (Π_{j=t}^{stop−1} c_j) · carry over one chunk, from its end backwards.

    Stops at the first done (the share is exactly 0 from there on) or once the share has
    underflowed to exactly 0, so with episodes shorter than a chunk it touches few steps.
    """
    share = carry
    for t in range(stop - 1, start - 1, -1):
        share = (zero if (term[t] | trunc[t]) else decay) * share
        if share == zero:
            break
        out[t] += share


@numba.njit(cache=True, nogil=True)
def _scan_tail(r, v, nv, term, trunc, gamma, decay, zero, out, start):
    """The plain recurrence over ``start:T`` from A_T = 0; returns A_start (0 if start == T)."""
    acc = zero
    for t in range(r.shape[0] - 1, start - 1, -1):
        boot = zero if term[t] else nv[t]
        link = zero if (term[t] | trunc[t]) else decay
        acc = (r[t] + gamma * boot - v[t]) + link * acc
        out[t] = acc
    return acc


@numba.njit(cache=True, nogil=True)
def _carries(s, p, tail, a):
    """a_k, the true A just after chunk k: a_{K−1} = A at the tail, a_{k−1} = s_k + p_k a_k."""
    carry = tail
    for k in range(s.shape[0] - 1, -1, -1):
        a[k] = carry
        carry = s[k] + p[k] * carry


@numba.njit(cache=True, nogil=True)
def gae_scan(r, v, nv, term, trunc, gamma, decay, zero, one, out, chunk, n_chunks):
    """A_t of one long 1-D trajectory by a blocked scan over time (single thread).

    Steps ``0 : n_chunks*chunk`` are cut into ``n_chunks`` chunks (a multiple of 4) of ``chunk``
    steps; the tail after them is run directly (its carry is A_T = 0). Then:

    0. δ_t into ``out`` by a contiguous loop (SIMD: no dependency between steps);
    1. every chunk from a zero carry, four chunks interleaved: z_t into ``out``, the start
       value s_k and the link product p_k = Π c_t of each chunk;
    2. the true carries sequentially over chunks: a_{k−1} = s_k + p_k a_k, one per chunk;
    3. the fix-up A_t = z_t + (Π_{j=t}^{end−1} c_j) a_k, walking back from each chunk's end
       only until that product is exactly 0 (a done, or underflow).

    Only products of factors c_j ∈ [0, 1] are formed; nothing is divided (the cumulative-product
    trick divides by (γλ)^t and loses float32 entirely beyond ~2,000 steps).
    """
    s = np.empty(n_chunks, dtype=out.dtype)
    p = np.empty(n_chunks, dtype=out.dtype)
    a = np.empty(n_chunks, dtype=out.dtype)
    body = n_chunks * chunk
    tail = _scan_tail(r, v, nv, term, trunc, gamma, decay, zero, out, body)
    _td_errors(r, v, nv, term, gamma, zero, out, 0, body)
    for grp in range(n_chunks // 4):
        _chunks_from_zero(term, trunc, decay, zero, one, out, chunk, 4 * grp, s, p)
    _carries(s, p, tail, a)
    for k in range(n_chunks):
        _chunk_fixup(term, trunc, decay, zero, out, k * chunk, (k + 1) * chunk, a[k])


@numba.njit(cache=True, nogil=True, parallel=True)
def gae_scan_parallel(r, v, nv, term, trunc, gamma, decay, zero, one, out, chunk, n_chunks):
    """``gae_scan`` with passes 0, 1 and 3 spread over numba threads (``prange`` over chunks)."""
    s = np.empty(n_chunks, dtype=out.dtype)
    p = np.empty(n_chunks, dtype=out.dtype)
    a = np.empty(n_chunks, dtype=out.dtype)
    tail = _scan_tail(r, v, nv, term, trunc, gamma, decay, zero, out, n_chunks * chunk)
    for grp in prange(n_chunks // 4):
        first = 4 * grp
        _td_errors(r, v, nv, term, gamma, zero, out, first * chunk, (first + 4) * chunk)
        _chunks_from_zero(term, trunc, decay, zero, one, out, chunk, first, s, p)
    _carries(s, p, tail, a)
    for k in prange(n_chunks):
        _chunk_fixup(term, trunc, decay, zero, out, k * chunk, (k + 1) * chunk, a[k])


@numba.njit(cache=True, nogil=True)
def td_rows(r, v, nv, term, gamma, zero, out):
    """δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t), elementwise (memory-bound: 1 thread)."""
    steps, n_cols = r.shape
    for t in range(steps):
        for b in range(n_cols):
            boot = zero if term[t, b] else nv[t, b]
            out[t, b] = r[t, b] + gamma * boot - v[t, b]


@numba.njit(cache=True, nogil=True)
def nstep_rows(r, v, nv, term, trunc, gamma, n, zero, one, out):
    """A^(n)_t = Σ_{l<n} γ^l δ_{t+l}, the sum stopping after the first done and at the segment end.

    O(T) whatever n, with non-negative weights only (a running window sum minus the term that
    leaves it would cancel catastrophically at γ = 1). Time is cut into blocks of n steps; for t
    in block [s, e) the window [t, t+n) is the suffix of its block plus a prefix of the next:

        A_t = S_t + R_t · P(t − s),   S_t = δ_t + c_t S_{t+1} (S_e = 0),
        R_t = c_t R_{t+1} (R_e = 1),  P(m) = Σ_{i<m} W_i δ_{e+i},  W_{i+1} = W_i c_{e+i},

    with c_t = γ(1 − done_t). Per block: a forward pass parks P(t − s) in ``out[t]``, then a
    backward pass replaces it by A_t. Rows outer, columns inner (SIMD), scratch O(B).
    """
    steps, n_cols = r.shape
    cols = np.uint64(n_cols)
    acc = np.empty(n_cols, dtype=out.dtype)
    weight = np.empty(n_cols, dtype=out.dtype)
    for start in range(0, steps, n):
        stop = min(start + n, steps)
        for b in range(cols):
            acc[b] = zero
            weight[b] = one
        for m in range(stop - start):
            u = stop + m  # the next block's step m
            for b in range(cols):
                out[start + m, b] = acc[b]
            if u < steps:
                for b in range(cols):
                    boot = zero if term[u, b] else nv[u, b]
                    acc[b] += weight[b] * (r[u, b] + gamma * boot - v[u, b])
                    weight[b] *= zero if (term[u, b] | trunc[u, b]) else gamma
        for b in range(cols):
            acc[b] = zero
            weight[b] = one
        for t in range(stop - 1, start - 1, -1):
            for b in range(cols):
                boot = zero if term[t, b] else nv[t, b]
                link = zero if (term[t, b] | trunc[t, b]) else gamma
                acc[b] = (r[t, b] + gamma * boot - v[t, b]) + link * acc[b]
                weight[b] = link * weight[b]
                out[t, b] = acc[b] + weight[b] * out[t, b]
