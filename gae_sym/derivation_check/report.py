"""The plain-text report of checked derivation files (``gae-sym prove FILE`` without --json)."""

from __future__ import annotations

from collections.abc import Iterable

_MARK = {"justified": "ok", "false": "FALSE", "unjustified": "??", "unreadable": "UNREADABLE"}


def exit_status(files: Iterable[dict]) -> int:
    """0 every line of every block justified (claims established), 1 a line false or
    unjustified, 2 a file or a line that cannot be read, or a file with no derivation block
    (nothing checked is not a pass)."""
    files = list(files)
    statuses = [f.get("status") for f in files]
    blocks = [b["status"] for f in files for b in f.get("blocks", [])]
    if "unreadable" in statuses or "unreadable" in blocks:
        return 2
    if any(not f.get("blocks") for f in files):
        return 2
    if any(s in ("false", "unjustified") for s in blocks):
        return 1
    return 0


def render_text(files: Iterable[dict]) -> str:
    out = []
    for report in files:
        if report.get("error"):
            # The error names the file itself (engine.read_derivation_file, the worker).
            error = report["error"]
            named = error.startswith(f"{report['file']}:")
            out.append(error if named else f"{report['file']}: cannot read it: {error}")
            continue
        blocks = report["blocks"]
        out.append(
            f"{report['file']}: {len(blocks)} derivation block(s), {report['seconds']:.1f} s"
        )
        if not blocks:
            out.append(
                "  no derivation block: an align* (align, aligned, eqnarray*; $$ in Markdown) "
                "of at least two lines, LHS &= … \\\\ &= …; a single equation only under a "
                "'% gae-sym: claim ID' line"
            )
        for block in blocks:
            out.extend(_block_text(block))
    return "\n".join(out) + "\n"


def _block_text(block: dict) -> list[str]:
    head = f"  block at line {block['start_line']} ({block['environment']})"
    if block.get("claim"):
        head += f", claim {block['claim']}"
    head += f", assume {', '.join(block['assumptions']) or 'nothing'}: {block['status']}"
    lines = [head]
    if block.get("why") and not block["lines"]:
        lines.append(f"    {block['why']}")
    for line in block["lines"]:
        mark = _MARK[line["status"]]
        text = line["why"] or ""
        lines.append(f"    line {line['source_line']:>4}  {mark:<10} {text}")
        if line["status"] == "unreadable":
            where = f"line {line.get('error_line', line['source_line'])}, column "
            where += str(line.get("error_column", line["column"]))
            lines.append(f"               {where}: {line['latex'][:100]}")
    if block.get("claim"):
        verdict = "established" if block.get("claim_established") else "NOT established"
        lines.append(f"    claim {block['claim']}: {verdict} ({block.get('claim_why')})")
    if block["first_wrong_line"] is not None:
        lines.append(f"    first wrong line: {block['first_wrong_line']}")
    return lines


__all__ = ["exit_status", "render_text"]
