"""Run a GAE function against the reference: fixed edge cases, then hypothesis, then diagnosis.

``verify`` always runs :func:`~gae_sym.testing.trajectories.edge_cases` first (γ = 0, λ = 0,
γ = 1, λ = 1, T = 1, a terminal last step, 50-, 64- and 1100-step segments, dones in the middle),
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

Precision apart from logic: a float64 result (of float64 inputs) that misses the float64
tolerance but meets the float32 one has the logic right and the precision of float32 (a γ
rounded to float32, a float32 buffer); so has a float32 result of float64 inputs. Such
cases pass, with a *precision warning* that names the source when a model of it
(:data:`~gae_sym.testing.bugs.PRECISION_MODELS`) reproduces the outputs, and the fix in the
code's framework; ``strict_precision=True`` makes them failures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import sys
import tempfile
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
from hypothesis import strategies as st

from gae_sym.testing import timeout
from gae_sym.testing.bugs import (
    FLOAT32_PRECISION,
    MODIFIES_INPUTS,
    PRECISION_FIXES,
    PRECISION_MODELS,
    RAISES_AT_ZERO_DISCOUNT,
    KnownBug,
    known_bugs,
)
from gae_sym.testing.conventions import (
    CallPlan,
    jsonable_inputs,
    layout_for,
    outputs_from_advantages,
    plan_call,
    reference_outputs,
    result_array,
    warm_reference,
)
from gae_sym.testing.timeout import (
    CallTimeout,
    call_time_limit,
    hard_deadline,
    limit_enforceable,
    raise_if_interrupted,
)
from gae_sym.testing.trajectories import (
    VERY_LONG,
    Trajectory,
    batched,
    edge_cases,
    trajectories,
)


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
EDGE_CASE_COLUMNS = 3
# Jitted JAX code compiles once per shape (a lax.scan of 64 steps: about 3 s), so its
# generated cases take T from the edge cases' lengths, 1..8 and 16, and N =
# EDGE_CASE_COLUMNS: a few shapes beyond those of the edge cases are compiled.
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
    raised: bool = False
    modified: tuple[str, ...] = ()  # the inputs the call changed in place
    # Logic right, precision of float32: (largest |got − expected| / S, result dtype)
    precision_only: tuple[float, str] | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.index is None

    @property
    def comparable(self) -> bool:
        """The function returned numbers of the right shape (right or wrong)."""
        return self.got is not None and self.got.shape == self.expected.shape

    def user_index(self, plan: CallPlan) -> Any:
        """The first differing index as the function's own arrays number it."""
        if self.index is None:
            return None
        index = self.index
        lead: tuple[int, ...] = ()
        if len(plan.outputs) > 1:
            lead, index = index[:1], index[1:]
        index = (*lead, *layout_for(plan.layout).user_index(index))
        return index[0] if len(index) == 1 else list(index)

    def user_values(self, array: np.ndarray | None, plan: CallPlan) -> Any:
        """``array`` (time-major) as the function returns it: a list, or one per output."""
        if array is None:
            return None
        layout = layout_for(plan.layout)
        if len(plan.outputs) == 1:
            return layout.to_user(array, "step").tolist()
        return {
            name: layout.to_user(part, "step").tolist()
            for name, part in zip(plan.outputs, array, strict=True)
        }

    def as_dict(self, plan: CallPlan) -> dict[str, Any]:
        return {
            "case": self.label,
            "inputs": jsonable_inputs(self.traj, plan),
            "expected": self.user_values(self.expected, plan),
            "got": None if self.got is None else _finite_or_text(self.user_values(self.got, plan)),
            "first_differing_index": self.user_index(plan),
            "error": self.error,
            "timed_out": self.timed_out,
            "tolerance": self.tolerance.describe(_scale(self.traj, self.expected)),
            "expected_confirmed_by_oracle": self.confirmed_by_oracle,
        }


def _finite_or_text(values: Any) -> Any:
    """NaN and ±inf as the strings "nan", "inf", "-inf" (JSON has no such numbers)."""
    if isinstance(values, dict):
        return {k: _finite_or_text(v) for k, v in values.items()}
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
    strict_precision: bool = False,
) -> Outcome:
    """Call ``func`` on ``traj`` as ``plan`` says and compare with the reference.

    A call running longer than ``call_timeout`` seconds is stopped and is a failure
    (``timed_out``); ``exit_if_stuck`` ends the process when it cannot be stopped
    (:func:`~gae_sym.testing.timeout.hard_deadline`). A result right at float32 precision
    only passes with ``precision_only`` set, or fails with ``strict_precision``.
    """
    expected = reference_outputs(traj, plan.outputs)
    outcome = Outcome(label, traj, expected)
    raise_if_interrupted()  # a Ctrl-C that a gc callback swallowed (timeout.sticky_interrupt)
    args, kwargs = plan.arguments(traj)
    warm = getattr(func, "warm", None)
    if warm is not None:
        # Compiling (jitted JAX: seconds for a long scan) is not the call the limit is for.
        longer = 5 * call_timeout if call_timeout else None
        deadline = hard_deadline(longer) if exit_if_stuck else contextlib.nullcontext()
        with (
            contextlib.suppress(Exception, CallTimeout),  # the timed call will tell
            contextlib.redirect_stdout(sys.stderr),
            deadline,
            call_time_limit(longer),
        ):
            warm(*args, **kwargs)
    deadline = hard_deadline(call_timeout) if exit_if_stuck else contextlib.nullcontext()
    given = [*zip(plan.positional, args, strict=True), *kwargs.items()]
    before = [(name, value, _snapshot(value)) for name, value in given]
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
        outcome.raised = True
        outcome.error = f"raised {type(raised).__name__}: {_one_line(raised)}"
        return outcome
    outcome.modified = tuple(name for name, value, copy in before if not _unchanged(value, copy))
    if outcome.modified:
        # Right numbers do not make it right: the caller's buffer changed under it.
        outcome.error = (
            f"the function modified its input {', '.join(outcome.modified)} in place (the "
            "caller's rollout buffer would change; a second call on it would compute something "
            "else)"
        )
        with contextlib.suppress(ValueError):
            outcome.got = read_result(result, plan, traj)
        return outcome
    try:
        got = read_result(result, plan, traj)
    except ValueError as error:
        outcome.error = str(error)
        with contextlib.suppress(ValueError):
            outcome.got = result_array(result)
        return outcome
    outcome.got = got
    compare(outcome, strict_precision)
    return outcome


