"""Run checks in a child process that is killed past a hard time limit.

A timer signal cannot interrupt SymPy's C-level bigint arithmetic or a long ANTLR parse,
so every untrusted answer is checked in a worker process. The parent waits at most
``timeout`` seconds for the reply; past it, the worker is killed (SIGKILL) and a fresh one is
started for the next answer, and the answer gets "too complex to check". The worker stays
warm between answers (ANTLR loaded, reference values cached), so grading a class pays the
start-up once.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from multiprocessing.connection import Connection

TIME_LIMIT_S = 5.0
"""Hard limit per check, on any input (the worker's own start-up is not counted)."""
STARTUP_LIMIT_S = 120.0
"""How long a fresh worker may take to import and load the parser before it is used."""


def ignore_ctrl_c() -> None:
    """In a check worker: Ctrl-C (SIGINT to the whole process group) is the parent's to
    handle; the parent kills its workers, which must not each print a KeyboardInterrupt
    traceback first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _serve(connection: Connection) -> None:
    """Worker loop: receive (answer, question_id, expected), send the result dict."""
    from gae_sym.homework.build import AnswerError
    from gae_sym.homework.checker import check
    from gae_sym.homework.latex_reader import warm_up

    ignore_ctrl_c()
    # Start-up (imports, the LaTeX parser) before the clock of any answer starts: on a busy
    # machine it takes seconds, and a plain r_t must not be "too complex" because of it.
    warm_up()
    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if request is None:
            return
        answer, question_id, expected = request
        try:
            reply = ("ok", check(answer, question_id, expected))
        except AnswerError as error:
            reply = ("error", (str(error), error.kind))
        except RecursionError:
            reply = (
                "error",
                ("the answer is nested too deeply: too complex to check", "too-complex"),
            )
        except Exception as error:  # a bug must not take the grading run down
            reply = (
                "error",
                (f"the checker failed on this answer ({type(error).__name__})", "crash"),
            )
        connection.send(reply)


def start_context() -> mp.context.BaseContext:
    """How check workers start: fork (milliseconds, inherits the loaded modules), else spawn."""
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


class CheckWorker:
    """One warm worker process with a hard per-check time limit; use as a context manager.

    Subclasses run another loop in the child (``_child_loop``, a module-level function of
    one Connection) and may send other requests through :meth:`_exchange`; the start, the
    time limit, the kill and the restart stay this class's.
    """

    _child_loop = staticmethod(_serve)
    _child_says_ready = True
    """Whether the child sends "ready" once loaded (its start-up is then not a check's time)."""

    def __init__(self, timeout: float = TIME_LIMIT_S, warm: bool = False) -> None:
        self.timeout = timeout
        self._process = None
        self._connection: Connection | None = None
        self.restarts = 0
        if warm:
            # Load SymPy's LaTeX parser here so that every forked worker starts warm.
            import gae_sym.homework.checker
            import gae_sym.homework.numeric_check  # noqa: F401  (numpy, loaded once)
            from gae_sym.homework.latex_reader import warm_up

            warm_up()
        self._start()

    def _start(self) -> None:
        context = start_context()
        parent, child = context.Pipe()
        process = context.Process(target=self._child_loop, args=(child,), daemon=True)
        process.start()
        child.close()
        self._process, self._connection = process, parent
        if not self._child_says_ready:
            return
        # Wait for the worker's "ready" (its start-up is not any answer's time); a worker
        # that never gets ready is found dead by the next check, which restarts it.
        try:
            if parent.poll(STARTUP_LIMIT_S):
                parent.recv()
        except (EOFError, OSError):
            pass

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def check(self, answer: str, question_id: str | None = None, expected: str | None = None):
        """("ok", result dict) or ("error", (message, kind)); kind "too-complex" on timeout."""
        from gae_sym.homework.screen import MAX_CHARS

        for text, what in ((answer, "answer"), (expected, "expected expression")):
            if text is not None and len(text) > MAX_CHARS:
                # Refused here, so a huge spreadsheet cell never travels to the worker.
                message = f"the {what} has {len(text):,} characters; at most {MAX_CHARS:,} are read"
                kind = "unreadable" if what == "answer" else "bad-expected"
                return ("error", (message, kind))
        return self._exchange(
            (answer, question_id, expected),
            "the checker process failed on this answer",
            "too complex to check: no result within the time limit ({:.1f} s used)",
        )

    def _exchange(self, request: tuple, crashed: str, too_long: str):
        """Send ``request`` to the child (restarted if dead) and wait at most the time
        limit: its reply, ("error", (crashed, "crash")) when it died, or ("error",
        (too_long with the seconds used, "too-complex")) after killing it."""
        if self._process is None or not self._process.is_alive():
            self._kill()
            self._start()
        assert self._connection is not None
        started = time.monotonic()
        try:
            self._connection.send(request)
            if self._connection.poll(self.timeout):
                return self._connection.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._kill()
            self.restarts += 1
            return ("error", (crashed, "crash"))
        elapsed = time.monotonic() - started
        self._kill()
        self.restarts += 1
        return ("error", (too_long.format(elapsed), "too-complex"))

    def close(self) -> None:
        if self._connection is not None and self._process is not None and self._process.is_alive():
            try:
                self._connection.send(None)
                self._process.join(timeout=2)
            except (BrokenPipeError, OSError):
                pass
        self._kill()

    def __enter__(self) -> CheckWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
