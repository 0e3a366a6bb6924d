"""`gae-sym bench`: time the kernels against the alternatives installed.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """time the kernels against the alternatives installed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "bench", "time the kernels against the alternatives installed", DESCRIPTION
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym bench' is not built yet")