def _snapshot(value: Any) -> Any:
    """A copy of an argument, to tell after the call whether the function changed it."""
    if hasattr(value, "detach") and hasattr(value, "clone"):  # a torch tensor
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return np.array(value, dtype=np.float64)
    return None  # floats and JAX arrays cannot be changed in place


def _unchanged(value: Any, before: Any) -> bool:
    if before is None:
        return True
    if hasattr(value, "detach") and hasattr(value, "clone"):
        import torch

        return tuple(value.shape) == tuple(before.shape) and bool(torch.equal(value, before))
    try:
        now = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):  # a list made ragged or non-numeric
        return False
    return now.shape == before.shape and bool(np.array_equal(now, before))


def compare(outcome: Outcome, strict_precision: bool = False) -> None:
    """Set ``index`` (first element outside the tolerance) or ``precision_only``."""
    got, expected, traj = outcome.got, outcome.expected, outcome.traj
    scale = _scale(traj, expected)
    outcome.tolerance = tolerance_for(got.dtype, traj.dtype)
    bad = mismatches(expected, got, outcome.tolerance, scale)
    narrow_result = got.dtype.itemsize < traj.dtype.itemsize
    if not bad.any() and narrow_result:
        # float32 numbers for float64 inputs: right at float32 precision
        if mismatches(expected, got, FLOAT64, scale).any():
            outcome.precision_only = (_largest_error(expected, got, scale), got.dtype.name)
    elif (
        bad.any()
        and outcome.tolerance is FLOAT64
        and not mismatches(expected, got, FLOAT32, scale).any()
    ):
        outcome.precision_only = (_largest_error(expected, got, scale), got.dtype.name)
        bad = np.zeros_like(bad)
    if strict_precision and outcome.precision_only is not None:
        outcome.tolerance = FLOAT64
        bad = mismatches(expected, got, FLOAT64, scale)
    if bad.any():
        outcome.index = tuple(int(i) for i in np.argwhere(bad)[0])


def _largest_error(expected: np.ndarray, got: np.ndarray, scale: float) -> float:
    return float(np.max(np.abs(got.astype(np.float64) - expected))) / scale


def read_result(result: Any, plan: CallPlan, traj: Trajectory) -> np.ndarray:
    """The function's result as a time-major array (outputs stacked first for a tuple)."""
    layout = layout_for(plan.layout)
    want = layout.user_shape(traj.rewards.shape)
    what = " and ".join(plan.outputs)
    if len(plan.outputs) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(plan.outputs):
            raise ValueError(
                f"returned {type(result).__name__}, expected a tuple of {len(plan.outputs)} "
                f"arrays ({', '.join(plan.outputs)})"
            )
        parts = [
            _one_output(r, want, name, traj, layout)
            for r, name in zip(result, plan.outputs, strict=True)
        ]
        dtype = np.result_type(*parts)
        return np.stack([p.astype(dtype) for p in parts])
    got = result_array(result)
    if got.shape != want:
        message = (
            f"returned shape {got.shape}, expected {want} (the {what}: one per step, "
            f"T = {traj.length}, layout {layout.shape})"
        )
        if got.ndim == len(want) + 1 and got.shape[1:] == want and len(got) > 1:
            message += (
                f"; a tuple of {got.shape[0]} arrays? return the {what} only, or say what "
                f"each is: --output advantages,returns (output=...)"
            )
        raise ValueError(message)
    return layout.from_user(got)


def _one_output(result, want, name, traj, layout) -> np.ndarray:
    got = result_array(result)
    if got.shape != want:
        raise ValueError(
            f"the {name} returned have shape {got.shape}, expected {want} (T = {traj.length}, "
            f"layout {layout.shape})"
        )
    return layout.from_user(got)


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
    evidence_text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.bug.as_dict(),
            "evidence": self.evidence(),
        }

    def evidence(self) -> str:
        if self.evidence_text:
            return self.evidence_text
        if self.exact:
            return f"reproduces the function's output on all {self.cases} cases it returned"
        return (
            f"likely: reproduces {self.matched} of {self.cases} outputs elementwise "
            "(no known bug reproduces all of them)"
        )


def _predicted(bug: KnownBug, traj: Trajectory, outputs: tuple[str, ...]) -> np.ndarray:
    return outputs_from_advantages(np.asarray(bug.compute(traj)), traj, outputs)


def _reproduces(
    bug: KnownBug, outcome: Outcome, outputs: tuple[str, ...], loose: bool = False
) -> np.ndarray:
    """Elementwise: where ``bug`` predicts the function's output on this case."""
    predicted = _predicted(bug, outcome.traj, outputs)
    tol = tolerance_for(outcome.got.dtype, outcome.traj.dtype, predicted.dtype)
    if loose or outcome.precision_only is not None:
        tol = FLOAT32  # the function rounds like float32: compare its logic at that precision
    return ~mismatches(predicted, outcome.got, tol, _scale(outcome.traj, predicted))


