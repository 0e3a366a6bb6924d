"""`gae-sym latex`: LaTeX of an estimator or a derivation.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """LaTeX of an estimator or a derivation."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "latex", "LaTeX of an estimator or a derivation", DESCRIPTION)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym latex' is not built yet")
