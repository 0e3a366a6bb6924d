"""`gae-sym codegen`: write the generated kernel modules in numeric/.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """write the generated kernel modules in numeric/."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "codegen", "write the generated kernel modules in numeric/", DESCRIPTION
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym codegen' is not built yet")
