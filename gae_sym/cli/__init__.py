"""The ``gae-sym`` command line: one sub-command per module of this package.

Each module defines ``register(subparsers)``, which adds its parser and sets
``func=run``. Modules import their heavy dependencies (sympy, numpy, torch) inside
``run``, so ``gae-sym --help`` and ``gae-sym latex`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from gae_sym.errors import UserError

# Sub-command modules, in the order ``gae-sym --help`` lists them.
COMMAND_MODULES = (
    "prove",
    "latex",
    "codegen",
    "notes",
    "check",
    "grade",
    "serve",
    "gradescope",
    "verify_impl",
    "cartpole",
    "bench",
    "study",
)

DESCRIPTION = """\
Derive, prove and verify advantage estimators (TD error, n-step, Monte Carlo,
GAE(gamma, lambda), lambda-return).

  gae-sym prove                 machine-check every derivation
  gae-sym latex gae             LaTeX of an estimator or a derivation
  gae-sym check --question td-error 'r_t + \\gamma V(s_{t+1}) - V(s_t)'
  gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --convention lecture
  gae-sym cartpole --variant batched --seed 1

Run 'gae-sym COMMAND --help' for what each command does, with an example."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gae-sym",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"gae_sym.cli.{name}").register(subparsers)
    return parser


def _version() -> str:
    from gae_sym import __version__

    return f"gae-sym {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gae-sym`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"gae-sym {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"gae-sym {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`gae-sym prove --json | head`): stop quietly. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