def diagnose(
    outcomes: list[Outcome], convention: str, outputs: tuple[str, ...] = ("advantages",)
) -> Diagnosis | None:
    """The first known bug of ``convention`` that reproduces every comparable output.

    Without an exact match, the bug agreeing with the most output elements is returned as
    "likely" when it agrees on at least 90% of them and explains at least 80% of the wrong
    ones (counted without the very long edge case, unless only it failed); otherwise None.
    """
    cases = [o for o in outcomes if o.comparable]
    if not cases or all(o.passed for o in cases):
        return None
    total = sum(o.expected.size for o in cases)
    wrong = [mismatches(o.expected, o.got, o.tolerance, _scale(o.traj, o.expected)) for o in cases]
    for o, w in zip(cases, wrong, strict=True):
        if o.passed:
            w[...] = False  # precision-only: right for the logic
    counted = _counted(cases)
    n_wrong = sum(int(w.sum()) for o, w in zip(cases, wrong, strict=True) if counted(o))
    counted_total = sum(o.expected.size for o in cases if counted(o))
    best: tuple[int, int, KnownBug] | None = None
    # At the function's precision first; then at float32's, for a bug in code that also
    # rounds like float32 (a torch γ, a float32 buffer): the logic is what gets named.
    for loose in (False, True):
        for bug in known_bugs(convention, outputs):
            agree = explained = counted_agree = 0
            for outcome, bad in zip(cases, wrong, strict=True):
                same = _reproduces(bug, outcome, outputs, loose)
                agree += int(same.sum())
                if counted(outcome):
                    counted_agree += int(same.sum())
                    explained += int((same & bad).sum())
            if agree == total:
                text = ""
                if loose:
                    text = (
                        f"reproduces the function's output on all {len(cases)} cases it "
                        "returned, to float32 precision"
                    )
                return Diagnosis(bug, len(cases), len(cases), True, text)
            if not loose and (best is None or counted_agree > best[0]):
                best = (counted_agree, explained, bug)
    if best and best[0] >= 0.9 * counted_total and best[1] >= 0.8 * n_wrong:
        return Diagnosis(best[2], best[0], counted_total, exact=False)
    return None


def _counted(cases: list[Outcome]) -> Callable[[Outcome], bool]:
    """Which cases the elementwise statistics count: the very long edge case has more
    elements than all others together, and would decide a "likely" diagnosis alone (it has
    no dones); it counts only when no shorter case failed."""
    short_failed = any(not o.passed and o.traj.length < VERY_LONG for o in cases)
    if not short_failed:
        return lambda o: True
    return lambda o: o.traj.length < VERY_LONG


@dataclass(frozen=True)
class Closeness:
    """How near a known bug comes to outputs that no known bug reproduces."""

    bug: KnownBug
    agree: int  # output elements it predicts
    compared: int
    explained: int  # of the wrong elements, those it predicts
    wrong: int

    @property
    def name(self) -> str:
        return self.bug.name

    def text(self) -> str:
        return (
            f"{self.bug.name} (reproduces {self.agree} of {self.compared} output elements, "
            f"{self.explained} of the {self.wrong} wrong ones)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.bug.as_dict(),
            "agree": self.agree,
            "compared": self.compared,
            "explained": self.explained,
            "wrong": self.wrong,
        }


def closest_bugs(
    outcomes: list[Outcome],
    convention: str,
    outputs: tuple[str, ...] = ("advantages",),
    keep: int = 3,
    primary: KnownBug | None = None,
) -> tuple[list[Closeness], int]:
    """When :func:`diagnose` names nothing: the known bugs that reproduce some of the wrong
    output elements, nearest first (by the wrong elements they predict, then by all), and
    the number of wrong elements. Two mistakes at once show as two bugs that each explain
    part of them. With ``primary`` (a "likely" diagnosis), only the wrong elements it does
    not reproduce are counted: where a second mistake would show."""
    cases = [o for o in outcomes if o.comparable]
    wrong = [mismatches(o.expected, o.got, o.tolerance, _scale(o.traj, o.expected)) for o in cases]
    for o, w in zip(cases, wrong, strict=True):
        if o.passed:
            w[...] = False
        elif primary is not None:
            w &= ~_reproduces(primary, o, outputs)
    counted = _counted(cases)
    wrong = [w for o, w in zip(cases, wrong, strict=True) if counted(o)]
    cases = [o for o in cases if counted(o)]
    n_wrong = sum(int(w.sum()) for w in wrong)
    total = sum(o.expected.size for o in cases)
    found = []
    for bug in known_bugs(convention, outputs):
        if primary is not None and bug.name == primary.name:
            continue
        agree = explained = 0
        for outcome, bad in zip(cases, wrong, strict=True):
            same = _reproduces(bug, outcome, outputs)
            agree += int(same.sum())
            explained += int((same & bad).sum())
        if explained:
            found.append(Closeness(bug.in_convention(convention), agree, total, explained, n_wrong))
    found.sort(key=lambda c: (-c.explained, -c.agree))
    return found[:keep], n_wrong


CLOSE_ENOUGH = 0.1  # a bug "comes close" when it reproduces this share of the wrong elements


def _closest_text(closest: list[Any], wrong: int, noun: str) -> str:
    """ "; closest: ..." or "; none comes close: ..." after a diagnosis of none."""
    near = [c for c in closest if c.explained >= CLOSE_ENOUGH * c.wrong]
    if near:
        return "; closest: " + ", ".join(c.text() for c in near)
    if not wrong:
        return ""
    text = f"; none comes close: no known {noun} reproduces "
    if not closest:
        return text + f"any of the {wrong} wrong output elements"
    best = closest[0]
    return text + f"more than {best.explained} of the {wrong} wrong output elements ({best.name})"


def _zero_discount(traj: Trajectory) -> bool:
    return traj.gamma * traj.lam == 0.0


def _with_discounts(traj: Trajectory, gamma: float, lam: float) -> Trajectory:
    return dataclasses.replace(traj, gamma=gamma, lam=lam)


def diagnose_modified(counterexample: Outcome, outcomes: list[Outcome]) -> Diagnosis | None:
    """ "modifies its inputs" when the counterexample's call changed an input in place."""
    if not counterexample.modified:
        return None
    outcomes = list({id(o): o for o in outcomes}.values())  # the counterexample may be one
    modified = [o for o in outcomes if o.modified]
    names = sorted({n for o in modified for n in o.modified})
    right = sum(1 for o in modified if o.got is not None and o.got.shape == o.expected.shape)
    text = (
        f"changed {', '.join(names)} on {len(modified)} of the {len(outcomes)} cases it was run "
        f"on; {right} of those returned results of the right shape"
    )
    return Diagnosis(MODIFIES_INPUTS, len(modified), len(outcomes), True, text)


