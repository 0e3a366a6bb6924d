"""Run a GAE function against the reference: fixed edge cases, then hypothesis, then diagnosis.

``verify`` always runs :func:`~gae_sym.testing.trajectories.edge_cases` first (γ = 0, λ = 0,
γ = 1, λ = 1, T = 1, a terminal last step, 50- and 64-step segments, dones in the middle),
then ``max_examples`` hypothesis cases (seeded, so a run is reproducible) and shrinks a
failure to a minimal counterexample. A failure is a result that differs from the reference,
an exception on valid input, a result of the wrong shape, or a call that does not return
within ``call_timeout`` seconds (:mod:`gae_sym.testing.timeout`; the first such call ends
the run, unshrunk, so that a hanging function costs one limit, not one per case). The
diagnosis is the known bug (:mod:`gae_sym.testing.bugs`) whose outputs reproduce the
function's outputs on every case it was run on.

Tolerance, with S = max(1, largest |input|, largest |expected|):
float64 results ``|got − expected| ≤ 1e-9·S + 1e-9·|expected|``; float32 results (or
float32 inputs) ``|got − expected| ≤ 1e-5·S + 1e-4·|expected|``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import textwrap
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reporting, settings
from hypothesis import seed as hypothesis_seed

from gae_sym.testing import timeout
from gae_sym.testing.bugs import KnownBug, known_bugs
from gae_sym.testing.conventions import (
    CallPlan,
    jsonable_inputs,
    plan_call,
    reference_gae,
    result_array,
)
from gae_sym.testing.timeout import CallTimeout, call_time_limit, hard_deadline, limit_enforceable
from gae_sym.testing.trajectories import Trajectory, edge_cases, trajectories


@dataclass(frozen=True)
class Tolerance:
    """|got − expected| ≤ atol·S + rtol·|expected| elementwise."""

    precision: str
    rtol: float
    atol: float

    def describe(self, scale: float) -> str:
        return (
            f"{self.precision}: |got - expected| <= {self.atol:g}*S + {self.rtol:g}*|expected|,"
            f" S = {scale:g}"
        )


SHORT_LENGTH = 8  # the first half of the hypothesis examples have T <= 8
CALL_TIMEOUT = 10.0  # seconds one call may take before it counts as a failure (a hang)

FLOAT64 = Tolerance("float64", rtol=1e-9, atol=1e-9)
FLOAT32 = Tolerance("float32", rtol=1e-4, atol=1e-5)


def tolerance_for(*dtypes: np.dtype) -> Tolerance:
    """float32's tolerance if any of ``dtypes`` is narrower than float64."""
    return FLOAT32 if any(np.dtype(d).itemsize < 8 for d in dtypes) else FLOAT64


def mismatches(
    expected: np.ndarray, got: np.ndarray, tolerance: Tolerance, scale: float
) -> np.ndarray:
    """Boolean array: True where ``got`` is outside the tolerance (NaN counts as outside)."""
    exp = expected.astype(np.float64)
    allowed = tolerance.atol * scale + tolerance.rtol * np.abs(exp)
    with np.errstate(invalid="ignore"):
        return ~(np.abs(got.astype(np.float64) - exp) <= allowed)


def _scale(traj: Trajectory, expected: np.ndarray) -> float:
    return max(traj.scale(), float(np.max(np.abs(expected))) if expected.size else 1.0)


@dataclass
class Outcome:
    """One call of the function under test on one case."""

    label: str
    traj: Trajectory
    expected: np.ndarray
    got: np.ndarray | None = None
    error: str | None = None
    index: tuple[int, ...] | None = None
    tolerance: Tolerance = FLOAT64
    confirmed_by_oracle: bool = False
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.error is None and self.index is None

    @property
    def comparable(self) -> bool:
        """The function returned numbers of the right shape (right or wrong)."""
        return self.got is not None and self.got.shape == self.expected.shape

    def as_dict(self, convention: str) -> dict[str, Any]:
        index: Any = None
        if self.index is not None:
            index = self.index[0] if len(self.index) == 1 else list(self.index)
        return {
            "case": self.label,
            "inputs": jsonable_inputs(self.traj, convention),
            "expected": self.expected.tolist(),
            "got": None if self.got is None else _finite_or_text(self.got.tolist()),
            "first_differing_index": index,
            "error": self.error,
            "timed_out": self.timed_out,
            "tolerance": self.tolerance.describe(_scale(self.traj, self.expected)),
            "expected_confirmed_by_oracle": self.confirmed_by_oracle,
        }


