"""`gae-sym verify-impl`: property-test someone's GAE function.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """property-test someone's GAE function."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "verify-impl", "property-test someone's GAE function", DESCRIPTION
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym verify-impl' is not built yet")