def diagnose_exception(
    counterexample: Outcome, outcomes: list[Outcome], call: Callable[[Trajectory], Outcome]
) -> Diagnosis | None:
    """ "raises at γλ = 0" when every raise was at γλ = 0 and the same inputs with γλ ≠ 0
    return values (``call`` runs the function on a case: a probe)."""
    if not counterexample.raised or not _zero_discount(counterexample.traj):
        return None
    raised = [o for o in (*outcomes, counterexample) if o.raised]
    if not all(_zero_discount(o.traj) for o in raised):
        return None
    probe = call(_with_discounts(counterexample.traj, 0.5, 0.5))
    if probe.raised or probe.timed_out:
        return None
    returned_elsewhere = sum(1 for o in outcomes if not o.raised and not _zero_discount(o.traj))
    text = (
        f"raised on all {len(raised)} cases with γλ = 0 it was run on, on no other; the "
        f"counterexample with γ = λ = 0.5 returns {'the right' if probe.passed else 'wrong'} "
        f"values ({returned_elsewhere + 1} cases with γλ ≠ 0 returned)"
    )
    return Diagnosis(RAISES_AT_ZERO_DISCOUNT, len(raised), len(raised), True, text)


# Values that replace zeros of a shrunk counterexample (rewards, values, next values), tried
# in turn until the bugs that fit it disagree with each other and with the reference.
_TELLING_VALUES = ((1.0, 3.0, 2.0), (2.0, -1.0, 3.0), (0.5, 1.5, -2.5))


def tell_apart(
    counterexample: Outcome,
    diagnosis: Diagnosis | None,
    convention: str,
    outputs: tuple[str, ...],
    call: Callable[[Trajectory], Outcome],
) -> Outcome:
    """A counterexample that separates the diagnosed bug from the others that fit it.

    Shrinking drives values to 0, where different mistakes give the same numbers (a
    truncation zeroed, bootstrapped from V(s_t), or cut without a bootstrap all give 0 when
    V = 0). If several known bugs reproduce the shrunk case, its zeros are replaced by
    small distinct numbers until they disagree; the function is run on that case and it
    replaces the counterexample when it still fails and the diagnosed bug alone fits it.
    """
    if diagnosis is None or not counterexample.comparable or diagnosis.bug.compute is None:
        return counterexample
    bugs = known_bugs(convention, outputs)
    if diagnosis.bug not in bugs:
        return counterexample
    fitting = [b for b in bugs if _reproduces(b, counterexample, outputs).all()]
    if len(fitting) < 2:
        return counterexample
    traj = counterexample.traj
    steps = np.arange(traj.length).reshape((-1,) + (1,) * len(traj.batch_shape)) * 0.25
    for r0, v0, nv0 in _TELLING_VALUES:
        variant = dataclasses.replace(
            traj,
            rewards=np.where(traj.rewards == 0, r0 + steps, traj.rewards).astype(traj.dtype),
            values=np.where(traj.values == 0, v0 + steps, traj.values).astype(traj.dtype),
            next_values=np.where(traj.next_values == 0, nv0 - steps, traj.next_values).astype(
                traj.dtype
            ),
        )
        if convention != "canonical":  # next values follow the stored values there
            nv = np.concatenate([variant.values[1:], variant.next_values[-1:]], axis=0)
            variant = dataclasses.replace(variant, next_values=nv.astype(traj.dtype))
        mine = _predicted(diagnosis.bug, variant, outputs)
        others = [_predicted(b, variant, outputs) for b in fitting if b is not diagnosis.bug]
        others.append(reference_outputs(variant, outputs))
        scale = max(_scale(variant, p) for p in (mine, *others))
        apart = [mismatches(mine, p, FLOAT32, scale).any() for p in others]
        if not apart[-1] or not any(apart[:-1]):  # wrong, and unlike some other bug
            continue
        outcome = call(variant)
        if outcome.passed or not outcome.comparable:
            continue
        still = [b for b in fitting if _reproduces(b, outcome, outputs).all()]
        if diagnosis.bug in still and len(still) < len(fitting):
            told = [b.name for b in fitting if b not in still]
            outcome.label = (
                f"{counterexample.label}, then its zeros made non-zero to tell "
                f"{diagnosis.bug.name} from {', '.join(told)}"
            )
            return outcome
    return counterexample


@dataclass
class PrecisionNote:
    """Cases whose logic is right at float32 precision only, and where that comes from."""

    cases: int
    largest_error: float  # relative to S
    result_dtype: str
    source: KnownBug | None
    framework: str

    def text(self) -> str:
        what = (
            f"returns {self.result_dtype} for float64 inputs"
            if self.result_dtype != "float64"
            else "returns float64 numbers that are right to float32 precision only"
        )
        source = f": {self.source.summary}" if self.source else ""
        return (
            f"{what} ({self.cases} case{'s' if self.cases != 1 else ''}, largest error "
            f"{self.largest_error:.1e}·S){source}; "
            f"fix: {PRECISION_FIXES[self.framework]}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": self.text(),
            "cases": self.cases,
            "largest_error_over_S": self.largest_error,
            "result_dtype": self.result_dtype,
            "source": None if self.source is None else self.source.name,
            "fix": PRECISION_FIXES[self.framework],
        }


def precision_note(
    outcomes: list[Outcome], framework: str, outputs: tuple[str, ...]
) -> PrecisionNote | None:
    rounded = [o for o in outcomes if o.precision_only is not None and o.comparable]
    if not rounded:
        return None
    source = None
    for model in PRECISION_MODELS:
        ok = True
        for o in rounded:
            predicted = _predicted(model, o.traj, outputs)
            if mismatches(predicted, o.got, FLOAT64, _scale(o.traj, predicted)).any():
                ok = False
                break
        if ok:
            source = model
            break
    largest = max(o.precision_only[0] for o in rounded)
    dtype = rounded[0].precision_only[1]
    return PrecisionNote(len(rounded), largest, dtype, source, framework)