def _finite_or_text(values: Any) -> Any:
    """NaN and ±inf as the strings "nan", "inf", "-inf" (JSON has no such numbers)."""
    if isinstance(values, list):
        return [_finite_or_text(v) for v in values]
    if isinstance(values, float) and not np.isfinite(values):
        return str(values)
    return values


def run_case(
    func: Callable[..., Any],
    plan: CallPlan,
    traj: Trajectory,
    label: str,
    call_timeout: float | None = None,
    exit_if_stuck: bool = False,
) -> Outcome:
    """Call ``func`` on ``traj`` as ``plan`` says and compare with the reference.

    A call running longer than ``call_timeout`` seconds is stopped and is a failure
    (``timed_out``); ``exit_if_stuck`` ends the process when it cannot be stopped
    (:func:`~gae_sym.testing.timeout.hard_deadline`).
    """
    expected = reference_gae(traj)
    outcome = Outcome(label, traj, expected)
    args, kwargs = plan.arguments(traj)
    deadline = hard_deadline(call_timeout) if exit_if_stuck else contextlib.nullcontext()
    raised: BaseException | None = None
    try:
        # The function's prints must not reach stdout (``--json`` owns it). Errors of the
        # time-limit set-up are ours: only the call's own exceptions count against it.
        with contextlib.redirect_stdout(sys.stderr), deadline, call_time_limit(call_timeout):
            try:
                result = func(*args, **kwargs)
            # sys.exit() inside the function is a failure on valid input, not the verdict's
            # exit status.
            except (Exception, SystemExit) as error:
                raised = error
    # Outside the block too: the alarm may go off just after the call returned.
    except CallTimeout as stop:
        outcome.timed_out = True
        outcome.error = (
            f"the function did not return within {stop.seconds:g} s on this input "
            f"(stopped{_where(stop)})"
        )
        return outcome
    if raised is not None:
        outcome.error = f"raised {type(raised).__name__}: {_one_line(raised)}"
        return outcome
    try:
        got = result_array(result)
    except ValueError as error:
        outcome.error = str(error)
        return outcome
    outcome.got = got
    if got.shape != expected.shape:
        outcome.error = (
            f"returned shape {got.shape}, expected {expected.shape} "
            f"(one advantage per step, T = {traj.length})"
        )
        if got.ndim == expected.ndim + 1 and got.shape[1:] == expected.shape and len(got) > 1:
            outcome.error += f"; a tuple of {got.shape[0]} arrays? return the advantages only"
        return outcome
    outcome.tolerance = tolerance_for(got.dtype, traj.dtype)
    bad = mismatches(expected, got, outcome.tolerance, _scale(traj, expected))
    if bad.any():
        outcome.index = tuple(int(i) for i in np.argwhere(bad)[0])
    return outcome


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _where(stop: CallTimeout) -> str:
    """Where the alarm stopped the tested code, as " at FILE:LINE in FUNC" ("" if unknown)."""
    ours = {__file__, timeout.__file__, contextlib.__file__}
    frames = [f for f in traceback.extract_tb(stop.__traceback__) if f.filename not in ours]
    if not frames:
        return ""
    frame = frames[-1]
    path = frame.filename
    with contextlib.suppress(ValueError):  # another drive (Windows)
        relative = os.path.relpath(path)
        path = path if relative.startswith("..") else relative
    return f" at {path}:{frame.lineno} in {frame.name}"


@dataclass(frozen=True)
class Diagnosis:
    """The known bug that reproduces the function's outputs."""

    bug: KnownBug
    matched: int
    cases: int
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.bug.as_dict(),
            "evidence": self.evidence(),
        }

    def evidence(self) -> str:
        if self.exact:
            return f"reproduces the function's output on all {self.cases} cases it returned"
        return (
            f"likely: reproduces {self.matched} of {self.cases} outputs elementwise "
            "(no known bug reproduces all of them)"
        )


