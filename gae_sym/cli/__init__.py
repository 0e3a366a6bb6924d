"""The ``gae-sym`` command line: one sub-command per module of this package.

Each module defines ``register(subparsers)``, which adds its parser and sets
``func=run``. Modules import their heavy dependencies (sympy, numpy, torch) inside
``run``, so ``gae-sym --help`` and ``gae-sym latex`` start fast.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from gae_sym.cli._common import (
    CommandParser,
    UsageError,
    error_document,
    json_printed,
    print_json,
    reset_json_printed,
)
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
    "sweep",
    "llm_toy",
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
    parser = CommandParser(
        prog="gae-sym",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    # Sub-parsers are CommandParsers too (argparse uses the parent's class).
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"gae_sym.cli.{name}").register(subparsers)
    return parser


def _version() -> str:
    from gae_sym import __version__

    return f"gae-sym {__version__}"


def command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The sub-command names as typed (``verify-impl``), in ``--help`` order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def wants_json(argv: Sequence[str]) -> bool:
    """``--json`` (or an abbreviation argparse accepts, ``--js``) among the options."""
    for token in argv:
        if token == "--":
            return False
        if token.startswith("--j") and "--json".startswith(token):
            return True
    return False


def _unrecognized_hint(message: str, parser: argparse.ArgumentParser, command: str | None) -> str:
    """'; did you mean --json?' for a mistyped flag, a reminder to quote a text that the
    shell split into words; '' when neither applies."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return ""
    tokens = message[len(prefix) :].split()
    flags = [t.split("=")[0] for t in tokens if t.startswith("--")]
    if flags and command is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
            command
        ]
        options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
        guesses = [difflib.get_close_matches(f, options, n=1, cutoff=0.6) for f in flags]
        named = [f"{g[0]} for {f}" for f, g in zip(flags, guesses, strict=True) if g]
        if named:
            return "; did you mean " + ", ".join(named) + "?"
        # An unknown option: what follows it is likely its value, not a text to quote.
        return ""
    if any(not t.startswith("-") for t in tokens):
        return "; a text with spaces must be quoted as one argument ('...')"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gae-sym`` console script; returns the exit status.

    Every failure is one line on stderr and its documented exit status; with ``--json`` it
    is also one JSON document on stdout (``_common.error_document``), for every command.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    json_mode = wants_json(argv)
    reset_json_printed()
    parser = build_parser()
    command = next((token for token in argv if token in command_names(parser)), None)
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        # One line, as for every other mistake; the usage is one --help away (the
        # command's own help when a command was named: unknown arguments are reported by
        # the top-level parser).
        prog = error.parser.prog
        if command is not None and prog == parser.prog:
            prog = f"{parser.prog} {command}"
        hint = _unrecognized_hint(str(error), parser, command)
        message = f"{error}{hint} (see '{prog} --help')"
        return _fail(command, prog, message, "usage", 2, json_mode)
    if args.command is None:
        if json_mode:
            return _fail(None, "gae-sym", "give a COMMAND (gae-sym --help)", "usage", 2, True)
        parser.print_help()
        return 2
    command, prog = args.command, f"gae-sym {args.command}"
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        return _fail(command, prog, str(error), "input", error.exit_code, json_mode)
    except KeyboardInterrupt:
        return _fail(command, prog, "interrupted", "interrupted", 130, json_mode)
    except BrokenPipeError:
        # The reader went away (`gae-sym prove --json | head`): stop quietly. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as error:
        if not json_mode:
            raise  # a bug: the traceback is what a bug report needs
        traceback.print_exc()
        message = f"internal error: {type(error).__name__}: {error}"
        return _fail(command, prog, message, "internal", 1, json_mode)


def _fail(
    command: str | None, prog: str, message: str, kind: str, status: int, json_mode: bool
) -> int:
    """Report a failure: one line on stderr, and the JSON error document under ``--json``."""
    label = "interrupted" if kind == "interrupted" else f"error: {message}"
    print(f"{prog}: {label}", file=sys.stderr)
    if json_mode and not json_printed():
        try:
            print_json(error_document(command, message, kind, status))
        except BrokenPipeError:  # `... --json | head`: the reader has gone, as in main
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status
