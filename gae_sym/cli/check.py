"""`gae-sym check`: check one homework answer.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """check one homework answer."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "check", "check one homework answer", DESCRIPTION)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym check' is not built yet")
