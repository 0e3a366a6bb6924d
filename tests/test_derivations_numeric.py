"""Numeric sanity check: both sides of every theorem agree on random instances.

An extra check, not a proof (the proofs are symbolic, for symbolic n, N and t). Each
statement is evaluated by a small independent evaluator (plain Python loops over the
SymPy tree; infinite sums truncated where the tail is below 1e-9 of the terms) on random
rewards, values and done flags, with δ computed from r and V as inside a segment.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Add, Indexed, Limit, Mul, Pow, Product, Sum, oo

import derivations
from gae_sym.estimators import gae_recursion
from gae_sym.symbols import A, N, V, delta, done, gamma, lam, n, r, t

TRUNCATION = 90  # 0.8**90 ≈ 2e-9: infinite tails are negligible at the tolerance below
LENGTH = 2 * TRUNCATION + 40


def evaluate(expr, scalars: dict, arrays: dict) -> float:
    """The value of ``expr`` with symbols from ``scalars`` and sequences from ``arrays``."""
    if expr is oo:
        return float(TRUNCATION)
    if expr.is_Number:
        return float(expr)
    if expr.is_Symbol:
        return scalars[expr]
    if isinstance(expr, Add):
        return math.fsum(evaluate(a, scalars, arrays) for a in expr.args)
    if isinstance(expr, Mul):
        return math.prod(evaluate(a, scalars, arrays) for a in expr.args)
    if isinstance(expr, Pow):
        base, exponent = evaluate(expr.base, scalars, arrays), evaluate(expr.exp, scalars, arrays)
        return 1.0 if exponent == 0 else base**exponent
    if isinstance(expr, Indexed):
        index = round(evaluate(expr.indices[0], scalars, arrays))
        return arrays[expr.base][index]
    if isinstance(expr, (Sum, Product)):
        return _loop(expr, scalars, arrays)
    raise TypeError(f"cannot evaluate {type(expr).__name__}: {expr}")


def _loop(expr, scalars, arrays) -> float:
    var, lower, upper = expr.limits[-1]
    body = expr.func(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
    lo = round(evaluate(lower, scalars, arrays))
    hi = round(evaluate(upper, scalars, arrays))
    values = [evaluate(body, {**scalars, var: i}, arrays) for i in range(lo, hi + 1)]
    return math.prod(values) if isinstance(expr, Product) else math.fsum(values)


def _arrays(seed: int, g: float, with_done: bool) -> dict:
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=LENGTH)
    values = rng.normal(size=LENGTH + 1)
    dones = (rng.random(LENGTH) < 0.3).astype(float) if with_done else np.zeros(LENGTH)
    deltas = rewards + g * values[1:] - values[:-1]
    return {r: rewards, V: values, delta: deltas, done: dones}


def _recursion_solution(scalars, arrays, start: int, steps: int) -> float:
    """A_start from A_t = δ_t + γλ(1 − d_t) A_{t+1}, A_{start+steps} = 0, run backwards."""
    following = 0.0
    for time in range(start + steps - 1, start - 1, -1):
        following = evaluate(
            gae_recursion(t).xreplace({A[t + 1]: following}),
            {**scalars, t: time},
            arrays,
        )
    return following


# This evaluator samples the trajectory symbols of the seven lecture theorems. The later
# theorems (gae-scan's affine maps and split points, the LLM-era ones with their masks and
# groups) use symbols it does not sample; the engine's own random-instance refutation
# evaluates every theorem (tests/test_redteam_kernel.py::test_every_theorem_survives_...).
LECTURE = {
    "nstep-telescoping",
    "gae-weighted-average",
    "gae-infinite",
    "gae-lambda0",
    "gae-lambda1",
    "gae-recursion",
    "lambda-return",
}
PARTS = [
    pytest.param(d, i, id=f"{d.id}-{i + 1}")
    for d in derivations.ALL
    if d.id in LECTURE
    for i in range(len(d.proofs))
]


@pytest.mark.parametrize(("derivation", "part"), PARTS)
@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    g=st.floats(0.0, 0.8),
    lam_value=st.floats(0.0, 0.8),
    steps=st.integers(1, 6),
    start=st.integers(0, 5),
)
def test_both_sides_agree(derivation, part, seed, g, lam_value, steps, start):
    statement = derivation.proofs[part].statement
    scalars = {gamma: g, lam: lam_value, n: steps, N: steps, t: start}
    scalars.update({symbol: float(value) for symbol, value in statement.at.items()})
    arrays = _arrays(seed, g, with_done=derivation.id == "gae-recursion")
    left = evaluate(statement.lhs, scalars, arrays)
    if statement.rhs == A[t]:
        right = _recursion_solution(scalars, arrays, start, steps)
    else:
        right = evaluate(statement.rhs, scalars, arrays)
    assert left == pytest.approx(right, rel=1e-7, abs=1e-7)


def test_evaluator_catches_a_false_identity():
    # the oracle is not vacuous: γ^{n−1} in place of γ^n in the telescoped form differs
    statement = derivations.get("nstep-telescoping").proofs[0].statement
    scalars = {gamma: 0.5, lam: 0.3, n: 3, N: 3, t: 2}
    arrays = _arrays(1, 0.5, with_done=False)
    wrong = statement.rhs.subs(gamma**n, gamma ** (n - 1))
    assert evaluate(statement.lhs, scalars, arrays) == pytest.approx(
        evaluate(statement.rhs, scalars, arrays)
    )
    assert evaluate(wrong, scalars, arrays) != pytest.approx(
        evaluate(statement.lhs, scalars, arrays)
    )


def test_no_limit_objects_in_statements():
    for derivation in derivations.ALL:
        for proof in derivation.proofs:
            assert not proof.statement.lhs.has(Limit) and not proof.statement.rhs.has(Limit)