def diagnose(outcomes: list[Outcome], convention: str) -> Diagnosis | None:
    """The first known bug of ``convention`` that reproduces every comparable output.

    Without an exact match, the bug agreeing with the most output elements is returned as
    "likely" when it agrees on at least 90% of them and explains at least 80% of the wrong
    ones; otherwise None.
    """
    cases = [o for o in outcomes if o.comparable]
    if not cases or all(o.passed for o in cases):
        return None
    total = sum(o.expected.size for o in cases)
    wrong = [mismatches(o.expected, o.got, o.tolerance, _scale(o.traj, o.expected)) for o in cases]
    n_wrong = sum(int(w.sum()) for w in wrong)
    best: tuple[int, int, KnownBug] | None = None
    for bug in known_bugs(convention):
        agree = explained = 0
        for outcome, bad in zip(cases, wrong, strict=True):
            predicted = np.asarray(bug.compute(outcome.traj))
            tol = tolerance_for(outcome.got.dtype, outcome.traj.dtype, predicted.dtype)
            same = ~mismatches(predicted, outcome.got, tol, _scale(outcome.traj, predicted))
            agree += int(same.sum())
            explained += int((same & bad).sum())
        if agree == total:
            return Diagnosis(bug, len(cases), len(cases), exact=True)
        if best is None or agree > best[0]:
            best = (agree, explained, bug)
    if best and best[0] >= 0.9 * total and best[1] >= 0.8 * n_wrong:
        return Diagnosis(best[2], best[0], total, exact=False)
    return None


@dataclass
class VerificationResult:
    """What :func:`verify` found; ``as_dict`` is the ``verify-impl --json`` document."""

    target: str
    convention: str
    input_type: str
    seed: int
    passed: bool
    examples: int
    edge_cases: int
    counterexample: Outcome | None = None
    diagnosis: Diagnosis | None = None
    failed_edge_cases: list[str] = field(default_factory=list)
    seconds: float = 0.0
    call_timeout: float | None = None
    call_timeout_enforced: bool = False
    call_timeout_note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "examples": self.examples,
            "counterexample": (
                None
                if self.counterexample is None
                else self.counterexample.as_dict(self.convention)
            ),
            "diagnosis": None if self.diagnosis is None else self.diagnosis.as_dict(),
            "target": self.target,
            "convention": self.convention,
            "input_type": self.input_type,
            "seed": self.seed,
            "edge_cases": self.edge_cases,
            "failed_edge_cases": self.failed_edge_cases,
            "seconds": round(self.seconds, 3),
            "call_timeout": self.call_timeout,
            "call_timeout_enforced": self.call_timeout_enforced,
        }

    def report(self) -> str:
        """The human-readable verdict (what ``verify-impl`` prints, and AssertionError says)."""
        head = (
            f"{self.target} ({self.convention} convention, {self.input_type} inputs, "
            f"seed {self.seed})"
        )
        note = [f"note: {self.call_timeout_note}"] if self.call_timeout_note else []
        if self.passed:
            verdict = (
                f"PASS {head}: matches the reference on {self.examples} cases "
                f"({self.edge_cases} edge cases + {self.examples - self.edge_cases} generated) "
                f"in {self.seconds:.2f} s"
            )
            return "\n".join([verdict, *note])
        lines = [f"FAIL {head}: counterexample after {self.examples} cases"]
        lines += _describe(self.counterexample, self.convention)
        if self.counterexample is not None and self.counterexample.timed_out:
            lines += [
                "diagnosis: a hang (an endless loop: an index that never moves, a condition",
                "  that never becomes false) or a function too slow for the limit; if it is",
                "  merely slow, raise the limit (--call-timeout S, call_timeout=S)",
            ]
        elif self.diagnosis is not None:
            bug = self.diagnosis.bug
            lines += [
                f"diagnosis: {bug.name}: {bug.summary}",
                f"  fix: {bug.fix}",
                f"  ({self.diagnosis.evidence()})",
            ]
        else:
            lines.append("diagnosis: none (no known bug reproduces these outputs)")
        if self.failed_edge_cases:
            lines += _wrap_labels("failed edge cases: ", self.failed_edge_cases)
        return "\n".join([*lines, *note])


def _wrap_labels(head: str, labels: list[str], width: int = 100) -> list[str]:
    """``head`` then the labels, comma-separated, wrapped between labels only."""
    lines = [head.rstrip()]
    for i, label in enumerate(labels):
        piece = label + ("," if i < len(labels) - 1 else "")
        if len(lines[-1]) + 1 + len(piece) > width:
            lines.append("  " + piece)
        else:
            lines[-1] += " " + piece
    return lines


def _fmt(values: Any) -> str:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return repr(values)