def _precision_diagnosis(
    outcome: Outcome, framework: str, outputs: tuple[str, ...]
) -> Diagnosis | None:
    """Under ``strict_precision``: where the float32 rounding comes from, with the fix in
    the code's framework (the generic entry when no model reproduces it)."""
    note = precision_note([outcome], framework, outputs)
    if note is None:
        return None
    bug = note.source or FLOAT32_PRECISION
    bug = dataclasses.replace(bug, fix=PRECISION_FIXES[framework])
    if note.source is not None:
        evidence = "reproduces the function's output on the counterexample to float64 precision"
    else:
        evidence = f"within float32 rounding of the reference (error {note.largest_error:.1e}·S)"
    return Diagnosis(bug, 1, 1, True, evidence)


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
    plan: CallPlan | None = None
    dtype: str = "float64"
    precision: PrecisionNote | None = None
    strict_precision: bool = False
    import_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # Without a diagnosis: the known bugs nearest the outputs (best first), and how many
    # output elements were wrong
    closest: list[Closeness] = field(default_factory=list)
    closest_wrong: int = 0

    @property
    def precision_warning(self) -> str | None:
        return None if self.precision is None else self.precision.text()

    def _plan(self) -> CallPlan:
        if self.plan is not None:
            return self.plan
        return CallPlan(self.convention, self.input_type, ())

    def as_dict(self) -> dict[str, Any]:
        plan = self._plan()
        return {
            "passed": self.passed,
            "examples": self.examples,
            "counterexample": (
                None if self.counterexample is None else self.counterexample.as_dict(plan)
            ),
            "diagnosis": None if self.diagnosis is None else self.diagnosis.as_dict(),
            "closest_mistakes": [c.as_dict() for c in self.closest],
            "precision_warning": self.precision_warning,
            "precision": None if self.precision is None else self.precision.as_dict(),
            "strict_precision": self.strict_precision,
            "target": self.target,
            "convention": self.convention,
            "layout": plan.layout,
            "output": list(plan.outputs),
            "call": plan.describe(),
            "input_type": self.input_type,
            "dtype": self.dtype,
            "seed": self.seed,
            "edge_cases": self.edge_cases,
            "failed_edge_cases": self.failed_edge_cases,
            "seconds": round(self.seconds, 3),
            "import_seconds": round(self.import_seconds, 3),
            "call_timeout": self.call_timeout,
            "call_timeout_enforced": self.call_timeout_enforced,
            "notes": self.notes,
        }

    def _head(self) -> str:
        plan = self._plan()
        extra = []
        if plan.layout != "T":
            extra.append(f"layout {layout_for(plan.layout).shape}")
        if plan.outputs != ("advantages",):
            extra.append(f"output {','.join(plan.outputs)}")
        extra.append(f"{self.input_type} {self.dtype} inputs")
        return f"{self.target} ({self.convention} convention, {', '.join(extra)}, seed {self.seed})"

    def _timing(self) -> str:
        if self.import_seconds:
            return f"in {self.seconds:.2f} s (import {self.import_seconds:.2f} s)"
        return f"in {self.seconds:.2f} s"

    def report(self) -> str:
        """The human-readable verdict (what ``verify-impl`` prints, and AssertionError says)."""
        note = [f"note: {self.call_timeout_note}"] if self.call_timeout_note else []
        note += [f"note: {n}" for n in self.notes]
        precision = []
        if self.precision is not None:
            precision = textwrap.wrap(
                f"precision warning: {self.precision.text()}"
                + ("" if self.strict_precision else " (--strict-precision makes this a failure)"),
                width=100,
                subsequent_indent="  ",
            )
        if self.passed:
            verdict = (
                f"PASS {self._head()}: matches the reference on {self.examples} cases "
                f"({self.edge_cases} edge cases + {self.examples - self.edge_cases} generated) "
                f"{self._timing()}"
            )
            return "\n".join([verdict, *precision, *note])
        lines = [
            f"FAIL {self._head()}: counterexample after {self.examples} cases {self._timing()}"
        ]
        lines += _describe(self.counterexample, self._plan())
        if self.counterexample is not None and self.counterexample.timed_out:
            lines += [
                "diagnosis: a hang (an endless loop: an index that never moves, a condition",
                "  that never becomes false) or a function too slow for the limit; if it is",
                "  merely slow, raise the limit (--call-timeout S, call_timeout=S)",
            ]
        elif self.diagnosis is not None:
            bug = self.diagnosis.bug
            second = []
            if not self.diagnosis.exact:
                near = _closest_text(self.closest, self.closest_wrong, "bug")
                if near.startswith("; closest: "):
                    second = [
                        (
                            f"(the {self.closest_wrong} wrong output elements it does not "
                            f"reproduce, a second mistake?: {near.removeprefix('; closest: ')})",
                            "  ",
                        )
                    ]
            for text, first in (
                (f"diagnosis: {bug.name}: {bug.summary}", ""),
                (f"fix: {bug.fix}", "  "),
                (f"({self.diagnosis.evidence()})", "  "),
                *second,
            ):
                lines += textwrap.wrap(
                    text,
                    width=100,
                    initial_indent=first,
                    subsequent_indent="    ",
                    break_on_hyphens=False,
                )
        else:
            text = "diagnosis: none (no known bug reproduces these outputs)"
            text += _closest_text(self.closest, self.closest_wrong, "bug")
            lines += textwrap.wrap(
                text, width=100, subsequent_indent="    ", break_on_hyphens=False
            )
        if self.failed_edge_cases:
            lines += _wrap_labels("failed edge cases: ", self.failed_edge_cases)
        return "\n".join([*lines, *precision, *note])


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


SHOWN_ENTRIES = 64  # a longer list is printed as its first and last entries


