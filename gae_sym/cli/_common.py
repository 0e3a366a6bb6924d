"""Helpers shared by the sub-commands: parsers, validated numeric flags, JSON, progress bars.

How a command uses them (``gae_sym/cli/study.py`` is a short example)::

    from gae_sym.cli._common import add_json_flag, add_parser, int_flag, float_flag, print_json

    def register(subparsers):
        parser = add_parser(subparsers, "mycmd", "one-line summary", DESCRIPTION)
        parser.add_argument("--seed", type=int_flag(0, 2**32 - 1), default=0)
        parser.add_argument("--lam", type=float_flag(0, 1), default=0.95)
        parser.add_argument("--timeout", type=float_flag(0, 60, min_open=True), default=5.0)
        add_json_flag(parser)
        parser.set_defaults(func=run)

    def run(args):
        ...
        raise UserError("cannot read x.toml: ...")   # exit 2 (UserError(..., exit_code=1) too)
        print_json(document)                           # with --json: the only thing on stdout

The contract this gives every command, without more code in it:

* **Numeric flags** use :func:`int_flag` / :func:`float_flag` (never plain ``type=int`` or
  ``type=float``; ``tests/test_cli_errors.py`` walks every parser and fails on one). A value
  outside the range, NaN, ±inf or a non-number is refused at parse time with the range in
  the message (``argument --seed: must be an integer in [0, 4294967295], got '-1'``), exit 2.
* **Errors**: :func:`gae_sym.cli.main` turns a :class:`~gae_sym.errors.UserError`, a usage
  error (any ``parser.error``), Ctrl-C and, under ``--json``, an unexpected exception into
  one line on stderr and the documented exit status. When ``--json`` is on the command line
  it also prints one JSON document on stdout (see :func:`error_document`), unless the command
  already printed its document with :func:`print_json` (a crashed run that reported first).
* **Progress**: :func:`progress_bar` is a tqdm bar on a terminal only; on a pipe or a
  redirected log it writes nothing, or one plain line per ``log_every_s`` seconds, never
  ``\\r``-joined lines.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any


class UsageError(Exception):
    """A command line argparse refused (bad flag, bad value, missing argument): exit 2."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.parser = parser


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors reach :func:`gae_sym.cli.main` as :class:`UsageError`.

    argparse's own ``error`` prints and exits, which leaves no room for the ``--json``
    error document; sub-parsers inherit this class from the top-level parser.
    """

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message, self)


def add_parser(
    subparsers: argparse._SubParsersAction, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """A sub-command parser whose ``--help`` keeps the description's line breaks (examples)."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout and nothing else there (errors too)",
    )


_printed_json = False


def print_json(document: Any) -> None:
    """Write ``document`` as JSON on stdout (the only thing ``--json`` puts there)."""
    global _printed_json
    json.dump(document, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()
    _printed_json = True


def json_printed() -> bool:
    """Whether this process already wrote its ``--json`` document."""
    return _printed_json


def reset_json_printed() -> None:
    """Forget an earlier document (``main`` starts with it: tests run many commands in-process)."""
    global _printed_json
    _printed_json = False


def error_document(command: str | None, message: str, kind: str, exit_status: int) -> dict:
    """The ``--json`` document of a failed command.

    ``{"error": {"command": "study", "kind": "usage", "message": "...", "exit_status": 2}}``
    where ``kind`` is ``usage`` (argparse refused the command line), ``input`` (a
    ``UserError``: a file, a name or a value the command could not use), ``interrupted``
    (Ctrl-C) or ``internal`` (a bug: the traceback is on stderr).
    """
    return {
        "error": {
            "command": command,
            "kind": kind,
            "message": message,
            "exit_status": exit_status,
        }
    }


# ---------------------------------------------------------------------------------------------
# Numeric flags


class NumberFlag:
    """An argparse ``type=`` that parses a number and checks it lies in a stated range.

    ``minimum``/``maximum`` are inclusive unless ``min_open``/``max_open``; ``None`` means
    unbounded on that side. NaN and ±inf are always refused. The range is kept on the object
    (``describe()``) so the tests can try values outside every flag's range.
    """

    def __init__(
        self,
        integer: bool,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
    ) -> None:
        self.integer = integer
        self.minimum = minimum
        self.maximum = maximum
        self.min_open = min_open
        self.max_open = max_open
        # argparse names the type in "invalid <name> value" messages of its own.
        self.__name__ = "integer" if integer else "number"

    def describe(self) -> str:
        """The accepted values in words: ``an integer >= 0``, ``a number in (0, 60]``."""
        what = "an integer" if self.integer else "a number"
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            left = "(" if self.min_open else "["
            right = ")" if self.max_open else "]"
            return f"{what} in {left}{_fmt(low)}, {_fmt(high)}{right}"
        if low is not None:
            return f"{what} {'>' if self.min_open else '>='} {_fmt(low)}"
        if high is not None:
            return f"{what} {'<' if self.max_open else '<='} {_fmt(high)}"
        return f"{what}"

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value < low or (self.min_open and value == low))
        too_high = high is not None and (value > high or (self.max_open and value == high))
        return not (too_low or too_high)

    def __call__(self, text: str) -> int | float:
        refusal = argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        try:
            value: int | float = int(text, 10) if self.integer else float(text)
        except (TypeError, ValueError):
            raise refusal from None
        if not self.contains(value):
            raise refusal
        return value

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def int_flag(minimum: int | None = None, maximum: int | None = None) -> NumberFlag:
    """``type=`` for an integer flag in ``[minimum, maximum]`` (either side may be open-ended)."""
    return NumberFlag(True, minimum, maximum)


def float_flag(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_open: bool = False,
    max_open: bool = False,
) -> NumberFlag:
    """``type=`` for a finite real flag in the range (``min_open``: minimum excluded)."""
    return NumberFlag(False, minimum, maximum, min_open=min_open, max_open=max_open)


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


# ---------------------------------------------------------------------------------------------
# Progress


class _PlainProgress:
    """A progress bar for a pipe: nothing, or one whole line per ``log_every_s`` seconds."""

    def __init__(
        self, total: int | None, desc: str, unit: str, log_every_s: float | None, stream
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.log_every_s = log_every_s
        self.stream = stream
        self.n = 0
        self.postfix = ""
        self._started = self._last = time.monotonic()

    def update(self, count: int = 1) -> None:
        self.n += count
        if self.log_every_s is None:
            return
        now = time.monotonic()
        if now - self._last >= self.log_every_s:
            self._last = now
            self._line(now)

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def _line(self, now: float) -> None:
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        extra = f", {self.postfix}" if self.postfix else ""
        self.stream.write(f"{self.desc}: {done} {self.unit}, {now - self._started:.0f} s{extra}\n")
        self.stream.flush()

    def close(self) -> None:
        pass

    def __enter__(self) -> _PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    *,
    log_every_s: float | None = None,
    leave: bool = False,
    stream=None,
):
    """A tqdm bar on stderr when it is a terminal; otherwise a quiet stand-in.

    Both have ``update(k)``, ``set_postfix(**values)``, ``close()`` and work as context
    managers. On a pipe or a file the stand-in writes nothing (``log_every_s=None``) or one
    complete line every ``log_every_s`` seconds: a redirected log never gets tqdm's
    ``\\r``-joined redraws.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream, leave=leave)
    return _PlainProgress(total, desc, unit, log_every_s, stream)
