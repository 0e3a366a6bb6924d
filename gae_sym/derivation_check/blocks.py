"""Find the derivation blocks of a .tex or .md file and split them into lines and reasons.

A derivation block is an ``align*``, ``align``, ``aligned`` or ``eqnarray*`` environment
(in Markdown also a ``$$ … $$`` display or a fenced ``math`` block) that holds a chain of
equalities: ``LHS &= RHS \\\\ &= RHS \\\\ …``. The ``&`` may stand before or after ``=``;
``\\label``, ``\\nonumber`` and ``\\notag`` are ignored. What follows ``&&``, a
``\\quad``/``\\qquad`` + ``\\text{…}``, a ``\\tag{…}`` or a ``%`` comment is the line's
reason (shown, never needed for the check). A line that starts with ``+`` or ``-`` (after
its ``&`` and spacing) continues the line before it, so long lines may be broken.

Directives just before a block (``% gae-sym: assume ID, …`` / ``% gae-sym: claim ID``; in
Markdown ``<!-- gae-sym: … -->``) name the assumptions in force and the theorem claimed.
Nothing here evaluates anything: this is string work on the source, with source line
numbers kept for every line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_FILE_CHARS = 200_000
"""A derivation file longer than this is refused (lecture notes are a few 10 kB)."""
MAX_LINES_PER_BLOCK = 40
"""A block with more lines than this is refused: each line runs a search."""
MAX_BLOCKS = 60

ENVIRONMENTS = ("align*", "align", "aligned", "eqnarray*", "eqnarray")

_ENV = re.compile(
    r"\\begin\{(?P<env>align\*?|aligned|eqnarray\*?)\}(?P<body>.*?)\\end\{(?P=env)\}", re.S
)
_MD_DISPLAY = re.compile(r"\$\$(?P<body>.*?)\$\$|^```math[ \t]*\n(?P<fence>.*?)^```", re.S | re.M)
_DIRECTIVE = re.compile(
    r"(?:%|<!--)\s*gae-sym:\s*(?P<what>assume|claim)\b(?P<rest>[^\n]*?)(?:-->)?[ \t]*$", re.M
)
_IGNORED = re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}|\\nonumber\b|\\notag\b")
_TAG = re.compile(r"\\tag\*?\s*\{(?P<text>[^{}]*)\}")
# A reason written after the maths: a run of spacing (\quad, \,, ~, …) then \text{…}.
# Found in two linear passes (each maximal spacing run once, then what follows it): one
# regex with the run inside retries at every position of a long run (quadratic: 16,000 `~`
# took 11 s).
_SPACING_RUN = re.compile(r"(?:\\q?quad|\\,|\\;|\\ |~)+")
_TEXT_AFTER = re.compile(r"\s*(?:\(\s*)?\\(?:text|textrm|mbox|mathrm)\s*\{")


def _text_reason(math: str) -> tuple[int, int] | None:
    """(start of the spacing run, start of the reason's text) of the first reason, or None."""
    for run in _SPACING_RUN.finditer(math):
        after = _TEXT_AFTER.match(math, run.end())
        if after:
            return run.start(), after.end()
    return None


class BlockError(ValueError):
    """The file cannot be read as a whole (too long, too many blocks, a bad directive)."""


@dataclass(frozen=True)
class Line:
    """One line of a chain: the source line it starts on, its column, its math and reason."""

    source_line: int
    column: int
    latex: str  # the line as written (math and reason), without the trailing \\
    lhs: str | None  # the first line's left side, else None
    rhs: str  # the math after '='
    reason: str | None
    raw: str = ""  # the row as in the file, from its first character (for error columns)

    def position_of(self, fragment: str) -> tuple[int, int] | None:
        """(source line, column) of ``fragment`` in the row as written, if it is there."""
        at = self.raw.find(fragment) if fragment else -1
        if at < 0:
            return None
        before = self.raw[:at]
        lines = before.count("\n")
        column = (self.column + at) if lines == 0 else (at - before.rfind("\n"))
        return self.source_line + lines, column


@dataclass
class Block:
    """A derivation block: where it starts, its directives and its lines."""

    start_line: int
    environment: str
    assumptions: list[str] = field(default_factory=list)
    claim: str | None = None
    lines: list[Line] = field(default_factory=list)
    error: tuple[int, int, str] | None = None  # (source line, column, why) when unreadable


def find_blocks(text: str, markdown: bool) -> list[Block]:
    """The derivation blocks of a file's text, in order."""
    if len(text) > MAX_FILE_CHARS:
        raise BlockError(f"the file has {len(text):,} characters; at most {MAX_FILE_CHARS:,}")
    if "\x00" in text:
        raise BlockError("the file contains NUL bytes: not a text file")
    # Inline code and non-math fences in Markdown are not math (`$$` in prose about it).
    searched = _blank_code(text) if markdown else text
    spans = []
    for match in _ENV.finditer(searched):
        spans.append((match.start(), match.start("body"), match.group("body"), match.group("env")))
    if markdown:
        for match in _MD_DISPLAY.finditer(searched):
            group = "body" if match.group("body") is not None else "fence"
            body = match.group(group)
            if _ENV.search(body):
                continue  # the environment inside the display is the block
            spans.append(
                (match.start(), match.start(group), body, "$$" if group == "body" else "math")
            )
    spans.sort()
    # An aligned inside an already found span (\begin{equation}\begin{aligned}) counts once.
    blocks = []
    consumed_until = -1
    previous_end = 0
    for start, body_start, body, env in spans:
        if start < consumed_until:
            continue
        consumed_until = body_start + len(body)
        directives = _directives(text[previous_end:start])
        previous_end = consumed_until
        block = Block(start_line=_line_of(text, start), environment=env)
        block.assumptions, block.claim = directives
        _split_lines(block, text, body_start, body)
        if (block.lines or block.error) and _is_chain(block):
            blocks.append(block)
    if len(blocks) > MAX_BLOCKS:
        raise BlockError(f"the file has {len(blocks)} derivation blocks; at most {MAX_BLOCKS}")
    return blocks


def _is_chain(block: Block) -> bool:
    """A chain of equalities: at least two lines, or one equation under a directive."""
    if block.claim or block.assumptions or (block.error and not block.lines):
        return True  # a block refused as a whole (too many lines) is reported
    return len(block.lines) >= 2


_CODE = re.compile(
    r"^(`{3,}|~{3,})(?!math\b)[^\n]*\n.*?^\1[ \t]*$|(?<!`)`[^`\n]+`(?!`)", re.S | re.M
)


def _blank_code(text: str) -> str:
    """``text`` with code spans and non-math fences blanked (newlines kept, so offsets and
    line numbers stay those of the file)."""
    return _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _directives(between: str) -> tuple[list[str], str | None]:
    """The directives in the text since the previous block (the last of each kind wins)."""
    assumptions: list[str] = []
    claim = None
    for match in _DIRECTIVE.finditer(between):
        rest = match.group("rest").strip().rstrip("-").strip()
        if match.group("what") == "assume":
            assumptions = [a.strip() for a in rest.split(",") if a.strip()]
        else:
            claim = rest or None
    return assumptions, claim


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _column_of(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1) + 1


def _split_rows(body: str) -> list[tuple[int, str]]:
    """Rows separated by ``\\\\`` outside braces, each with its offset in ``body``; a ``%``
    comment runs to the end of its source line and is kept (as the reason) in its row."""
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and body[i + 1 : i + 2] == "\\" and depth == 0:
            rows.append((start, body[start:i]))
            i += 2
            # \\[2pt]: vertical space after the break.
            space = re.match(r"\s*\[[^\]]*\]", body[i:])
            if space:
                i += space.end()
            start = i
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "%":
            end = body.find("\n", i)
            i = len(body) if end < 0 else end
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    rows.append((start, body[start:]))
    return rows


def _strip_comment(row: str) -> tuple[str, str | None]:
    """The row without its ``%`` comments, and their text (the reason), if any."""
    comments, kept = [], []
    for piece in row.split("\n"):
        match = re.search(r"(?<!\\)%", piece)
        if match:
            comments.append(piece[match.end() :].strip())
            piece = piece[: match.start()]
        kept.append(piece)
    reason = " ".join(c for c in comments if c) or None
    return "\n".join(kept), reason


def _reason_split(math: str) -> tuple[str, str | None]:
    """Separate the math of a row from its written reason (&&, \\quad\\text{…}, \\tag{…})."""
    reasons = []
    tag = _TAG.search(math)
    if tag:
        reasons.append(tag.group("text").strip())
    math = _IGNORED.sub(" ", math)
    if "&&" in math:
        math, _, reason = math.partition("&&")
        reasons.append(_unwrap_text(reason))
    found = _text_reason(math)
    if found:
        start, text = found
        reason = math[text:].rstrip()
        reason = reason[:-1] if reason.endswith(")") else reason
        reason = reason.rstrip()
        reasons.append(_unwrap_text(reason[:-1] if reason.endswith("}") else reason))
        math = math[:start]
    return math, " ".join(r for r in reasons if r) or None


def _unwrap_text(reason: str) -> str:
    """``\\text{definition of } \\delta`` → ``definition of $\\delta$``-like plain words."""
    out = re.sub(r"\\(?:text|textrm|mbox|mathrm)\s*\{([^{}]*)\}", r"\1", reason)
    out = re.sub(r"\\q?quad|&", " ", out)
    out = out.strip().strip("()").strip()
    return re.sub(r"\s+", " ", out)


def _split_lines(block: Block, text: str, body_start: int, body: str) -> None:
    rows = _split_rows(body)
    if len(rows) > MAX_LINES_PER_BLOCK:
        block.error = (
            _line_of(text, body_start),
            1,
            f"the block has {len(rows)} lines; at most {MAX_LINES_PER_BLOCK} are checked",
        )
        return
    for offset, row in rows:
        raw = row
        math, comment = _strip_comment(row)
        math, reason = _reason_split(math)
        if comment:
            reason = f"{reason} {comment}".strip() if reason else comment
        stripped = math.strip()
        if not stripped:
            continue
        lead = len(row) - len(row.lstrip())
        where = body_start + offset + lead
        source_line, column = _line_of(text, where), _column_of(text, where)
        flat = " ".join(stripped.split())
        shown = " ".join(raw.strip().split())
        lhs, rhs, why = _equation(flat, first=not block.lines)
        if why == "continuation" and block.lines:
            last = block.lines[-1]
            block.lines[-1] = Line(
                last.source_line,
                last.column,
                f"{last.latex} {shown}",
                last.lhs,
                f"{last.rhs} {rhs}",
                " ".join(r for r in (last.reason, reason) if r) or None,
                last.raw,
            )
            continue
        if why is not None:
            if why == "continuation":
                why = "the first line must be 'LHS &= RHS'"
            block.error = (source_line, column, why)
            block.lines.append(Line(source_line, column, shown, None, flat, reason, raw[lead:]))
            return
        block.lines.append(Line(source_line, column, shown, lhs, rhs, reason, raw[lead:]))


def _equation(math: str, first: bool) -> tuple[str | None, str, str | None]:
    """(lhs, rhs, why-unreadable) of one row; why is "continuation" for a ``+ …`` row."""
    body = math.replace("&", " ").strip()
    body = re.sub(r"^(?:\\q?quad|\\[,;:! ]|~|\s)+", "", body)
    cuts = _top_level_equals(body)
    if not cuts:
        if body[:1] in "+-" or body.startswith("\\cdot"):
            return None, body, "continuation"
        return None, body, "no '=' in this line: each line of a chain is '&= …'"
    if len(cuts) > 1:
        return None, body, "more than one '=' in this line: write one equality per line (\\\\)"
    lhs, rhs = body[: cuts[0]].strip(), body[cuts[0] + 1 :].strip()
    if not rhs:
        return None, body, "nothing after '='"
    if first:
        if not lhs:
            return None, body, "the first line must be 'LHS &= RHS'"
        return lhs, rhs, None
    if lhs:
        return None, body, "a later line of a chain starts with '&=' (no new left side)"
    return None, rhs, None


def _top_level_equals(body: str) -> list[int]:
    depth, cuts = 0, []
    for i, ch in enumerate(body):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0 and body[i - 1 : i] not in ("<", ">", "!", "\\"):
            cuts.append(i)
    return cuts


__all__ = ["ENVIRONMENTS", "Block", "BlockError", "Line", "find_blocks"]
