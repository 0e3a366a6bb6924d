"""`gae-sym notes`: write the lecture notes (Markdown, LaTeX, figures).

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """write the lecture notes (Markdown, LaTeX, figures)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "notes", "write the lecture notes (Markdown, LaTeX, figures)", DESCRIPTION
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym notes' is not built yet")
