"""A per-call time limit for the function under test, so that a hang becomes a counterexample.

``call_time_limit(seconds)`` arms ``signal.setitimer(ITIMER_REAL)``; its SIGALRM handler
raises :class:`CallTimeout` in the main thread, which interrupts Python-level loops,
``time.sleep`` and blocking I/O. The previous SIGALRM handler and a pending ITIMER_REAL
(e.g. pytest-timeout's) are restored afterwards, the pending timer with the time it had
left (it fires late, at the end of the call, if it was due during it).

Limits, by construction: signals are only delivered to the main thread and are unavailable
on Windows, so elsewhere the limit is not enforced (``call_time_limit`` yields False); a
Python signal handler only runs between bytecodes, so C code that neither returns nor
checks for signals (``sum(itertools.count())``, a numba loop, a stuck BLAS call) cannot be
interrupted this way, and neither can code that swallows the exception with a bare
``except:``. For those the CLI has a last resort (:func:`hard_deadline`): after a grace
period, faulthandler prints where the code is stuck and ends the process with status 1.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

# setitimer and faulthandler overflow near 1e12 s; longer limits are clamped to 11.6 days.
LONGEST = 1e6


class CallTimeout(BaseException):
    """The call did not return within the limit.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that the tested code's
    ``except Exception`` does not swallow it, and so that hypothesis stops at once instead
    of shrinking (each shrinking step could take the whole limit again).
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not return within {seconds:g} s")
        self.seconds = seconds


_interrupted = threading.Event()


@contextlib.contextmanager
def sticky_interrupt() -> Iterator[None]:
    """Ctrl-C that cannot be lost inside the block (main thread only; elsewhere a no-op).

    A KeyboardInterrupt raised while Python runs a callback it does not let raise (hypothesis
    times the garbage collector with a gc callback) is printed as "Exception ignored" and
    dropped, and the run went on to print PASS. Here the handler also records the signal,
    and :func:`raise_if_interrupted`, called before every case and after the run, raises it
    again.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _interrupted.clear()

    def on_interrupt(signum: int, frame: object) -> None:
        _interrupted.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
        raise_if_interrupted()
    finally:
        signal.signal(signal.SIGINT, previous)
        _interrupted.clear()


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came inside :func:`sticky_interrupt` (even if the
    first KeyboardInterrupt was swallowed)."""
    if _interrupted.is_set():
        raise KeyboardInterrupt


def limit_enforceable() -> tuple[bool, str]:
    """(whether ``call_time_limit`` can interrupt a call here, why not if it cannot)."""
    if not hasattr(signal, "setitimer"):
        return False, "this platform has no signal.setitimer"
    if threading.current_thread() is not threading.main_thread():
        return False, "signals reach the main thread only, and this is another thread"
    return True, ""


@contextlib.contextmanager
def call_time_limit(seconds: float | None) -> Iterator[bool]:
    """Raise :class:`CallTimeout` in the block if it runs longer than ``seconds``.

    Yields whether the limit is enforced (False when ``seconds`` is None, 0 or inf, outside
    the main thread, or without ``setitimer``: the block then runs unlimited).
    """
    if not seconds or math.isinf(seconds) or not limit_enforceable()[0]:
        yield False
        return
    previous_handler = signal.getsignal(signal.SIGALRM)
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    armed = True

    def on_alarm(signum: int, frame: object) -> None:
        # The timer is one-shot, so this runs at most once; after the block it is a no-op.
        if armed:
            raise CallTimeout(seconds)

    start = time.monotonic()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, LONGEST))
    try:
        yield True
    finally:
        # The alarm may interrupt the first line of this block (the call had just returned):
        # the inner ``finally`` still restores everything, and it cannot be interrupted,
        # since the one-shot alarm has fired by then or finds ``armed`` False.
        try:
            armed = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_delay > 0:
                left = previous_delay - (time.monotonic() - start)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), previous_interval)


def _with_fileno(*files: IO[str] | None) -> IO[str] | None:
    """The first of ``files`` with a file descriptor (faulthandler writes to one)."""
    for file in files:
        try:
            file.fileno()  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            continue
        return file
    return None


def grace_seconds(seconds: float) -> float:
    """How long after the limit :func:`hard_deadline` gives the SIGALRM handler to act."""
    return max(2.0, seconds)


@contextlib.contextmanager
def hard_deadline(seconds: float | None, file: IO[str] | None = None) -> Iterator[None]:
    """End the process with status 1 if the block outlives ``seconds`` + the grace period.

    For code stuck in C that ``call_time_limit`` cannot interrupt: faulthandler's watchdog
    is a C thread that needs no GIL; it writes the stuck thread's traceback to ``file``
    (stderr by default; the process's original stderr when that has no file descriptor)
    and calls ``_exit(1)``. For whole processes only (the CLI): it ends the process, and it
    replaces any other ``faulthandler.dump_traceback_later``.
    """
    output = _with_fileno(file or sys.stderr, sys.__stderr__)
    if not seconds or math.isinf(seconds) or output is None:
        yield
        return
    seconds = min(seconds, LONGEST)
    faulthandler.dump_traceback_later(seconds + grace_seconds(seconds), exit=True, file=output)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
