"""SymPy 1.14's silent wrong answers on the paths these proofs could take, pinned.

Each test asserts the *wrong* (or missing) answer SymPy gives today, so that an
upgrade which changes it is noticed (the test then fails and SYMPY-NOTES.md and this
file need revisiting). Next to each, a test shows that the proof engine does not go
down that path: the rule involved refuses, or the derivation takes another route.
"""

from __future__ import annotations

import pytest
from sympy import (
    IndexedBase,
    KroneckerDelta,
    Limit,
    Q,
    Sum,
    Symbol,
    limit,
    oo,
    simplify,
    sympify,
)
from sympy.concrete.expr_with_intlimits import ReorderError

import derivations
from gae_sym.estimators import gae_weighted_average, nstep_advantage
from gae_sym.proof import GeometricSeries, Proof, Statement, Step, Substitute, TakeLimit
from gae_sym.symbols import N, V, delta, gamma, l, lam, n, r, t

x = IndexedBase("x")


def test_sympy_sums_zero_power_series_to_zero():
    # True value: x[1] (the n = 1 term has 0**0 = 1). SymPy 1.14 says 0.
    assert Sum(0 ** (n - 1) * x[n], (n, 1, oo)).doit() == 0
    # True value: 1. SymPy 1.14 says 0.
    assert Sum(0 ** (n - 1), (n, 1, oo)).doit() == 0


def test_sympy_lambda_zero_in_infinite_weighted_average_is_zero():
    # So "λ = 0 gives advantage 0" would be 'proved'; the truth is δ_t.
    assert gae_weighted_average().subs(lam, 0).doit() == 0


def test_sympy_lambda_one_in_weighted_average_is_zero():
    # 0 times a series that diverges at λ = 1; the true limit is the MC advantage.
    weighted = (1 - lam) * Sum(lam ** (n - 1) * nstep_advantage(), (n, 1, oo))
    assert weighted.subs(lam, 1) == 0


def test_sympy_does_not_telescope_with_symbolic_upper_limit():
    telescoping = Sum(gamma**l * (gamma * V[t + l + 1] - V[t + l]), (l, 0, n - 1))
    evaluated = telescoping.doit()
    assert evaluated.has(Sum)
    # simplify cannot show the (true) identity either: "not proved", not "false"
    assert simplify(evaluated - (gamma**n * V[t + n] - V[t])) != 0


def test_sympy_infinite_telescoping_leaves_a_value_at_infinity():
    # Σ_{l≥0} (V_{t+l+1} − V_{t+l}) "=" V[oo] − V_t: an element at index ∞, meaningless
    # unless a named assumption says V(s_{t+N}) converges (gae-lambda1 uses TakeLimit).
    result = Sum(V[t + l + 1] - V[t + l], (l, 0, oo)).doit()
    assert result == V[oo] - V[t]


def test_take_limit_refuses_a_value_at_infinity_without_assumption():
    finite = Limit(V[t + N] - V[t], N, oo)
    # lim V(s_{t+N}) need not exist: a line holding it is refused, and V[oo] is no value
    result = _check(TakeLimit(), finite, V[oo] - V[t])
    assert result is not None and "not shown to exist" in result[1]
    result = _check(TakeLimit(), finite, -V[t], ("bounded-V",))
    assert result is not None and "vanishes" in result[1]


def test_sympy_cannot_reorder_dependent_limits():
    with pytest.raises(ReorderError):
        Sum(gamma**l * delta[t + l], (l, 0, n - 1), (n, 1, oo)).reorder((0, 1))


def test_sympy_limit_of_a_partial_sum_is_not_implemented():
    with pytest.raises(NotImplementedError):
        limit(Sum(gamma**l * r[t + l], (l, 0, N - 1)), N, oo)


def test_sympy_kronecker_coefficient_extraction_loses_a_power_of_lambda():
    # Coefficient of δ_{t+k} in (1 − λ) Σ_n λ^{n−1} Σ_{l<n} γ^l δ_{t+l}: truly (γλ)^k.
    k = Symbol("k", integer=True, nonnegative=True)
    inner = Sum(gamma**l * KroneckerDelta(l, k), (l, 0, n - 1))
    result = simplify(((1 - lam) * Sum(lam ** (n - 1) * inner, (n, 1, oo))).doit())
    # SymPy 1.14: Piecewise((gamma**k, (lambda < 1) & (k - n <= -1)), ...): the λ^k is
    # lost, and the bound variable n leaks out as a free symbol of the answer.
    assert result.args[0][0] == gamma**k
    assert n in result.free_symbols


# --- the engine does not depend on these paths ---------------------------------------


def _check(rule, previous, claimed, assumptions=()):
    at = dict(rule.values) if isinstance(rule, Substitute) else {}
    statement = Statement(previous, claimed, at=at)
    return Proof("pitfall", statement, [Step(claimed, "x", rule)], list(assumptions)).check()


def test_substitute_refuses_lambda_zero_in_the_weighted_average():
    series = ("lambda-lt-1", "bounded-delta")
    result = _check(Substitute({lam: 0}), gae_weighted_average(), 0, series)
    assert result is not None and "0**" in result[1]


def test_substitute_refuses_lambda_one_in_the_weighted_average_without_assumption():
    result = _check(Substitute({lam: 1}), gae_weighted_average(), 0)
    assert result is not None and "not shown to converge" in result[1]
    # and under λ < 1 the value λ = 1 is outside the facts in force
    result = _check(
        Substitute({lam: 1}), gae_weighted_average(), 0, ("lambda-lt-1", "bounded-delta")
    )
    assert result is not None and "breaks the fact" in result[1]


def test_geometric_series_refuses_zero_power_series():
    rule = GeometricSeries(n, assumption="lambda-lt-1", condition=Q.lt(lam, 1))
    # Σ_{n≥1} 0^{n−1} x_n = x_1: SymPy's doit() says 0. The rule needs the summand to be
    # geometric; the kernel needs x bounded before the series may stand at all.
    result = _check(rule, Sum(0 ** (n - 1) * x[n], (n, 1, oo)), 0)
    assert result is not None and "needs a bounded x" in result[1]
    # Σ_{n≥1} 0^{n−1} = 0^0 = 1: the rule's own closed form keeps the n = 1 term
    result = _check(rule, Sum(0 ** (n - 1), (n, 1, oo)), 0)
    assert result is not None and "does not give" in result[1]
    assert _check(rule, Sum(0 ** (n - 1), (n, 1, oo)), 1) is None


def test_lambda0_and_lambda1_never_substitute_into_an_infinite_weighted_average():
    for derivation_id in ("gae-lambda0", "gae-lambda1"):
        for proof in derivations.get(derivation_id).proofs:
            previous = proof.statement.lhs
            for step in proof.steps:
                if isinstance(step.rule, Substitute):
                    assert not previous.has(gae_weighted_average().args[1])
                    for value in step.rule.values.values():
                        assert sympify(value) in (0, 1)
                previous = step.expr


def test_lambda1_infinite_horizon_names_its_tail_assumption():
    derivation = derivations.get("gae-lambda1")
    infinite = derivation.proofs[1]
    assert "bounded-V" in infinite.assumption_names()
    assert derivation.verify().status == "proved"