def _fmt(values: Any) -> str:
    """``repr`` of a (nested) list, a list longer than :data:`SHOWN_ENTRIES` shortened to
    its first and last five entries (the JSON document has them all)."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, list):
        return repr(values)
    if len(values) > SHOWN_ENTRIES:
        head = ", ".join(_fmt(v) for v in values[:5])
        tail = ", ".join(_fmt(v) for v in values[-5:])
        return f"[{head}, ... ({len(values) - 10} more), {tail}]"
    return "[" + ", ".join(_fmt(v) for v in values) + "]"


def _describe(outcome: Outcome | None, plan: CallPlan) -> list[str]:
    if outcome is None:
        return []
    inputs = jsonable_inputs(outcome.traj, plan)
    rows: list[tuple[str, Any]] = list(inputs.items())
    expected = outcome.user_values(outcome.expected, plan)
    got = outcome.user_values(outcome.got, plan) if outcome.comparable else None
    if isinstance(expected, dict):
        rows += [(f"expected {k}", v) for k, v in expected.items()]
        if got is not None:
            rows += [(f"got {k}", v) for k, v in got.items()]
    else:
        rows.append(("expected", expected))
        if got is not None:
            rows.append(("got", got))
        elif outcome.got is not None:
            rows.append(("got", outcome.got))
    width = max(len(n) for n, _ in rows)
    lines = textwrap.wrap(
        f"case: {outcome.label}",
        width=100,
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    for name, value in rows:
        lines += textwrap.wrap(
            f"{name:<{width}} = {_fmt(value)}",
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
        at = outcome.index
        lines.append(
            f"  first difference at index {outcome.user_index(plan)}: expected "
            f"{float(outcome.expected[at])!r}, got {float(outcome.got[at])!r}"
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


NOT_DETERMINISTIC_LABEL = (
    "generated by hypothesis (the function is not deterministic: this input failed once and "
    "gave another result when run again, so shrinking stopped here)"
)
TIMED_OUT_LABEL = "generated by hypothesis (not shrunk: a call that timed out is not retried)"


@contextlib.contextmanager
def _hypothesis_home_elsewhere() -> Any:
    """Keep hypothesis's files (its cache of constants) out of the user's folder.

    Hypothesis writes ``./.hypothesis`` unless told otherwise; while our search runs it
    writes to the system's temporary folder, and the previous setting is restored.
    """
    from hypothesis import configuration

    attribute = "__hypothesis_home_directory"
    previous = getattr(configuration, attribute, None)
    if previous is not None or os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield  # the caller chose a place already
        return
    configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "gae-sym-hypothesis"))
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(previous)


def _search(
    call: Callable[[Trajectory, str], Outcome],
    strategy: Any,
    max_examples: int,
    seed: int,
) -> tuple[Outcome | None, int, list[Outcome]]:
    """Hypothesis search: (shrunk failing outcome or None, calls made, the passing cases
    that were right to float32 precision only).

    A call that times out ends the search with that case as it is.
    """
    calls = 0
    last_failure: list[Outcome] = []

    def check(traj: Trajectory) -> None:
        nonlocal calls
        calls += 1
        outcome = call(traj, "generated by hypothesis, shrunk")
        if outcome.timed_out:
            outcome.label = TIMED_OUT_LABEL
            raise _Stop(outcome)
        if not outcome.passed:
            last_failure[:] = [outcome]
            raise _Failure(outcome)
        if outcome.precision_only is not None:
            rounded.append(outcome)

    rounded: list[Outcome] = []
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
    with reporting.with_reporter(lambda *_: None), _hypothesis_home_elsewhere():
        try:
            test()
        except (_Failure, _Stop) as failure:
            return failure.outcome, calls, rounded
        except Exception:  # Flaky (a non-deterministic function) and the like
            if last_failure:
                last_failure[0].label = NOT_DETERMINISTIC_LABEL
                return last_failure[0], calls, rounded
            raise  # not the function's failure: ours, never a silent pass
    return None, calls, rounded


def _framework(input_type: str, func: Callable[..., Any]) -> str:
    if input_type in ("torch", "jax"):
        return input_type
    module = getattr(func, "__module__", "") or ""
    for name in ("torch", "jax"):
        if module.split(".")[0] in (name, f"{name}rl", "rlax") or name in module:
            return "jax" if name == "jax" or module.startswith("rlax") else "torch"
    return "numpy"


class _Jitted:
    """``jax.jit(func)``, falling back to ``func`` for code that cannot be traced.

    Jitted code compiles once per shape and dtype (the cases use few: :data:`JAX_LENGTHS`);
    un-jitted, a ``lax.scan`` is traced again on every call. Python-level control flow on
    the inputs (``if gamma == 0:``) cannot be traced: such a function runs un-jitted.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        import jax

        self.func = func
        self.jitted = jax.jit(func)
        self.traceable = True
        self.compiled: set[Any] = set()
        self.__name__ = getattr(func, "__name__", "f")
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)

    def warm(self, *args: Any, **kwargs: Any) -> None:
        """Compile for these shapes and dtypes (once): run_case calls this outside the limit."""
        key = tuple(
            (name, np.shape(value), str(getattr(value, "dtype", type(value).__name__)))
            for name, value in [*enumerate(args), *sorted(kwargs.items())]
        )
        if self.traceable and key not in self.compiled:
            self.compiled.add(key)
            self(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.traceable:
            import jax

            untraceable = tuple(
                getattr(jax.errors, name)
                for name in _TRACING_ERRORS
                if isinstance(getattr(jax.errors, name, None), type)
            )
            try:
                return jax.block_until_ready(self.jitted(*args, **kwargs))
            except untraceable:
                self.traceable = False  # from now on as it is: its own errors count
        return self.func(*args, **kwargs)


# What jax.jit raises for Python code that needs concrete values (``if gamma == 0:``,
# ``np.asarray(x)``, ``int(x)``, boolean indexing): not the function's fault.
_TRACING_ERRORS = (
    "ConcretizationTypeError",
    "TracerBoolConversionError",
    "TracerIntegerConversionError",
    "TracerArrayConversionError",
    "NonConcreteBooleanIndexError",
)


def _jax_float64_while_running(verify_func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``verify`` for JAX with float64 inputs under ``jax.enable_x64(True)``, restored
    afterwards: float64 stays float64, and the caller's process keeps its own setting."""

    @functools.wraps(verify_func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wide = np.dtype(kwargs.get("dtype", np.float64)).itemsize >= 8
        if kwargs.get("input_type") == "jax" and wide:
            import jax

            scope = getattr(jax, "enable_x64", None)
            if scope is not None:
                with scope(True):
                    return verify_func(*args, **kwargs)
            jax.config.update("jax_enable_x64", True)  # older jax: no scoped setting
        return verify_func(*args, **kwargs)

    return wrapper


@_jax_float64_while_running
def verify(
    func: Callable[..., Any],
    convention: str = "canonical",
    *,
    input_type: str = "numpy",
    max_examples: int = 200,
    seed: int = 0,
    dtype: np.dtype | type | str = np.float64,
    max_length: int = 64,
    batch_shape: tuple[int, ...] | Any = None,
    target: str | None = None,
    call_timeout: float | None = CALL_TIMEOUT,
    exit_if_stuck: bool = False,
    args: str | dict[str, str] | None = None,
    layout: str = "T",
    output: str | tuple[str, ...] = ("advantages",),
    strict_precision: bool = False,
    jit: bool = True,
    progress: Callable[[int, int], None] | None = None,
    started: float | None = None,
) -> VerificationResult:
    """Property-test ``func`` (a GAE implementation of ``convention``) against the reference.

    Raises ``TypeError`` when ``func`` cannot be called with the convention's arguments
    (``args`` maps input names to the function's parameters: ``"rewards=rew,lam=lmbda"``),
    ``ValueError`` for an unknown convention, layout or output. ``dtype`` is the dtype of
    the input arrays; ``layout`` their shape (``T``, ``T,N``, ``T,N,1``, ``N,T``, ``N,T,1``,
    ``time-major``, ``batch-major``; batched layouts draw N in 1..8, and the edge cases
    become 3 columns with different done patterns); ``batch_shape`` overrides the batch
    shape drawn (time-major ``T`` layout only, as before). ``output`` names what the function
    returns (``advantages``, ``returns``, or a tuple ``advantages,returns``).

    ``input_type="jax"`` calls ``jax.jit(func)`` (``jit=False``: as it is) on cases whose
    T and N are mostly those of the edge cases, so that it compiles a few times per run;
    float64 inputs run under ``jax.enable_x64(True)``. A result right at float32 precision only
    passes with a precision warning, or fails with ``strict_precision``.

    A call that runs longer than ``call_timeout`` seconds (None, 0 or inf: no limit) is stopped
    and ends the run as the counterexample. The limit is enforced with SIGALRM in the main
    thread only (elsewhere a ``RuntimeWarning`` says so) and cannot stop C code that never
    returns to Python; ``exit_if_stuck=True`` (for command-line use: it ends the process)
    then exits with status 1 after a grace period, printing where the code is stuck.
    ``progress(done, total)`` is called after each call; ``started`` (a
    ``time.perf_counter()`` value) is when the run began for the reported time (the CLI
    passes the time before it imported the user's module).
    """
    start = time.perf_counter()
    run_started = start if started is None else started
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype.name}")
    plan = plan_call(func, convention, input_type, args=args, layout=layout, outputs=output)
    chosen_layout = layout_for(plan.layout)
    if call_timeout is not None and not call_timeout >= 0:
        raise ValueError(f"call_timeout must be >= 0 seconds (or None), got {call_timeout!r}")
    if call_timeout is not None and math.isinf(call_timeout):
        call_timeout = None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    enforced, why_not = limit_enforceable()
    enforced = enforced and bool(call_timeout)
    note = ""
    if call_timeout and not enforced:
        note = f"the {call_timeout:g} s call time limit was not enforced: {why_not}"
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    notes: list[str] = []
    called = func
    jax_sizes = input_type == "jax"
    if input_type == "jax" and jit:
        called = _Jitted(func)
    warm_reference(dtype)
    total = 0
    done = 0

    def call(traj: Trajectory, label: str) -> Outcome:
        nonlocal done
        func_here = called
        if isinstance(called, _Jitted) and traj.length >= VERY_LONG:
            # jax.jit unrolls a Python loop: compiling 1100 steps takes many minutes, run
            # as it is the loop takes a second (and a lax.scan compiles once either way)
            func_here = called.func
        outcome = run_case(
            func_here, plan, traj, label, call_timeout, exit_if_stuck, strict_precision
        )
        done += 1
        if progress is not None:
            try:
                progress(done, total)
            except Exception as error:  # a display problem must never change the verdict
                disable_progress(error)
        return outcome

    def disable_progress(error: Exception) -> None:
        nonlocal progress
        progress = None
        notes.append(f"progress display stopped: {type(error).__name__}: {error}")

    edges = []
    for label, traj in edge_cases(convention, seed):
        traj = _as_dtype(traj, dtype)
        if chosen_layout.batched:
            traj = batched(traj, convention, EDGE_CASE_COLUMNS, seed)
        edges.append((label, traj))  # 1-D in the T layout, even with a batch_shape
    total = len(edges) + max_examples
    outcomes: list[Outcome] = []
    for label, traj in edges:
        outcome = call(traj, f"edge case: {label}")
        outcomes.append(outcome)
        if outcome.timed_out:  # a hanging function would cost the limit on every case
            break
    failed = [o for o in outcomes if not o.passed]
    hung = next((o for o in outcomes if o.timed_out), None)
    generated, calls = hung, 0
    rounded: list[Outcome] = []
    if batch_shape is None or batch_shape == ():
        if chosen_layout.batched:
            # up to 8 columns: code right for a micro-batch of 4 environments is caught
            sizes = (EDGE_CASE_COLUMNS,) if jax_sizes else range(1, 9)
            batch_shape = st.sampled_from([(n,) for n in sizes])
        else:
            batch_shape = ()
    # Short segments first (as QuickCheck grows its size parameter): most bugs show there,
    # and shrinking a short counterexample is cheap. Then the full length range.
    short = min(SHORT_LENGTH, max_length)
    for stage_length, stage_examples in (
        (short, max_examples // 2),
        (max_length, max_examples - max_examples // 2),
    ):
        if generated is not None or stage_examples == 0:
            continue
        lengths = None
        if jax_sizes:
            # every T up to 8 (cheap to compile), then the edge cases' lengths and 16: a
            # function right on the edge-case shapes only is still caught
            known = sorted({*range(1, SHORT_LENGTH + 1), 16, *(t.length for _, t in edges)})
            lengths = st.sampled_from([n for n in known if n <= stage_length] or [1])
        strategy = trajectories(
            convention,
            dtype=dtype,
            max_length=stage_length,
            batch_shape=batch_shape,
            lengths=lengths,
        )
        generated, stage_calls, stage_rounded = _search(call, strategy, stage_examples, seed)
        rounded += stage_rounded
        calls += stage_calls
    counterexample = generated
    if counterexample is None and failed:
        counterexample = min(failed, key=lambda o: o.traj.rewards.size)
    diagnosis = None
    closest: list[Closeness] = []
    closest_wrong = 0
    if counterexample is not None:
        _confirm_with_oracle(counterexample)
        # A hang is the verdict; a bug matching the other outputs would describe other cases.
        if not counterexample.timed_out:

            def probe(traj: Trajectory) -> Outcome:
                return call(traj, counterexample.label)

            diagnosis = diagnose_modified(counterexample, [*outcomes, counterexample])
            if diagnosis is None:
                diagnosis = diagnose_exception(counterexample, outcomes, probe)
            if diagnosis is None and strict_precision and counterexample.precision_only:
                diagnosis = _precision_diagnosis(
                    counterexample, _framework(input_type, func), plan.outputs
                )
            if diagnosis is None:
                diagnosis = diagnose([*outcomes, counterexample], convention, plan.outputs)
                if diagnosis is None or not diagnosis.exact:
                    closest, closest_wrong = closest_bugs(
                        [*outcomes, counterexample],
                        convention,
                        plan.outputs,
                        primary=None if diagnosis is None else diagnosis.bug,
                    )
                if diagnosis is not None and diagnosis.exact:
                    told = tell_apart(counterexample, diagnosis, convention, plan.outputs, probe)
                    if told is not counterexample:
                        _confirm_with_oracle(told)
                        counterexample = told
    if isinstance(called, _Jitted) and not called.traceable:
        notes.append("the function could not be traced by jax.jit: it ran un-jitted (slower)")
    precision = precision_note(
        [*outcomes, *rounded, *([counterexample] if counterexample else [])],
        _framework(input_type, func),
        plan.outputs,
    )
    if diagnosis is not None:
        diagnosis = dataclasses.replace(diagnosis, bug=diagnosis.bug.in_convention(convention))
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
        seconds=time.perf_counter() - run_started,
        call_timeout=call_timeout or None,
        call_timeout_enforced=enforced,
        call_timeout_note=note,
        plan=plan,
        dtype=dtype.name,
        precision=precision,
        strict_precision=strict_precision,
        import_seconds=0.0 if started is None else start - started,
        notes=notes,
        closest=closest,
        closest_wrong=closest_wrong,
    )


ORACLE_WINDOW = 64  # steps the SymPy closed form is evaluated on at once


def _proven_gae(traj: Trajectory, closed_form: Callable[..., np.ndarray]) -> np.ndarray:
    """The oracle's GAE of ``traj``, in windows of :data:`ORACLE_WINDOW` steps for long ones.

    Evaluating the closed form costs about T^2.7 (an 1100-step case: half a minute); by the
    proven split of the scan (theorem ``gae-scan``) A_t = S_t + Π_{t≤j<b} γλ(1 − d_j)·A_b
    for t in a window [a, b), with S the closed form on the window alone.
    """
    gamma, lam = traj.gamma, traj.lam
    if traj.length <= ORACLE_WINDOW:
        return np.asarray(closed_form(*traj.arrays, gamma=gamma, lam=lam))
    keep = gamma * lam * (1.0 - traj.done.astype(np.float64))
    out = np.empty(traj.rewards.shape, dtype=np.float64)
    carry = None
    for stop in range(traj.length, 0, -ORACLE_WINDOW):
        start = max(0, stop - ORACLE_WINDOW)
        window = (a[start:stop] for a in traj.arrays)
        part = np.asarray(closed_form(*window, gamma=gamma, lam=lam), dtype=np.float64)
        if carry is not None:
            weight = np.cumprod(keep[start:stop][::-1], axis=0)[::-1]
            part = part + weight * carry
        out[start:stop] = part
        carry = part[0]
    return out


def _confirm_with_oracle(outcome: Outcome) -> None:
    """Before blaming the function, check the expected values with the SymPy oracle.

    ``gae_sym.oracle`` evaluates the proven closed form (slow, so only on the one
    counterexample); a disagreement is a bug of this project, not of the function tested.
    """
    from gae_sym import oracle

    traj = outcome.traj
    proven = _proven_gae(traj, oracle.gae)
    # the advantages the expected outputs were made from (returns add the values to them)
    advantages = reference_outputs(traj, ("advantages",))
    tolerance = tolerance_for(traj.dtype, advantages.dtype)
    if mismatches(proven, advantages, tolerance, _scale(traj, proven)).any():
        raise RuntimeError(
            "internal error: numeric.gae and gae_sym.oracle disagree on "
            f"{traj!r}: {advantages.tolist()} vs {proven.tolist()}; please report it"
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
    dtype: np.dtype | type | str = np.float64,
    max_length: int = 64,
    batch_shape: tuple[int, ...] | Any = None,
    call_timeout: float | None = CALL_TIMEOUT,
    args: str | dict[str, str] | None = None,
    layout: str = "T",
    output: str | tuple[str, ...] = ("advantages",),
    strict_precision: bool = False,
) -> VerificationResult:
    """Assert that ``func`` computes GAE(γ, λ) in ``convention``; for use in a pytest test.

    Raises ``AssertionError`` whose message holds the shrunk counterexample (inputs,
    expected, got, first differing index) and the diagnosis; returns the result otherwise
    (with ``precision_warning`` set when it is right at float32 precision only). The
    arguments are :func:`verify`'s. Hypothesis's files go to the system's temporary folder,
    not to the current one.
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
        args=args,
        layout=layout,
        output=output,
        strict_precision=strict_precision,
        target=getattr(func, "__module__", "?") + ":" + getattr(func, "__qualname__", "?"),
    )
    if not result.passed:
        raise AssertionError(result.report())
    return result
