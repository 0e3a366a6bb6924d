"""`gae-sym gradescope`: build a Gradescope autograder zip for a homework key."""

from __future__ import annotations

import argparse
from pathlib import Path

from gae_sym.cli._common import add_json_flag, add_parser, print_json
from gae_sym.errors import UserError

DESCRIPTION = r"""build a Gradescope autograder for a homework: a zip with setup.sh (installs
gae-sym), run_autograder (grades one submission, writes results/results.json in
Gradescope's format: one test per question with score, max_score and an output holding
the verdict, the answer as read, the counterexample and the hint) and the key.

examples:
  gae-sym gradescope docs/examples/homework/key.toml --out autograder.zip
  gae-sym gradescope docs/examples/homework/key.toml --out autograder.zip --json

Upload the zip as the assignment's autograder ("Zip file upload", Ubuntu base image).
Students submit one .tex, .md, .txt or .toml file with one answer per question name of the
key, e.g. a line 'q1-td-error: $r_t + \gamma V(s_{t+1}) - V(s_t)$' (in .toml:
q1-td-error = '...'). Try it locally on a fake /autograder tree:
  mkdir -p /tmp/ag/submission /tmp/ag/source && unzip -o autograder.zip -d /tmp/ag/source
  cp docs/examples/homework/answers.toml /tmp/ag/submission/
  AUTOGRADER_ROOT=/tmp/ag bash /tmp/ag/source/run_autograder && cat /tmp/ag/results/results.json

exit status: 0 written, 2 the key cannot be read or the zip cannot be written."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "gradescope", "a Gradescope autograder zip", DESCRIPTION)
    parser.add_argument("key", metavar="KEY.toml", help="the homework key (as for gae-sym grade)")
    parser.add_argument("--out", required=True, metavar="ZIP", help="the zip to write")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gae_sym.gradescope.build import build_autograder

    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give the zip's file name")
    try:
        summary = build_autograder(Path(args.key), out)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    if args.json:
        print_json(summary)
    else:
        points = summary["max_score"]
        print(
            f"wrote {summary['zip']}: {len(summary['questions'])} questions, "
            f"{points:g} points, {summary['files']} files, {summary['bytes']} bytes"
        )
    return 0
