"""How many numba threads the CPU kernels may use (one by default): ``set_threads``.

One by default, on purpose. On a 2-core machine shared with other work (or with torch's own
OpenMP pool in a training loop) a numba parallel region waits for the busiest core: with one
core busy we measured 2048×64 float32 drop from ~650 M steps/s (1 thread) to ~11 M steps/s
(2 threads, numba's OpenMP layer spinning). On an idle machine 2 threads give ~1.6×. Opt in
with ``GAE_SYM_THREADS=2`` or ``numeric.set_threads(2)`` (and consider
``OMP_WAIT_POLICY=PASSIVE`` or ``NUMBA_THREADING_LAYER=workqueue`` when cores are shared).
This module imports nothing heavy.
"""

from __future__ import annotations

import os

THREADS_ENV = "GAE_SYM_THREADS"
"""Environment variable: numba threads the kernels may use (default 1)."""

_threads: int | None = None


def set_threads(threads: int | None) -> None:
    """Let the kernels use up to ``threads`` numba threads (None: back to ``$GAE_SYM_THREADS``)."""
    global _threads
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    _threads = None if threads is None else int(threads)


def configured_threads() -> int | None:
    """The value given to ``set_threads`` (None when the environment decides)."""
    return _threads


def kernel_threads() -> int:
    """Threads the kernels use: ``set_threads``, else ``$GAE_SYM_THREADS``, else 1."""
    if _threads is not None:
        return _threads
    raw = os.environ.get(THREADS_ENV, "1")
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}") from None
