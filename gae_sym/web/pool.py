"""A bounded pool of sandboxed check workers for the web server.

Each check runs in a :class:`gae_sym.homework.worker.CheckWorker` process (killed past the
time limit, restarted for the next answer). The pool admits at most ``workers + queue``
requests at once: ``workers`` being checked and ``queue`` waiting for a free worker; one
more is refused at once (the server answers 429), so a burst can never grow an unbounded
backlog of threads or memory.
"""

from __future__ import annotations

import queue as queue_module
import threading
from multiprocessing.connection import Connection

from gae_sym.homework.worker import CheckWorker

PREVIEW_TIME_LIMIT_S = 2.0
"""Reading an answer (no checking) is fast; a preview that takes longer is refused."""


class Busy(Exception):
    """Every worker is busy and the waiting queue is full."""


class Admission:
    """A bounded count of admitted requests: ``admit`` takes a place or raises
    :class:`Busy` (the server answers 429), ``release`` gives it back. Never a queue that
    grows without bound."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._admitted = 0
        self._lock = threading.Lock()

    def admit(self) -> None:
        """Take a place or raise :class:`Busy`; pair with :meth:`release`."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise Busy
            self._admitted += 1

    def release(self) -> None:
        with self._lock:
            self._admitted -= 1

    @property
    def admitted(self) -> int:
        return self._admitted


class CheckPool(Admission):
    """``workers`` warm worker processes behind a bounded admission count.

    ``factory(timeout)`` makes one worker (a :class:`CheckWorker` by default).
    """

    def __init__(self, workers: int = 2, queue: int = 8, timeout: float = 5.0, factory=None):
        if workers < 1 or queue < 0:
            raise ValueError("workers >= 1 and queue >= 0")
        super().__init__(workers + queue)
        self.timeout = timeout
        self._idle: queue_module.Queue = queue_module.Queue()
        self._all = []
        make = factory or (lambda limit: CheckWorker(timeout=limit, warm=True))
        for _ in range(workers):
            worker = make(timeout)
            self._all.append(worker)
            self._idle.put(worker)

    def check(self, answer: str, question_id: str | None, expected: str | None):
        """Blocking: wait for a free worker, check, return ``CheckWorker.check``'s pair."""
        worker = self._idle.get()
        try:
            return worker.check(answer, question_id, expected)
        finally:
            if not _alive(worker):
                # Killed past the limit or died mid-check: start the next one now, so the
                # next answer does not pay the start-up (CheckWorker would do it lazily).
                worker._kill()
                worker._start()
            self._idle.put(worker)

    def pids(self) -> list[int]:
        """Process ids of the live workers (for the fault tests and ``/healthz``'s count)."""
        return [w._process.pid for w in self._all if _alive(w)]

    def restarts(self) -> int:
        return sum(w.restarts for w in self._all)

    def close(self) -> None:
        for worker in self._all:
            worker.close()


def _alive(worker: CheckWorker) -> bool:
    return worker._process is not None and worker._process.is_alive()


def _serve_preview(connection: Connection) -> None:
    """Preview worker loop: read the answer (never check it), reply with its LaTeX echo."""
    from gae_sym.homework.build import AnswerError
    from gae_sym.homework.reader import read_answer
    from gae_sym.printing import lecture_latex

    while True:
        try:
            request = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if request is None:
            return
        answer = request[0]
        try:
            reading = read_answer(answer)
            reply = ("ok", {"read_as_latex": lecture_latex(reading.expr), "error": None})
        except AnswerError as error:
            reply = ("ok", {"read_as_latex": None, "error": str(error)})
        except RecursionError:
            reply = ("ok", {"read_as_latex": None, "error": "nested too deeply to read"})
        except Exception as error:  # a bug must not take the preview down
            reply = ("error", (f"the reader failed ({type(error).__name__})", "crash"))
        connection.send(reply)


class PreviewWorker(CheckWorker):
    """A :class:`CheckWorker` whose child only *reads* answers: same limits, same kill.

    The time limit, the size refusal, the kill and the restart are the check worker's own;
    only the loop run in the child differs.
    """

    _child_loop = staticmethod(_serve_preview)
    _child_says_ready = False


def preview_factory(timeout: float) -> PreviewWorker:
    return PreviewWorker(timeout=min(timeout, PREVIEW_TIME_LIMIT_S), warm=True)
