"""Derivation mode of the web page: a multi-line ``align*`` checked step by step.

``POST /api/check`` with ``{"question": ID, "derivation": TEXT}`` answers with the document
``gae-sym check --question ID --derivation FILE --json`` prints for a file holding TEXT
(:func:`gae_sym.derivation_check.homework.check_derivation`, run by
:func:`gae_sym.derivation_check.worker.check_homework_text_isolated` in a forked process
that is killed past its hard time limit). ``POST /api/preview`` with ``{"derivation":
TEXT}`` reads every line (nothing is checked) in a warm, time-limited reader process.

TEXT is what a ``.tex`` file would hold (its last ``align*``-like block is the answer) or
bare lines ``LHS &= … \\\\ &= …``, which the server wraps in ``\\begin{align*} …
\\end{align*}`` *on the first line*, so the line numbers of every message are those of the
text as typed; the columns of the first line are given back as typed too
(:func:`as_typed`).

Time (the budget): each line's search stops after
:data:`gae_sym.derivation_check.search.BUDGET_S` CPU seconds, and the whole derivation is
killed past ``min(limit_for(lines), DERIVATION_TIME_LIMIT_S)`` seconds — 20 s plus 6 s a
line, at most 60 s. At most ``slots`` derivations are checked at once and ``queue`` wait;
one more is refused at once (429). The server process itself only counts ``\\\\`` and
looks for ``\\begin{``: the block finder runs in the worker processes, under their limits.
"""

from __future__ import annotations

import re
import threading
from multiprocessing.connection import Connection

from gae_sym.homework.worker import CheckWorker
from gae_sym.web.pool import PREVIEW_TIME_LIMIT_S, Admission

DERIVATION_TIME_LIMIT_S = 60.0
"""Hard limit for one derivation, whatever its length (the CLI allows 20 s + 6 s a line)."""
DERIVATION_SLOTS = 1
"""Derivations checked at once: each is a CPU-bound process of its own."""
DERIVATION_QUEUE = 4
"""Derivations that may wait for a slot; one more gets 429."""

_WRAP = "\\begin{align*}"
_ENVIRONMENT = re.compile(r"\\begin\s*\{")


def derivation_source(text: str) -> tuple[str, int]:
    """The text to check and the number of characters added before its first line.

    A text with an environment (``\\begin{…}``) or a Markdown display (``$$``) is checked as
    written; bare lines get ``\\begin{align*}`` in front of the first line (not on a line of
    its own, so line numbers do not move) and ``\\end{align*}`` after the last.
    """
    if _ENVIRONMENT.search(text) or "$$" in text:
        return text, 0
    return f"{_WRAP}{text}\n\\end{{align*}}\n", len(_WRAP)


def is_markdown(source: str) -> bool:
    """The rule of :func:`check_homework_text_isolated`: ``$$`` displays and no environment."""
    return "\\begin{" not in source and "$$" in source


def last_block(source: str):
    """The block that is the answer (the last one), or None; :class:`BlockError` when the
    text cannot be read as a whole. String work (nothing is evaluated), but run only in the
    time-limited reader process (see :func:`line_estimate`)."""
    from gae_sym.derivation_check.blocks import find_blocks

    blocks = find_blocks(source, is_markdown(source))
    return blocks[-1] if blocks else None


def line_estimate(source: str) -> int:
    """An upper bound of the lines of the answer block (one more than its ``\\\\``), at
    most the 40 a block may hold: it sizes the time limit in the server process, which never
    runs the block finder itself (its regular expressions take seconds on some 16 KB inputs;
    the worker runs them, under the time limit)."""
    from gae_sym.derivation_check.blocks import MAX_LINES_PER_BLOCK

    return min(source.count("\\\\") + 1, MAX_LINES_PER_BLOCK)


_FIRST_LINE_SPOT = re.compile(r"\(line 1, column (\d+)\)")


def unshift(text, added: int):
    """A message's "(line 1, column C)" counted in the text as typed (C - ``added``)."""
    if not added or not isinstance(text, str):
        return text
    return _FIRST_LINE_SPOT.sub(
        lambda m: f"(line 1, column {max(1, int(m.group(1)) - added)})", text
    )


def as_typed(document: dict, added: int) -> dict:
    """``document`` with the columns of line 1 counted in the text as typed, when the
    server added ``added`` characters in front of it (bare lines); a copy."""
    if not added:
        return document
    document = {**document, "feedback": unshift(document.get("feedback"), added)}
    report = document.get("derivation")
    if report:
        lines = []
        for entry in report.get("lines", []):
            entry = {**entry, "why": unshift(entry.get("why"), added)}
            if entry.get("source_line") == 1:
                entry["column"] = max(1, entry["column"] - added)
            if entry.get("error_line") == 1 and "error_column" in entry:
                entry["error_column"] = max(1, entry["error_column"] - added)
            lines.append(entry)
        report = {**report, "lines": lines}
        if "why" in report:
            report["why"] = unshift(report["why"], added)
        document["derivation"] = report
    return document


def written_latex(line, first: bool) -> str:
    """A line's maths as written: ``LHS = RHS`` for the first, ``= RHS`` after it (the
    alignment ``&`` and the reason left out)."""
    rhs = line.rhs.replace("&", " ").strip()
    if first and line.lhs is not None:
        return f"{line.lhs.replace('&', ' ').strip()} = {rhs}"
    return f"= {rhs}"


