"""`gae-sym prove`: verify every derivation.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """verify every derivation."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "prove", "verify every derivation", DESCRIPTION)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym prove' is not built yet")
