"""`gae-sym prove`: machine-check every derivation and print a table of the results."""

from __future__ import annotations

import argparse
import sys

from gae_sym.cli._common import add_json_flag, add_parser, print_json
from gae_sym.errors import UserError

DESCRIPTION = """\
Machine-check the derivations: every step of every theorem is executed by SymPy
(split a term off a sum, shift an index, swap a double sum, sum a geometric series,
induction, ...) and accepted only if the line written equals what the rule gives.
All theorems hold for symbolic n, N and t; no instance is evaluated.

Prints one row per theorem: id, status (proved/failed), seconds, assumptions. A failed
theorem shows the step that failed and why.

With FILE arguments (.tex or .md): check the derivations written in them instead. Every
align*/align/aligned/eqnarray* block (in Markdown also $$...$$ and ```math) holding a
chain of equalities is read line by line, and the engine finds the justification of each
line itself (algebra, one rule, or two rules in a row, 2 CPU s per line): each line is
justified (with the rule found, in words), false (with a counterexample), unjustified
(true where tried, no rule found: not a proof) or unreadable (reason and column). Before a
block, "% gae-sym: assume n-ge-1, segment" names the assumptions in force (the ids of
the table above) and "% gae-sym: claim ID" the theorem it must establish.

examples:
  gae-sym prove
  gae-sym prove --only gae-recursion
  gae-sym prove --json | python -m json.tool
  gae-sym prove docs/examples/derivations/nstep_telescoping.tex
  gae-sym prove docs/examples/derivations/*.tex --json

exit status: 0 all proved, 1 a theorem failed (FILE: a line is false or unjustified, or a
claim is not established), 2 an unknown --only id, a file or line that cannot be read, or
a bad command line."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "prove", "machine-check every derivation", DESCRIPTION)
    parser.add_argument(
        "--only",
        metavar="ID",
        action="append",
        help="check only this derivation (repeatable), e.g. nstep-telescoping",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="LaTeX (.tex) or Markdown (.md) files whose derivation blocks are checked",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "files", None):
        if args.only:
            raise UserError("--only selects built-in theorems; it cannot be used with FILE")
        return _run_files(args.files, args.json)
    import derivations

    selected = list(derivations.ALL)
    if args.only:
        try:
            selected = [derivations.get(name) for name in args.only]
        except KeyError:
            unknown = next(n for n in args.only if n not in derivations.ids())
            raise UserError(
                f"unknown derivation {unknown!r}; known: {', '.join(derivations.ids())}"
            ) from None
    results = [derivation.verify() for derivation in selected]
    if args.json:
        print_json([result.as_dict() for result in results])
    else:
        _print_table(results)
    return 0 if all(result.status == "proved" for result in results) else 1


def _run_files(paths: list[str], as_json: bool) -> int:
    """Check the derivation blocks of each file in a time-limited worker process."""
    from gae_sym.derivation_check import check_isolated
    from gae_sym.derivation_check.report import exit_status, render_text

    reports = []
    for path in paths:
        status, payload = check_isolated(path)
        if status == "ok":
            reports.append(payload)
        else:
            reports.append({"file": path, "status": "unreadable", "error": payload, "blocks": []})
    if as_json:
        print_json({"files": reports})
    else:
        sys.stdout.write(render_text(reports))
    return exit_status(reports)


def _print_table(results) -> None:
    header = ("id", "status", "seconds", "assumptions")
    rows = [(r.id, r.status, f"{r.seconds:.3f}", ", ".join(r.assumptions) or "-") for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    out = sys.stdout
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)))
        out.write(f"  {row[3]}\n")
    for r in results:
        if r.status != "proved":
            out.write(f"\n{r.id}: step {r.failed_step} failed: {r.why}\n")
    proved = sum(r.status == "proved" for r in results)
    total = sum(r.seconds for r in results)
    out.write(f"\n{proved}/{len(results)} proved in {total:.2f} s\n")
