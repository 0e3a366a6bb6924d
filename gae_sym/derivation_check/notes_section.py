"""A lecturer's own derivation file as a section of the notes (``gae-sym notes --extra FILE``).

Each derivation block is shown as written (its math, line by line) followed by a table:
the source line, the verdict, the justification the engine found and the author's own
reason; then the lines that fail, with their counterexamples. No timing is printed, so the
section is the same text each time the same file is checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from gae_sym.notes.document import Bullets, Heading, Math, Para, Section, Table

_VERDICT = {
    "justified": "justified",
    "false": "**false**",
    "unjustified": "**unjustified**",
    "unreadable": "**unreadable**",
}


def section_id(path: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-") or "derivations"
    return f"extra-{stem}"


def extra_section(report: dict) -> Section:
    """The notes section of one checked file (the report of ``prove FILE --json``)."""
    name = Path(report["file"]).name
    sid = section_id(report["file"])
    blocks: list = [
        Para(
            f"The derivations of `{name}`, checked line by line by `gae-sym prove {name}`: "
            "for each line the engine found the justification itself (the kernel decides; "
            "the author's reasons are shown, never used)."
        )
    ]
    if not report["blocks"]:
        blocks.append(Para("The file holds no derivation block."))
    for number, block in enumerate(report["blocks"], start=1):
        title = f"Block {number} (line {block['start_line']})"
        if block.get("claim"):
            title += f": {block['claim']}"
        blocks.append(Heading(title, f"{sid}-block-{number}"))
        assumed = ", ".join(f"`{a}`" for a in block["assumptions"]) or "nothing"
        status = block["status"]
        summary = f"Assumes {assumed}. Verdict: **{status}**."
        if block.get("claim"):
            established = "established" if block.get("claim_established") else "not established"
            summary += f" Claim `{block['claim']}`: {established}."
        blocks.append(Para(summary))
        math = [
            _math_of(line["latex"]) for line in block["lines"] if line["status"] != "unreadable"
        ]
        if math:
            blocks.append(Math(tuple(math)))
        rows = tuple(
            (
                str(line["source_line"]),
                _VERDICT[line["status"]],
                _plain(line["why"] or ""),
                _plain(line["reason"] or ""),
            )
            for line in block["lines"]
        )
        if rows:
            blocks.append(
                Table(("line", "verdict", "justification found", "author's reason"), rows)
            )
        failing = [line for line in block["lines"] if line["status"] != "justified"]
        if failing:
            blocks.append(
                Bullets(
                    tuple(
                        f"line {line['source_line']}: {line['status']}: {_plain(line['why'])}"
                        for line in failing
                    )
                )
            )
        if block.get("why") and not block["lines"]:
            blocks.append(Para(_plain(block["why"])))
    return Section(id=sid, title=f"Your derivations: {name}", blocks=blocks)


def _math_of(latex: str) -> str:
    """The math of a written line (its reason and the trailing ``\\\\`` dropped)."""
    from gae_sym.derivation_check.blocks import _reason_split, _strip_comment

    math, _ = _strip_comment(latex)
    math, _ = _reason_split(math)
    math = math.strip()
    if "&" not in math:
        math = math.replace("=", "&=", 1)
    return " ".join(math.split())


def _plain(text: str) -> str:
    # Table cells are plain text: no '|' (a Markdown column break), no stray '$'.
    return text.replace("|", "/").replace("$", "")


def extra_sections(reports: Sequence[dict]) -> list[Section]:
    return [extra_section(report) for report in reports]


__all__ = ["extra_section", "extra_sections", "section_id"]
