"""`gae-sym study`: bias and variance of each estimator on an MDP with exact values.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """bias and variance of each estimator on an MDP with exact values."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "study",
        "bias and variance of each estimator on an MDP with exact values",
        DESCRIPTION,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym study' is not built yet")
