"""`gae-sym cartpole`: train the actor-critic on CartPole and check the kernels on its rollouts.

TODO(owner): this module is being written; register() and run() are placeholders.
"""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """train the actor-critic on CartPole and check the kernels on its rollouts."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "cartpole",
        "train the actor-critic on CartPole and check the kernels on its rollouts",
        DESCRIPTION,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UserError("'gae-sym cartpole' is not built yet")
