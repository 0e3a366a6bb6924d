"""Check a derivation file in a child process that is killed past a hard time limit.

A derivation file is untrusted text like a homework answer: the reader's screen refuses
long or deeply nested lines, each line's search stops at its budget, and the whole file is
checked in a forked worker (the pattern of :mod:`gae_sym.homework.worker`) so that no input
can hold the caller past ``limit_for(...)`` seconds, even inside SymPy's C-level arithmetic.
"""

from __future__ import annotations

import time
from pathlib import Path

from gae_sym.derivation_check.search import BUDGET_S
from gae_sym.homework.worker import ignore_ctrl_c, start_context

FIXED_S = 20.0
"""Start-up allowance of a file (the LaTeX parser's first load, the cited theorems' checks)."""
PER_LINE_S = 3 * BUDGET_S
"""Allowance per line: the search budget, the refutation and the final proof checks."""


def limit_for(lines: int, budget: float = BUDGET_S) -> float:
    """The hard limit for a file of ``lines`` derivation lines."""
    return FIXED_S + lines * max(PER_LINE_S, 3 * budget)


def _serve(connection, path: str, budget: float) -> None:
    from gae_sym.derivation_check.engine import FileError, check_path

    ignore_ctrl_c()
    try:
        reply = ("ok", check_path(Path(path), budget))
    except FileError as error:
        reply = ("error", str(error))
    except RecursionError:
        reply = ("error", f"{path}: nested too deeply: too complex to check")
    except Exception as error:  # a bug must not take the whole run down
        reply = (
            "error",
            f"{path}: the checker failed on this file ({type(error).__name__}: {error})",
        )
    try:
        connection.send(reply)
    finally:
        connection.close()


def _serve_homework(connection, path: str, question_id: str, budget: float) -> None:
    from gae_sym.derivation_check.engine import FileError, read_derivation_file
    from gae_sym.derivation_check.homework import check_derivation
    from gae_sym.homework.build import AnswerError

    ignore_ctrl_c()
    try:
        text = read_derivation_file(Path(path))
        markdown = Path(path).suffix.lower() in (".md", ".markdown")
        reply = ("ok", check_derivation(text, question_id, markdown, budget))
    except (AnswerError, FileError) as error:
        reply = ("error", str(error))
    except RecursionError:
        reply = ("error", f"{path}: nested too deeply: too complex to check")
    except Exception as error:  # a bug must not take the whole run down
        reply = ("error", f"{path}: the checker failed ({type(error).__name__}: {error})")
    try:
        connection.send(reply)
    finally:
        connection.close()


def _serve_homework_text(connection, text: str, question_id: str, budget: float) -> None:
    from gae_sym.derivation_check.homework import check_derivation
    from gae_sym.homework.build import AnswerError

    ignore_ctrl_c()
    try:
        markdown = "\\begin{" not in text and "$$" in text
        reply = ("ok", check_derivation(text, question_id, markdown, budget))
    except AnswerError as error:
        reply = ("error", str(error))
    except RecursionError:
        reply = ("error", "nested too deeply: too complex to check")
    except Exception as error:  # a bug must not take the whole run down
        reply = ("error", f"the checker failed on this derivation ({type(error).__name__})")
    try:
        connection.send(reply)
    finally:
        connection.close()


def check_homework_text_isolated(
    text: str, question_id: str, budget: float = BUDGET_S, timeout: float | None = None
) -> tuple:
    """("ok", verdict document) or ("error", message) for a derivation given as text
    (a TOML multi-line string or a CSV cell of ``gae-sym grade``)."""
    from gae_sym.derivation_check.blocks import BlockError, find_blocks

    if timeout is None:
        try:
            markdown = "\\begin{" not in text and "$$" in text
            count = sum(len(b.lines) for b in find_blocks(text, markdown))
        except BlockError:
            count = 0
        timeout = limit_for(count, budget)
    return _run(_serve_homework_text, ("derivation", question_id, budget), timeout, text)


def _lines_in(path: Path) -> int:
    from gae_sym.derivation_check.blocks import BlockError, find_blocks

    try:
        text = path.read_text(encoding="utf-8")
        markdown = path.suffix.lower() in (".md", ".markdown")
        return sum(len(b.lines) for b in find_blocks(text, markdown))
    except (OSError, UnicodeDecodeError, BlockError):
        return 0  # the worker reports why the file cannot be read


def check_homework_isolated(
    path: Path, question_id: str, budget: float = BUDGET_S, timeout: float | None = None
) -> tuple:
    """("ok", verdict document) or ("error", message) for a derivation answer file."""
    path = Path(path)
    if timeout is None:
        timeout = limit_for(_lines_in(path), budget)
    return _run(_serve_homework, (str(path), question_id, budget), timeout)


def check_isolated(path: Path, budget: float = BUDGET_S, timeout: float | None = None) -> tuple:
    """("ok", report) or ("error", message); the file is read in the parent only to size
    the time limit (string work), and checked in a worker."""
    path = Path(path)
    if timeout is None:
        timeout = limit_for(_lines_in(path), budget)
    return _run(_serve, (str(path), budget), timeout)


_WARM = False


def _warm_parent() -> None:
    """Load the parser and check the citable theorems here, once: every forked worker
    then starts with them (only the project's own theorems run here, no input)."""
    global _WARM
    if not _WARM and start_context().get_start_method() == "fork":
        from gae_sym.derivation_check.engine import _warm

        _warm()
        _WARM = True


def _run(target, args: tuple, timeout: float, text: str | None = None) -> tuple:
    path = args[0]
    _warm_parent()
    if text is not None:
        args = (text, *args[1:])
    context = start_context()
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(child, *args), daemon=True)
    started = time.monotonic()
    process.start()
    child.close()
    try:
        if parent.poll(timeout):
            try:
                return parent.recv()
            except EOFError:
                return ("error", f"{path}: the checker process failed on this file")
        elapsed = time.monotonic() - started
        return ("error", f"{path}: too complex to check: no result within {elapsed:.0f} s")
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        parent.close()


__all__ = [
    "check_homework_isolated",
    "check_homework_text_isolated",
    "check_isolated",
    "limit_for",
]