def unreadable_document(question_id: str, message: str) -> dict:
    """The shape of a derivation verdict (``check_derivation``) for a derivation that could
    not be checked at all (past the time limit)."""
    return {
        "verdict": "unreadable",
        "question": question_id,
        "feedback": message,
        "first_wrong_line": None,
        "counterexample": None,
        "mistake": None,
        "derivation": None,
    }


class DerivationPool(Admission):
    """Bounded admission for derivation checks, each in its own time-limited process.

    ``check`` returns ``("ok", document)`` or ``("error", (message, kind))`` with kind
    ``"too-complex"`` (killed past the limit) or ``"crash"`` (the process died).
    """

    def __init__(
        self,
        slots: int = DERIVATION_SLOTS,
        queue: int = DERIVATION_QUEUE,
        limit: float = DERIVATION_TIME_LIMIT_S,
    ) -> None:
        if slots < 1 or queue < 0 or limit <= 0:
            raise ValueError("slots >= 1, queue >= 0 and limit > 0")
        super().__init__(slots + queue)
        self.limit = limit
        self._slots = threading.Semaphore(slots)

    def time_limit(self, lines: int) -> float:
        """The hard limit for a derivation of ``lines`` lines, in seconds."""
        from gae_sym.derivation_check.search import BUDGET_S
        from gae_sym.derivation_check.worker import limit_for

        return min(limit_for(lines, BUDGET_S), self.limit)

    def check(self, text: str, question_id: str):
        """Blocking: wait for a slot, check in a fresh forked process, return the pair."""
        from gae_sym.derivation_check.search import BUDGET_S
        from gae_sym.derivation_check.worker import check_homework_text_isolated

        source, added = derivation_source(text)
        timeout = self.time_limit(line_estimate(source))
        with self._slots:
            status, payload = check_homework_text_isolated(source, question_id, BUDGET_S, timeout)
        if status == "ok":
            return ("ok", as_typed(payload, added))
        message = payload.removeprefix("derivation: ")
        if message.startswith("unknown question"):
            return ("error", (message, "unknown-question"))
        if "too complex" in message or "nested too deeply" in message:
            return ("error", (message, "too-complex"))
        return ("error", (message, "crash"))


# --- the preview: every line as read ----------------------------------------------------

MAX_PREVIEW_CHARS = 16 * 1024
"""The request body limit: a derivation that fits in it is read (each line has the
reader's own limits)."""


def read_lines(text: str) -> dict:
    """``{"error", "lines": [{"source_line", "written_latex", "read_as_latex", "error"}]}``:
    each line of the answer block as read by the derivation reader (nothing is checked)."""
    from gae_sym.derivation_check.blocks import BlockError
    from gae_sym.derivation_check.engine import read_block
    from gae_sym.printing import lecture_latex

    source, added = derivation_source(text)
    try:
        block = last_block(source)
    except BlockError as error:
        return {"error": str(error), "lines": []}
    if block is None:
        return {
            "error": "no derivation yet: write lines LHS &= … \\\\ &= … "
            "(or a \\begin{align*} … \\end{align*} block)",
            "lines": [],
        }
    if block.error and not block.lines:
        return {"error": block.error[2], "lines": []}
    exprs, entries = read_block(block)
    lines = []
    for index, line in enumerate(block.lines):
        entry = entries[index]
        sides = [exprs[0], exprs[1]] if index == 0 else [exprs[index + 1]]
        read = None
        if entry is None and all(side is not None for side in sides):
            read = " = ".join(lecture_latex(side) for side in sides)
            read = read if index == 0 else f"= {read}"
        lines.append(
            {
                "source_line": line.source_line,
                "written_latex": written_latex(line, index == 0),
                "read_as_latex": read,
                "error": None if entry is None else unshift(entry["why"], added),
            }
        )
    return {"error": None, "lines": lines}


def _serve_derivation_preview(connection: Connection) -> None:
    """Reader loop: receive (text, _, _), send ("ok", read_lines(text)) or an error pair."""
    while True:
        try:
            request = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if request is None:
            return
        try:
            reply = ("ok", read_lines(request[0]))
        except RecursionError:
            reply = ("ok", {"error": "nested too deeply to read", "lines": []})
        except Exception as error:  # a bug must not take the preview down
            reply = ("error", (f"the reader failed ({type(error).__name__})", "crash"))
        connection.send(reply)


class DerivationPreviewWorker(CheckWorker):
    """A warm process that only *reads* derivations, killed past its time limit.

    The start, kill and restart are :class:`CheckWorker`'s; the child runs
    :func:`_serve_derivation_preview`, and the size refusal is the derivation's (the body
    limit) instead of one answer's 4,000 characters.
    """

    def __init__(self, timeout: float = PREVIEW_TIME_LIMIT_S) -> None:
        # Loaded here so that every forked reader starts with them.
        import gae_sym.derivation_check.engine
        import gae_sym.derivation_check.reading
        import gae_sym.printing  # noqa: F401

        super().__init__(timeout=timeout, warm=True)

    _child_loop = staticmethod(_serve_derivation_preview)
    _child_says_ready = False

    def check(self, text: str, question_id=None, expected=None):
        if len(text) > MAX_PREVIEW_CHARS:
            return ("error", (f"at most {MAX_PREVIEW_CHARS:,} characters are read", "unreadable"))
        return self._exchange(
            (text, None, None),
            "the reader process failed on this derivation",
            "too long to read: no result within {:.1f} s",
        )


def derivation_preview_factory(timeout: float) -> DerivationPreviewWorker:
    return DerivationPreviewWorker(timeout=min(timeout, PREVIEW_TIME_LIMIT_S))
