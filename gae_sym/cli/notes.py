"""`gae-sym notes`: write the lecture notes (Markdown, LaTeX, figures), check them, build a PDF."""

from __future__ import annotations

import argparse
from pathlib import Path

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DEFAULT_OUT = Path("docs/notes")

DESCRIPTION = """\
Write lecture notes that write themselves: every derivation step by step, each step
machine-checked (the same check as 'gae-sym prove'), in the order a course teaches it:
TD error -> n-step advantages and their telescoping -> the lambda-weighted average ->
GAE -> the lambda = 0 and lambda = 1 limits -> the recursion used in code -> the
lambda-return; then the bias-variance study, the CartPole runs, and the lecture's own
claims checked against them.

Writes into DIR (default docs/notes):
  index.md            contents, linking every page
  <theorem-id>.md     one page per derivation, anchored by its theorem id
  td-error.md, bias-variance.md, cartpole.md, lecture-claims.md
  notes.tex           the same as one LaTeX article (amsmath, align*)
  figures/*.png       lambda weights, bias/variance vs lambda, CartPole curves
It reads docs/data/study/study.json ('gae-sym study --out docs/data/study') and
docs/data/cartpole/runs.json ('python -m numeric.cartpole.experiments --out
docs/data/cartpole'); missing data is said in the notes.

examples:
  gae-sym notes                      # (re)write docs/notes
  gae-sym notes --pdf                # ... and build docs/notes/notes.pdf (needs TeX)
  gae-sym notes --check              # exit 1 naming the stale files (figures not compared)
  gae-sym notes --out /tmp/notes
  gae-sym notes --out /tmp/notes --extra docs/examples/derivations/gae_infinite.tex

--extra FILE (repeatable) adds a lecturer's own .tex/.md derivations as a last section,
each line with the justification the engine found (as 'gae-sym prove FILE' does), and the
report of any line that fails.
exit status: 0 written / up to date; 1 stale files, a failed PDF build, no TeX engine or
an --extra line that is not justified; 2 an --extra file that cannot be read"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "notes", "write the lecture notes (Markdown, LaTeX, figures)", DESCRIPTION
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder of the notes (default {DEFAULT_OUT})",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--pdf", action="store_true", help="also build notes.pdf with latexmk or pdflatex"
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a text file in DIR differs from what would be written",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        default=None,
        help="folder holding study/study.json and cartpole/runs.json (default: docs/data "
        "of this source tree)",
    )
    parser.add_argument(
        "--extra",
        metavar="FILE",
        action="append",
        default=[],
        help="a .tex/.md file of your own derivations to check and add to the notes (repeatable)",
    )
    parser.set_defaults(func=run)


def _load_derivations():
    try:
        import derivations
    except ImportError as error:
        raise UserError(f"cannot import the derivations package: {error}", exit_code=1) from error
    all_derivations = getattr(derivations, "ALL", None)
    if not all_derivations:
        raise UserError("the derivations package defines no derivations (ALL)", exit_code=1)
    return tuple(all_derivations)


def run(args: argparse.Namespace) -> int:
    from gae_sym.notes.build import PdfError, build_pdf, stale_files, write_notes
    from gae_sym.notes.data import load_data
    from gae_sym.notes.render import render_notes

    if args.data is not None and not args.data.is_dir():
        raise UserError(
            f"--data {args.data}: no such folder (it should hold study/study.json and "
            "cartpole/runs.json; leave --data out to read docs/data of this source tree)"
        )
    try:
        data = load_data(args.data)
    except ValueError as error:
        raise UserError(str(error), exit_code=1) from error
    extra, failing = _extra_sections(args.extra)
    notes = render_notes(_load_derivations(), data, extra=extra)
    if args.check:
        stale = stale_files(notes, args.out)
        if stale:
            print(f"stale notes in {args.out}: {', '.join(stale)}")
            print("regenerate them with: gae-sym notes" + _out_flag(args.out))
            return 1
        print(f"notes in {args.out} are up to date ({len(notes.files)} text files)")
        return 0
    try:
        written = write_notes(notes, args.out)
    except OSError as error:
        raise UserError(f"cannot write the notes to {args.out}: {error}", exit_code=1) from error
    if args.pdf:
        try:
            written = [*written, build_pdf(args.out)]
        except PdfError as error:
            raise UserError(str(error), exit_code=1) from error
    print(f"wrote {len(written)} files to {args.out}:")
    for path in written:
        print(f"  {path}")
    if data.study is None:
        print(f"note: no study data ({data.study_path}); run 'gae-sym study --out DIR' first")
    if data.runs is None:
        print(f"note: no CartPole runs ({data.runs_path}); the notes say so")
    for line in failing:
        print(line)
    return 1 if failing else 0


def _extra_sections(paths: list[str]) -> tuple[list, list[str]]:
    """The sections of the --extra files, and one line per derivation line that fails."""
    if not paths:
        return [], []
    from gae_sym.derivation_check import check_isolated
    from gae_sym.derivation_check.notes_section import extra_sections

    reports, failing = [], []
    for path in paths:
        status, payload = check_isolated(Path(path))
        if status != "ok":
            raise UserError(f"--extra {payload}")
        if not payload["blocks"]:
            # As `gae-sym prove FILE`: a file with nothing to check is a wrong file.
            raise UserError(
                f"--extra {path}: holds no derivation block (an align* environment, or "
                "$$ ... $$ lines in Markdown); see docs/examples/derivations/"
            )
        reports.append(payload)
        for block in payload["blocks"]:
            for line in block["lines"]:
                if line["status"] != "justified":
                    failing.append(f"{path}:{line['source_line']}: {line['status']}: {line['why']}")
            if block.get("why") and not block["lines"]:
                failing.append(f"{path}:{block['start_line']}: unreadable: {block['why']}")
    return extra_sections(reports), failing


def _out_flag(out: Path) -> str:
    return "" if out == DEFAULT_OUT else f" --out {out}"
