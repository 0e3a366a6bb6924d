"""The catalogue of known bugs: its base is the proven GAE, and every mutation is a real
change that the fixed edge cases alone can see and tell apart from every other one."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numeric
from gae_sym import oracle
from gae_sym.testing import (
    CONVENTIONS,
    KNOWN_BUGS,
    edge_cases,
    known_bugs,
    reference_gae,
    trajectories,
)
from gae_sym.testing.bugs import PRECISION_MODELS, _recursion
from gae_sym.testing.runner import FLOAT32, FLOAT64, mismatches


def _args(traj):
    return (traj.rewards, traj.values, traj.next_values, traj.terminated, traj.truncated)


@settings(max_examples=25)
@given(trajectories("canonical", max_length=12, batch_shape=st.sampled_from([(), (2,)])))
def test_unmutated_recursion_is_the_proven_gae(traj):
    # The base of every mutation, the kernel used as reference and the SymPy oracle agree.
    expected = oracle.gae(*_args(traj), gamma=traj.gamma, lam=traj.lam)
    np.testing.assert_allclose(_recursion(traj), expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(reference_gae(traj), expected, rtol=1e-12, atol=1e-9)


def test_lambda_returns_mutation_is_the_lambda_return():
    _, traj = edge_cases("canonical")[-1]
    bug = next(b for b in KNOWN_BUGS if b.name == "lambda-returns-instead-of-advantages")
    expected = numeric.lambda_return(*_args(traj), gamma=traj.gamma, lam=traj.lam)
    np.testing.assert_allclose(bug.compute(traj), expected, rtol=1e-12)


def _differs(a, b, traj, tolerance=None):
    if tolerance is None:
        tolerance = FLOAT32 if np.float32 in (a.dtype, b.dtype) else FLOAT64
    return bool(mismatches(a, b, tolerance, traj.scale() * 10).any())


@pytest.mark.parametrize("outputs", [("advantages",), ("returns",)])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_every_mutation_changes_the_result_on_the_edge_cases(convention, outputs):
    cases = [traj for _, traj in edge_cases(convention)]
    for bug in known_bugs(convention, outputs):
        assert any(_differs(bug.compute(c), reference_gae(c), c, FLOAT64) for c in cases), bug.name


@pytest.mark.parametrize("outputs", [("advantages",), ("returns",)])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_mutations_are_told_apart_by_the_edge_cases(convention, outputs):
    # Otherwise a diagnosis could name the wrong bug.
    cases = [traj for _, traj in edge_cases(convention)]
    for first, second in itertools.combinations(known_bugs(convention, outputs), 2):
        assert any(_differs(first.compute(c), second.compute(c), c) for c in cases), (
            first.name,
            second.name,
        )


def test_catalogue_covers_the_issue_list():
    names = {bug.name for bug in KNOWN_BUGS}
    assert {
        "done-mask-missing-in-bootstrap",
        "done-mask-missing-in-carry",
        "mask-read-one-step-late",
        "truncation-treated-as-termination",
        "lambda-without-gamma",
        "gamma-applied-twice",
        "lambda-returns-instead-of-advantages",
        "next-value-not-updated",
        "forward-recursion",
        # issue 18: what real code does at a time-out
        "advantage-zeroed-at-truncation",
        "timeout-bootstrap-from-current-value",
        "advantages-instead-of-returns",
    } <= names
    # precision is not logic: float32 rounding is a warning (PRECISION_MODELS), not a bug
    assert "float32-accumulation" not in names
    assert "float32-accumulation" in {m.name for m in PRECISION_MODELS}
    assert len(names) == len(KNOWN_BUGS)
    for bug in KNOWN_BUGS:
        assert bug.fix and "\n" not in bug.fix and bug.summary