def _describe(outcome: Outcome | None, convention: str) -> list[str]:
    if outcome is None:
        return []
    inputs = jsonable_inputs(outcome.traj, convention)
    width = max(len(n) for n in (*inputs, "expected"))
    lines = [f"  case: {outcome.label}"]
    for name, value in (*inputs.items(), ("expected", outcome.expected)):
        lines += textwrap.wrap(
            f"{name:<{width}} = {_fmt(value)}",
            width=100,
            initial_indent="  ",
            subsequent_indent=" " * (width + 5),
        )
    if outcome.got is not None:
        lines += textwrap.wrap(
            f"{'got':<{width}} = {_fmt(outcome.got)}",
            width=100,
            initial_indent="  ",
            subsequent_indent=" " * (width + 5),
        )
    if outcome.error is not None:
        lines += textwrap.wrap(
            f"error: {outcome.error}", width=100, initial_indent="  ", subsequent_indent="    "
        )
    if outcome.confirmed_by_oracle:
        lines.append("  (expected: numeric.gae, confirmed by the SymPy oracle gae_sym.oracle)")
    if outcome.index is not None:
        i = outcome.index if len(outcome.index) > 1 else outcome.index[0]
        at = outcome.index
        lines.append(
            f"  first difference at index {i}: expected {float(outcome.expected[at])!r}, "
            f"got {float(outcome.got[at])!r}"
        )
        lines.append(
            f"  tolerance {outcome.tolerance.describe(_scale(outcome.traj, outcome.expected))}"
        )
    return lines


