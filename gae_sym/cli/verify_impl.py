"""`gae-sym verify-impl`: property-test someone's GAE function against the proven reference."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gae_sym.cli._common import add_json_flag, add_parser, float_flag, int_flag, print_json
from gae_sym.errors import UserError

# The same tuples as gae_sym.testing's, spelled out so that building the parser (every
# `gae-sym` call) does not import hypothesis; tests/test_verify_impl_cli.py keeps them equal.
CONVENTIONS = ("lecture", "masked", "canonical", "episode-start", "discount")
# RL on language models (gae_sym.testing.llm): token-level GAE and the group estimators.
LLM_CONVENTIONS = ("token", "group")
LLM_LAYOUTS = ("B,L", "L,B", "B")
GROUP_ESTIMATORS = ("grpo", "grpo-biased", "drgrpo", "rloo")
TOKEN_ESTIMATORS = ("gae", "reinforce-pp")
MASK_MODES = ("reset", "skip")
INPUT_TYPES = ("list", "numpy", "torch", "jax")
LAYOUTS = ("T", "T,N", "T,N,1", "N,T", "N,T,1", "time-major", "batch-major")
OUTPUTS = ("advantages", "returns", "advantages,returns", "returns,advantages")
DTYPES = ("float64", "float32")
PROGRESS_AFTER_S = 2.0  # a progress line on a terminal once a run has taken this long

DESCRIPTION = """\
Property-test a GAE implementation: import FUNC from MODULE, call it on fixed edge cases
(gamma = 0, lambda = 0, gamma = 1, lambda = 1, T = 1, a terminal last step, 50-, 64- and 1100-step
segments, dones in the middle) and on hypothesis-generated trajectories, and compare with
the reference kernels (numeric.gae). A failure is shrunk to a minimal counterexample and
matched against a catalogue of known GAE bugs (done mask forgotten, mask one step off,
truncation treated as termination, advantage zeroed at a truncation, time-out bootstrapped
from V(s_t), raises at gamma*lambda = 0, lambda-returns returned, ...).

Conventions (the positional order; parameters whose names match go by name):
  lecture        f(rewards, values, next_value, gamma, lam)   one segment, no done inside
  masked         f(rewards, values, next_value, masks, gamma, lam)
                 masks[t] = 0 if step t ended the episode (by name also dones = 1 - masks)
  canonical      f(rewards, values, next_values, terminated, truncated, *, gamma, lam)
                 by name also done (terminated | truncated) and bootstrap_values
                 ((1 - terminated) * next_values)
  episode-start  f(rewards, values, dones, next_value, next_done, gamma, lam)
                 dones[t] = 1 if s_t began an episode (CleanRL, SB3 episode_starts,
                 baselines); next_done, next_value: the step after the segment
  discount       f(rewards, discounts, lam, values)   discounts[t] = gamma*(1 - terminated[t]),
                 values = V(s_0), ..., V(s_T): T + 1 entries (rlax)
  token          f(token_level_rewards, values, response_mask, gamma, lam)  arrays (B, L)
                 (--layout B,L) or (L, B); GAE skips masked tokens (prompt, padding, tool
                 observations); compared on response tokens; --output advantages,returns
                 --estimator reinforce-pp: f(token_level_rewards, response_mask, gamma) ->
                 the return-to-go whitened over response tokens (and the returns);
                 --mask-mode reset (verl: the running return restarts after a masked
                 token, the default) or skip (it passes through masked tokens)
  group          f(scores, group_ids[, eps])  scores (B,), one id per prompt's group;
                 --estimator grpo (unbiased std), grpo-biased, drgrpo or rloo
--args maps the convention's names onto the function's own parameters (keyword-only ones
too): --args "rewards=reward,values=state_value,lam=lmbda". --layout sets the shapes:
T (default), T,N or time-major, T,N,1, N,T or batch-major, N,T,1 (N environments, one done
pattern per column). --output says what the function returns: advantages (default),
returns (advantages + values), or a tuple: advantages,returns.

Precision is told apart from logic: float64 results that are right to float32 precision
only (a gamma rounded to float32, a float32 buffer) pass with a precision warning;
--strict-precision makes them failures. --dtype float32 tests with float32 inputs.
--input-type jax calls the function jitted (jax.jit), on a few shapes only.

Each call may take --call-timeout seconds (default 10; 0: no limit); a call still running
then is stopped (SIGALRM) and is the counterexample: "did not return within S s on this
input", with the inputs and the line it was stopped at. Code stuck in C that ignores
signals cannot be stopped that way: after a grace period (max(2 s, S)) the process prints
"Timeout" and the stuck stack on stderr and exits with status 1, with no report.

