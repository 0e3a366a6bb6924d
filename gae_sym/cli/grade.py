"""`gae-sym grade`: grade a homework, one student (TOML) or a class (CSV)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gae_sym.cli._common import add_json_flag, add_parser, print_json, progress_bar
from gae_sym.errors import UserError

DESCRIPTION = r"""grade a homework: every answer checked like 'gae-sym check' (safely, in one warm
worker process with the 5 s limit per answer), a table per student and the totals.

examples:
  gae-sym grade docs/examples/homework/key.toml docs/examples/homework/answers.toml
  gae-sym grade docs/examples/homework/key.toml docs/examples/homework/class.csv --out report.csv

KEY.toml lists the questions:
  [[question]]
  name = "q1"
  question = "td-error"          # an id from 'gae-sym check --list', or
  # expected = "r_t + \\gamma V(s_{t+1}) - V(s_t)"   an expected expression
  points = 1

ANSWERS is a TOML file of one student (q1 = 'r_t + \gamma V(s_{t+1}) - V(s_t)', optional
student = "Ada") or a CSV of a class with the columns student,question,answer.

exit status: 0 every answer correct, 1 some answer wrong, missing or unreadable,
2 the key or the answers file cannot be read."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "grade", "grade a whole homework", DESCRIPTION)
    parser.add_argument("key", metavar="KEY.toml", help="the questions and their points")
    parser.add_argument("answers", metavar="ANSWERS", help="one student's .toml, or a class's .csv")
    parser.add_argument("--out", metavar="report.csv", help="also write the report as CSV")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def _check_writable(out: Path) -> None:
    """--out can be written: a file name whose folder exists (made if missing, as gradescope
    --out does) and takes files."""
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give the CSV's file name")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"cannot write {out}: permission denied")


def run(args: argparse.Namespace) -> int:
    from gae_sym.homework.grading import as_json, grade, load_answers, load_key, write_csv

    if args.out:
        _check_writable(Path(args.out))  # before the grading, not after it
    key = load_key(Path(args.key))
    answers = load_answers(Path(args.answers), key)
    known = {item.name for item in key}
    unknown = sorted({name for given in answers.values() for name in given} - known)
    if unknown:
        print(
            "gae-sym grade: warning: answers to questions not in the key are ignored: "
            + ", ".join(unknown),
            file=sys.stderr,
        )
    # A bar on a terminal only: nothing on a pipe or in a redirected log.
    with progress_bar(len(answers) * len(key), "checking", "answer") as bar:
        reports, stats = grade(key, answers, progress=bar.update)
    if args.out:
        try:
            with open(args.out, "w", newline="", encoding="utf-8") as handle:
                write_csv(reports, handle)
        except OSError as error:
            raise UserError(f"cannot write {args.out}: {error}") from None
    document = as_json(reports, stats)
    if args.json:
        print_json(document)
    else:
        _print_tables(reports, stats)
    return 0 if document["summary"]["all_correct"] else 1


def _print_tables(reports, stats) -> None:
    from gae_sym.homework.grading import format_points

    for report in reports:
        rows = [
            (
                a.question,
                a.verdict,
                f"{format_points(a.points)}/{format_points(a.max_points)}",
                a.hint,
            )
            for a in report.answers
        ]
        width_q = max([len("question")] + [len(r[0]) for r in rows])
        width_v = max([len("verdict")] + [len(r[1]) for r in rows])
        width_p = max([len("points")] + [len(r[2]) for r in rows])
        print(
            f"== {report.student}: {format_points(report.total)}/{format_points(report.max_total)}"
        )
        print(f"{'question':<{width_q}}  {'verdict':<{width_v}}  {'points':<{width_p}}  hint")
        for question, verdict, points, hint in rows:
            print(f"{question:<{width_q}}  {verdict:<{width_v}}  {points:<{width_p}}  {hint}")
        print()
    if len(reports) > 1:
        totals = [r.total for r in reports]
        maximum = reports[0].max_total
        mean = sum(totals) / len(totals)
        print(
            f"class: {len(reports)} students, mean {mean:.2f}/{format_points(maximum)}, "
            f"{stats['distinct_checks']} distinct answers checked"
        )