class _Failure(Exception):
    """Raised inside the hypothesis test so that it shrinks; carries the outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.label)
        self.outcome = outcome


class _Stop(BaseException):
    """Raised inside the hypothesis test to end it at once, unshrunk (a call timed out).

    Hypothesis shrinks ``Exception``s only; any other ``BaseException`` goes straight out.
    """

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.label)
        self.outcome = outcome


TIMED_OUT_LABEL = "generated by hypothesis (not shrunk: a call that timed out is not retried)"


def _search(
    func: Callable[..., Any],
    plan: CallPlan,
    strategy: Any,
    max_examples: int,
    seed: int,
    call_timeout: float | None = None,
    exit_if_stuck: bool = False,
) -> tuple[Outcome | None, int]:
    """Hypothesis search; return (shrunk failing outcome or None, number of calls made).

    A call that times out ends the search with that case as it is.
    """
    calls = 0
    last_failure: list[Outcome] = []

    def check(traj: Trajectory) -> None:
        nonlocal calls
        calls += 1
        outcome = run_case(
            func, plan, traj, "generated by hypothesis, shrunk", call_timeout, exit_if_stuck
        )
        if outcome.timed_out:
            outcome.label = TIMED_OUT_LABEL
            raise _Stop(outcome)
        if not outcome.passed:
            last_failure[:] = [outcome]
            raise _Failure(outcome)

    test = hypothesis_seed(seed)(
        settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=(Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
        )(given(strategy)(check))
    )
    with reporting.with_reporter(lambda *_: None):
        try:
            test()
        except (_Failure, _Stop) as failure:
            return failure.outcome, calls
        except Exception:  # Flaky (a non-deterministic function) and the like
            return (last_failure[0] if last_failure else None), calls
    return None, calls


def verify(
    func: Callable[..., Any],
    convention: str = "canonical",
    *,
    input_type: str = "numpy",
    max_examples: int = 200,
    seed: int = 0,
    dtype: np.dtype | type = np.float64,
    max_length: int = 64,
    batch_shape: tuple[int, ...] | Any = (),
    target: str | None = None,
    call_timeout: float | None = CALL_TIMEOUT,
    exit_if_stuck: bool = False,
) -> VerificationResult:
    """Property-test ``func`` (a GAE implementation of ``convention``) against the reference.

    Raises ``TypeError`` when ``func`` cannot be called with the convention's arguments.
    ``dtype`` is the dtype of the generated input arrays; ``batch_shape`` (``canonical``
    only) adds batch dimensions to the generated cases (edge cases stay 1-D).

    A call that runs longer than ``call_timeout`` seconds (None, 0 or inf: no limit) is stopped
    and ends the run as the counterexample. The limit is enforced with SIGALRM in the main
    thread only (elsewhere a ``RuntimeWarning`` says so) and cannot stop C code that never
    returns to Python; ``exit_if_stuck=True`` (for command-line use: it ends the process)
    then exits with status 1 after a grace period, printing where the code is stuck.
    """
    start = time.perf_counter()
    plan = plan_call(func, convention, input_type)
    dtype = np.dtype(dtype)
    if call_timeout is not None and not call_timeout >= 0:
        raise ValueError(f"call_timeout must be >= 0 seconds (or None), got {call_timeout!r}")
    if call_timeout is not None and math.isinf(call_timeout):
        call_timeout = None
    enforced, why_not = limit_enforceable()
    enforced = enforced and bool(call_timeout)
    note = ""
    if call_timeout and not enforced:
        note = f"the {call_timeout:g} s call time limit was not enforced: {why_not}"
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    edges = [(label, _as_dtype(traj, dtype)) for label, traj in edge_cases(convention, seed)]
    outcomes: list[Outcome] = []
    for label, traj in edges:
        outcome = run_case(func, plan, traj, f"edge case: {label}", call_timeout, exit_if_stuck)
        outcomes.append(outcome)
        if outcome.timed_out:  # a hanging function would cost the limit on every case
            break
    failed = [o for o in outcomes if not o.passed]
    hung = next((o for o in outcomes if o.timed_out), None)
    generated, calls = hung, 0
    # Short segments first (as QuickCheck grows its size parameter): most bugs show there,
    # and shrinking a short counterexample is cheap. Then the full length range.
    short = min(SHORT_LENGTH, max_length)
    for stage_length, stage_examples in (
        (short, max_examples // 2),
        (max_length, max_examples - max_examples // 2),
    ):
        if generated is not None or stage_examples == 0:
            continue
        strategy = trajectories(
            convention, dtype=dtype, max_length=stage_length, batch_shape=batch_shape
        )
        generated, stage_calls = _search(
            func, plan, strategy, stage_examples, seed, call_timeout, exit_if_stuck
        )
        calls += stage_calls
    counterexample = generated
    if counterexample is None and failed:
        counterexample = min(failed, key=lambda o: o.traj.rewards.size)
    diagnosis = None
    if counterexample is not None:
        _confirm_with_oracle(counterexample)
        # A hang is the verdict; a bug matching the other outputs would describe other cases.
        if not counterexample.timed_out:
            diagnosis = diagnose([*outcomes, counterexample], convention)
    return VerificationResult(
        target=target or getattr(func, "__qualname__", repr(func)),
        convention=convention,
        input_type=input_type,
        seed=seed,
        passed=counterexample is None,
        examples=len(outcomes) + calls,
        edge_cases=len(outcomes),
        counterexample=counterexample,
        diagnosis=diagnosis,
        failed_edge_cases=[o.label.removeprefix("edge case: ") for o in failed],
        seconds=time.perf_counter() - start,
        call_timeout=call_timeout or None,
        call_timeout_enforced=enforced,
        call_timeout_note=note,
    )


def _confirm_with_oracle(outcome: Outcome) -> None:
    """Before blaming the function, check the expected values with the SymPy oracle.

    ``gae_sym.oracle`` evaluates the proven closed form (slow, so only on the one
    counterexample); a disagreement is a bug of this project, not of the function tested.
    """
    from gae_sym import oracle

    traj = outcome.traj
    proven = oracle.gae(*traj.arrays, gamma=traj.gamma, lam=traj.lam)
    tolerance = tolerance_for(traj.dtype, outcome.expected.dtype)
    if mismatches(proven, outcome.expected, tolerance, _scale(traj, proven)).any():
        raise RuntimeError(
            "internal error: numeric.gae and gae_sym.oracle disagree on "
            f"{traj!r}: {outcome.expected.tolist()} vs {proven.tolist()}; please report it"
        )
    outcome.confirmed_by_oracle = True


def _as_dtype(traj: Trajectory, dtype: np.dtype) -> Trajectory:
    if traj.dtype == dtype:
        return traj
    floats = ("rewards", "values", "next_values")
    return dataclasses.replace(traj, **{name: getattr(traj, name).astype(dtype) for name in floats})


def assert_gae_matches(
    func: Callable[..., Any],
    convention: str = "canonical",
    *,
    input_type: str = "numpy",
    max_examples: int = 100,
    seed: int = 0,
    dtype: np.dtype | type = np.float64,
    max_length: int = 64,
    batch_shape: tuple[int, ...] | Any = (),
    call_timeout: float | None = CALL_TIMEOUT,
) -> VerificationResult:
    """Assert that ``func`` computes GAE(γ, λ) in ``convention``; for use in a pytest test.

    Raises ``AssertionError`` whose message holds the shrunk counterexample (inputs,
    expected, got, first differing index) and the diagnosis; returns the result otherwise.
    A call running longer than ``call_timeout`` seconds (None: no limit) is stopped and
    reported as the counterexample (main thread only: see :func:`verify`).
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    result = verify(
        func,
        convention,
        input_type=input_type,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        max_length=max_length,
        batch_shape=batch_shape,
        call_timeout=call_timeout,
        target=getattr(func, "__module__", "?") + ":" + getattr(func, "__qualname__", "?"),
    )
    if not result.passed:
        raise AssertionError(result.report())
    return result
