"""`gae-sym grade`: grade a whole homework.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """grade a whole homework."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "grade", "grade a whole homework", DESCRIPTION)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym grade' is not built yet")
