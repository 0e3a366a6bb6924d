"""Read a Gradescope submission: one answer per question name of the key.

Formats (by file suffix):

- ``.toml``: ``q1-td-error = 'r_t + \\gamma V(s_{t+1}) - V(s_t)'`` (like ``gae-sym grade``);
- ``.tex``, ``.md``, ``.txt``: a line that starts with a question name and a colon,
  ``q1-td-error: $r_t + \\gamma V(s_{t+1}) - V(s_t)$``, the answer running on until a blank
  line, the next question name or a line of document structure (``\\end{…}``, ``\\item``,
  a heading, a list item). Markdown markers (``-``, ``*``, ``#``, ``**name**``) or ``\\item``
  may come first; math delimiters (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``, an
  ``equation*`` environment, Markdown backticks) and ``%`` comments in ``.tex`` are removed.
"""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SUFFIXES = (".toml", ".tex", ".md", ".txt")
"""Accepted submission files, in order of preference when several are submitted."""

MAX_SUBMISSION_BYTES = 256 * 1024

_DELIMITERS = (
    (r"^\$\$(.*)\$\$$", re.S),
    (r"^\$(.*)\$$", re.S),
    (r"^\\\((.*)\\\)$", re.S),
    (r"^\\\[(.*)\\\]$", re.S),
    (r"^\\begin\{(equation|displaymath|math)\*?\}(.*)\\end\{\1\*?\}$", re.S),
    (r"^`+(.*?)`+$", re.S),
)


_STRUCTURE = re.compile(
    r"^\s*(\\(end|item|section|subsection|paragraph|maketitle)\b"
    r"|\\begin\{(?!(equation|displaymath|math|align|gather|multline)\*?\})"
    r"|#|[-*+]\s)"
)
"""A line that starts document structure (``\\end{…}``, ``\\item``, a heading, a list item)
ends the answer before it, as a blank line does."""


class SubmissionError(ValueError):
    """The submission cannot be read at all (bad TOML, not UTF-8, too large)."""


def strip_math(text: str) -> str:
    """The answer without its surrounding math delimiters, trailing ``\\\\`` or full stop."""
    text = text.strip()
    changed = True
    while changed and text:
        changed = False
        for pattern, flags in _DELIMITERS:
            match = re.match(pattern, text, flags)
            if match:
                text = match.group(match.lastindex).strip()
                changed = True
                break
        if text.endswith("\\\\"):
            text, changed = text[:-2].rstrip(), True
    return text


def _tex_comment_free(line: str) -> str:
    """The line up to its first unescaped ``%``."""
    return re.split(r"(?<!\\)%", line, maxsplit=1)[0]


def parse_submission(text: str, suffix: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """(question name -> answer, warnings) for a submission in the format of ``suffix``."""
    if len(text.encode("utf-8")) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(f"the submission is over {MAX_SUBMISSION_BYTES // 1024} KB")
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SubmissionError(f"the TOML cannot be read: {error}") from None
        answers = {str(k): v if isinstance(v, str) else str(v) for k, v in data.items()}
        unknown = sorted(set(answers) - set(names) - {"student"})
        warnings = (
            [f"ignored (not a question of this homework): {', '.join(unknown)}"] if unknown else []
        )
        return {k: v for k, v in answers.items() if k in names}, warnings
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    start = re.compile(
        r"^\s*(?:\\item\s*|[#>*\-+]+\s*)?(?:\*\*|__)?(" + alternatives + r")(?:\*\*|__)?\s*:(.*)$"
    )
    answers: dict[str, str] = {}
    warnings: list[str] = []
    current: str | None = None
    lines: list[str] = []

    def finish() -> None:
        if current is None:
            return
        answer = strip_math(" ".join(part.strip() for part in lines if part.strip()))
        if current in answers:
            warnings.append(f"'{current}' is answered twice; the first answer is graded")
        else:
            answers[current] = answer

    for raw in text.splitlines():
        line = _tex_comment_free(raw) if suffix == ".tex" else raw
        match = start.match(line)
        if match:
            finish()
            current, lines = match.group(1), [match.group(2)]
        elif current is not None and line.strip() and not _STRUCTURE.match(line):
            lines.append(line)
        elif current is not None:
            finish()
            current, lines = None, []
    finish()
    return answers, warnings
