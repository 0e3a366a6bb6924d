"""`gae-sym verify-impl`: property-test someone's GAE function against the proven reference."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from gae_sym.cli._common import add_json_flag, add_parser, print_json
from gae_sym.errors import UserError

# The same tuples as gae_sym.testing's, spelled out so that building the parser (every
# `gae-sym` call) does not import hypothesis; tests/test_verify_impl_cli.py keeps them equal.
CONVENTIONS = ("lecture", "masked", "canonical")
INPUT_TYPES = ("list", "numpy", "torch")

DESCRIPTION = """\
Property-test a GAE implementation: import FUNC from MODULE, call it on fixed edge cases
(gamma = 0, lambda = 0, gamma = 1, lambda = 1, T = 1, a terminal last step, 50- and 64-step
segments, dones in the middle) and on hypothesis-generated trajectories, and compare with
the reference kernels (numeric.gae). A failure is shrunk to a minimal counterexample and
matched against a catalogue of known GAE bugs (done mask forgotten, mask one step off,
truncation treated as termination, lambda without gamma, lambda-returns returned, ...).

Conventions (arguments passed in this order):
  lecture    f(rewards, values, next_value, gamma, lam)         one segment, no done inside
  masked     f(rewards, values, next_value, masks, gamma, lam)  masks[t] = 0 if step t ended
                                                                the episode
  canonical  f(rewards, values, next_values, terminated, truncated, *, gamma, lam)
The function returns the advantages (a list, an array or a tensor).

Each call may take --call-timeout seconds (default 10; 0: no limit); a call still running
then is stopped (SIGALRM) and is the counterexample: "did not return within S s on this
input", with the inputs and the line it was stopped at. Code stuck in C that ignores
signals cannot be stopped that way: after a grace period (max(2 s, S)) the process prints
"Timeout" and the stuck stack on stderr and exits with status 1, with no report.

MODULE is a dotted module name (the current directory is on the import path) or a path
to a .py file.

examples (from the repository root; the module is in docs/examples/engineer/):
  gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --convention lecture
  gae-sym verify-impl docs/examples/engineer/my_gae.py:masked_gae --convention masked --json
  gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --input-type torch \
      --call-timeout 60 --max-examples 50

exit status: 0 passes, 1 counterexample found (a wrong value, an exception, a wrong
shape, a call over the time limit), 2 cannot import FUNC or call it with the convention's
arguments."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "verify-impl", "property-test someone's GAE function", DESCRIPTION
    )
    parser.add_argument("target", metavar="MODULE:FUNC", help="the function to test")
    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default="lecture",
        help="how the function is called (default: lecture)",
    )
    parser.add_argument(
        "--input-type",
        choices=INPUT_TYPES,
        default="numpy",
        help="type of the array arguments: 1-D float64 (default: numpy)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=200,
        metavar="N",
        help="hypothesis-generated cases after the edge cases (default: 200)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="hypothesis seed (default: 0)"
    )
    parser.add_argument(
        "--call-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds one call may take before it counts as a hang (default: 10; 0: no limit)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: " + " ".join(str(error).split())


def _import_module(spec: str) -> Any:
    """Import a dotted module name, or a .py file by path (its folder joins the path)."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    as_path = Path(spec)
    if spec.endswith(".py") or os.sep in spec:
        if not as_path.is_file():
            raise UserError(f"cannot import {spec}: no such file")
        folder = str(as_path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        name = as_path.stem
        module_spec = importlib.util.spec_from_file_location(name, as_path)
        if module_spec is None or module_spec.loader is None:
            raise UserError(f"cannot import {spec}: not a Python source file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def load_target(target: str) -> Any:
    """The object named by ``MODULE:FUNC``; ``UserError`` (exit 2) if it cannot be loaded."""
    module_name, sep, attribute = target.rpartition(":")
    if not sep or not module_name or not attribute:
        raise UserError(f"expected MODULE:FUNC (e.g. mymodule:compute_gae), got {target!r}")
    try:
        # Whatever the module prints while importing must not reach stdout (--json).
        with contextlib.redirect_stdout(sys.stderr):
            obj = _import_module(module_name)
    except UserError:
        raise
    except (Exception, SystemExit) as error:
        raise UserError(f"cannot import {module_name}: {_one_line(error)}") from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"{module_name} has no attribute {attribute!r}") from None
    if not callable(obj):
        raise UserError(f"{target} is a {type(obj).__name__}, not a function")
    return obj


def run(args: argparse.Namespace) -> int:
    if args.max_examples < 0:
        raise UserError("--max-examples must be >= 0")
    if not args.call_timeout >= 0:  # NaN included
        raise UserError(f"--call-timeout must be >= 0 seconds, got {args.call_timeout:g}")
    func = load_target(args.target)
    if args.input_type == "torch" and importlib.util.find_spec("torch") is None:
        raise UserError("--input-type torch needs torch: pip install 'gae-sym[torch]'")

    # Hypothesis keeps a cache under ./.hypothesis by default: not in the user's folder.
    os.environ.setdefault(
        "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "gae-sym-hypothesis")
    )
    from gae_sym.testing import plan_call, verify

    try:
        plan_call(func, args.convention, args.input_type)
    except TypeError as error:
        raise UserError(str(error)) from None
    result = verify(
        func,
        args.convention,
        input_type=args.input_type,
        max_examples=args.max_examples,
        seed=args.seed,
        target=args.target,
        call_timeout=args.call_timeout,
        exit_if_stuck=True,  # this process is ours to end if the function is stuck in C
    )
    if args.json:
        print_json(result.as_dict())
    else:
        print(result.report())
    return 0 if result.passed else 1