MODULE is a dotted module name (the current directory is on the import path) or a path
to a .py file. The time reported includes importing it.

examples (from the repository root; the modules are in docs/examples/engineer/):
{examples}

exit status: 0 passes (a precision warning included, unless --strict-precision), 1
counterexample found (a wrong value, an exception, a wrong shape, a call over the time
limit), 2 cannot import FUNC or call it with the convention's arguments, or a bad flag."""

EXAMPLES = (
    "gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --convention lecture",
    "gae-sym verify-impl docs/examples/engineer/my_gae.py:masked_gae --convention masked --json",
    "gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --input-type torch "
    "--max-examples 50",
    "gae-sym verify-impl docs/examples/engineer/cleanrl_style.py:compute_advantages "
    "--convention episode-start --layout T,N --input-type torch",
    "gae-sym verify-impl tests/impls/llm.py:verl_gae --convention token --input-type torch "
    "--output advantages,returns",
    "gae-sym verify-impl tests/impls/llm.py:verl_grpo --convention group --estimator grpo "
    "--input-type torch",
    "gae-sym verify-impl tests/impls/llm.py:verl_reinforce_pp --convention token "
    "--estimator reinforce-pp --input-type torch --output advantages,returns",
)
# One example per line (a shell line continuation here would print as stray spaces).
DESCRIPTION = DESCRIPTION.replace("{examples}", "\n".join("  " + e for e in EXAMPLES))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "verify-impl", "property-test someone's GAE function", DESCRIPTION
    )
    parser.add_argument("target", metavar="MODULE:FUNC", help="the function to test")
    parser.add_argument(
        "--convention",
        choices=CONVENTIONS + LLM_CONVENTIONS,
        default="lecture",
        help="what the function is given (default: lecture)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS + LLM_LAYOUTS,
        default=None,
        metavar="SHAPE",  # the choices hold commas: listed in the help, not the usage line
        help="shape of the arrays: T, T,N (time-major), T,N,1, N,T (batch-major), N,T,1 "
        "(default: T); token convention B,L (default) or L,B; group convention B",
    )
    parser.add_argument(
        "--estimator",
        choices=GROUP_ESTIMATORS + TOKEN_ESTIMATORS,
        default=None,
        help="the estimator the function claims to compute: group convention grpo "
        "(default, unbiased std), grpo-biased, drgrpo, rloo; token convention gae (default) "
        "or reinforce-pp",
    )
    parser.add_argument(
        "--mask-mode",
        choices=MASK_MODES,
        default=None,
        help="token convention, --estimator reinforce-pp only: what a masked token does to "
        "the running return: reset (verl, default) or skip",
    )
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        default="advantages",
        metavar="WHAT",
        help="what the function returns: advantages (default), returns, advantages,returns "
        "or returns,advantages (a pair, in that order)",
    )
    parser.add_argument(
        "--args",
        default="",
        metavar="NAME=PARAM,...",
        help="the function's parameter names for the convention's inputs, e.g. "
        '"rewards=rew,values=vals,gamma=discount"',
    )
    parser.add_argument(
        "--input-type",
        choices=INPUT_TYPES,
        default="numpy",
        help="type of the array arguments (default: numpy)",
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float64",
        help="dtype of the input arrays (default: float64)",
    )
    parser.add_argument(
        "--strict-precision",
        action="store_true",
        help="fail results right to float32 precision only (default: pass with a warning)",
    )
    parser.add_argument(
        "--max-examples",
        type=int_flag(0, 100_000),
        default=200,
        metavar="N",
        help="hypothesis-generated cases after the edge cases, 0 to 100000 (default: 200)",
    )
    parser.add_argument(
        "--seed",
        type=int_flag(0, 2**64 - 1),
        default=0,
        metavar="S",
        help="hypothesis seed, 0 to 2**64-1 (default: 0)",
    )
    parser.add_argument(
        "--call-timeout",
        type=float_flag(0, 86400),
        default=10.0,
        metavar="S",
        help="seconds one call may take before it counts as a hang, 0 to 86400 "
        "(default: 10; 0: no limit)",
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
        kind = type(obj).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise UserError(f"{target} is {article} {kind}, not a function")
    return obj


class _Progress:
    """A progress line on a terminal (stderr), shown once a run has taken a few seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < PROGRESS_AFTER_S:
                return
            from gae_sym.cli._common import progress_bar

            self.bar = progress_bar(total=total, desc="verify-impl", unit="case")
            self.bar.update(done)
            return
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()  # the reported time includes importing the user's module
    func = load_target(args.target)
    for kind in ("torch", "jax"):
        if args.input_type == kind and importlib.util.find_spec(kind) is None:
            raise UserError(f"--input-type {kind} needs {kind}: pip install 'gae-sym[{kind}]'")

    # Hypothesis keeps a cache under ./.hypothesis by default: not in the user's folder.
    os.environ.setdefault(
        "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "gae-sym-hypothesis")
    )
    _refuse_unused_flags(args)
    from gae_sym.testing.timeout import sticky_interrupt

    with sticky_interrupt():  # Ctrl-C exits 130 even when hypothesis's gc callback eats it
        if args.convention in LLM_CONVENTIONS:
            return _run_llm(func, args, started)
        return _run_gae(func, args, started)


def _run_gae(func: Any, args: argparse.Namespace, started: float) -> int:
    """The GAE conventions (gae_sym.testing.runner)."""
    if args.layout is None:
        args.layout = "T"
    elif args.layout in LLM_LAYOUTS:
        raise UserError(f"--layout {args.layout} is for the token and group conventions")
    from gae_sym.testing import plan_call, verify

    try:
        plan_call(
            func,
            args.convention,
            args.input_type,
            args=args.args,
            layout=args.layout,
            outputs=args.output,
        )
    except (TypeError, ValueError) as error:
        raise UserError(str(error)) from None
    progress = _Progress(enabled=not args.json and sys.stderr.isatty())
    try:
        result = verify(
            func,
            args.convention,
            input_type=args.input_type,
            max_examples=args.max_examples,
            seed=args.seed,
            dtype=args.dtype,
            target=args.target,
            call_timeout=args.call_timeout,
            exit_if_stuck=True,  # this process is ours to end if the function is stuck in C
            args=args.args,
            layout=args.layout,
            output=args.output,
            strict_precision=args.strict_precision,
            progress=progress,
            started=started,
        )
    finally:
        progress.close()
    if args.json:
        print_json(result.as_dict())
    else:
        print(result.report())
    return 0 if result.passed else 1


def _refuse_unused_flags(args: argparse.Namespace) -> None:
    """A flag the chosen convention never reads is a mistake of the command line: accepted
    silently, the user would believe it was tested (``--mask-mode skip`` with GRPO)."""
    rpp = args.convention == "token" and args.estimator == "reinforce-pp"
    if args.mask_mode is not None and not rpp:
        chosen = f"--convention {args.convention}"
        if args.convention == "token":
            chosen += f" --estimator {args.estimator or 'gae'}"
        raise UserError(
            f"--mask-mode is taken by --convention token --estimator reinforce-pp only (what a "
            f"masked token does to REINFORCE++'s running return); {chosen} does not use it: "
            "leave it out"
        )
    if args.estimator is not None and args.convention not in LLM_CONVENTIONS:
        raise UserError(
            f"--estimator is taken by the token convention ({', '.join(TOKEN_ESTIMATORS)}) and "
            f"the group convention ({', '.join(GROUP_ESTIMATORS)}) only; the "
            f"{args.convention} convention tests GAE: leave it out"
        )


def _run_llm(func: Any, args: argparse.Namespace, started: float) -> int:
    """The token and group conventions (gae_sym.testing.llm)."""
    if args.input_type == "jax":
        raise UserError(f"the {args.convention} convention takes numpy, torch or list inputs")
    from gae_sym.testing.llm import plan_llm_call, verify_llm

    valid = GROUP_ESTIMATORS if args.convention == "group" else TOKEN_ESTIMATORS
    if args.estimator is not None and args.estimator not in valid:
        raise UserError(
            f"--estimator {args.estimator} is not one of the {args.convention} convention's: "
            f"{', '.join(valid)}"
        )
    try:
        plan_llm_call(
            func,
            args.convention,
            args.input_type,
            args.args,
            args.layout,
            args.output,
            args.dtype,
            args.estimator,
        )
    except (TypeError, ValueError) as error:
        raise UserError(str(error)) from None
    result = verify_llm(
        func,
        args.convention,
        estimator=args.estimator,
        mask_mode=args.mask_mode or "reset",
        input_type=args.input_type,
        args=args.args,
        layout=args.layout,
        output=args.output,
        dtype=args.dtype,
        max_examples=args.max_examples,
        seed=args.seed,
        target=args.target,
        started=started,
        strict_precision=args.strict_precision,
        call_timeout=args.call_timeout,
    )
    if args.json:
        print_json(result.as_dict())
    else:
        print(result.report())
    return 0 if result.passed else 1
