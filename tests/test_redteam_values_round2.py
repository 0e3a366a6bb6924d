"""Red team, round 2: facts about sequence values and the skip-masked scan's recursions.

Attacks through the public proof API only (Proof, Statement, Step, the rules, Assumption
with values=/ranges=, the standard assumptions). A hole — a false statement proved, a true
one refused with a wrong reason, or a lying kernel the refutation no longer catches — is
a test that was marked ``xfail(strict=True, reason="hole: ...")`` until the kernel was
fixed; all 14 are closed now (docs/guide/proof-kernel.md lists them) and every attack
here is refused, each test asserting the reason.

Not repeated from ``tests/test_redteam_values.py``: a gap one token short, a bound index
named like the gap length, impostor masks, exact numbers and integer bounds, a range and
a values fact on one sequence, substitution / induction / lemmas carrying a fact, the
wrong recursion, a lying kernel caught.
"""

from __future__ import annotations

import pytest
from sympy import (
    Add,
    IndexedBase,
    Limit,
    Mul,
    Pow,
    Product,
    Rational,
    S,
    Sum,
    Symbol,
    oo,
)

import gae_sym.proof.refute as refute
import gae_sym.proof.rules as rules
from derivations import token_gae_masked as masked
from gae_sym.estimators import td_error
from gae_sym.masked_scan import (
    skip_advantage_closed_form,
    skip_advantage_recursion,
    skip_value_closed_form,
    skip_value_recursion,
)
from gae_sym.proof import (
    ApplyTheorem,
    Assumption,
    GeometricSeries,
    Interval,
    PartialSums,
    Proof,
    SolveRecursion,
    Statement,
    Step,
    Substitute,
    TakeLimit,
    Unfold,
    UseValues,
)
from gae_sym.proof.kernel import canonical, fresh_bound
from gae_sym.symbols import N, U, V, V_next, W, delta, done, gamma, j, k, l, lam, mask, n, r, t

g = masked.g


def _facts(*values, **more) -> Assumption:
    return Assumption("attack-facts", "the attacker's facts", "x", values=tuple(values), **more)


def _check(proof: Proof, known=None):
    return proof.check(refresh=True, known=known or {})


def _use(statement: Statement, assumptions, base=mask) -> Proof:
    """One step: the right side, by use-values on ``base``."""
    return Proof(
        "attack", statement, [Step(statement.rhs, "use values", UseValues(base))], assumptions
    )


# --- holes --------------------------------------------------------------------------------

# x_t declared a positive integer (0^{x_t} = 0 by SymPy's own construction) and y_t an
# integer ((-1)^{2 y_t} = 1), with values facts that contradict the declarations.
_POSITIVE = IndexedBase("x", integer=True, positive=True)
_INTEGER = IndexedBase("y", integer=True)
_DECLARATION_CASES = [
    pytest.param(_POSITIVE, S.Zero, Pow(0, _POSITIVE[t], evaluate=False), S.One, id="0^x=1"),
    pytest.param(
        _INTEGER,
        Rational(1, 2),
        Mul(Pow(-1, 2 * _INTEGER[t], evaluate=False), r[0], evaluate=False),
        -r[0],
        id="(-1)^(2y)r=-r",
    ),
]


@pytest.mark.parametrize("base, value, lhs, rhs", _DECLARATION_CASES)
def test_the_false_statements_of_the_declaration_hole_are_false_for_the_kernel(
    base, value, lhs, rhs
):
    # What makes the next test a hole: by the kernel's own canonical form the two sides
    # differ (0 vs 1; r_0 vs -r_0) for every sequence the declaration allows.
    assert canonical(lhs) != canonical(rhs)
    assert canonical(lhs) in (S.Zero, r[0])


@pytest.mark.parametrize("base, value, lhs, rhs", _DECLARATION_CASES)
def test_a_value_outside_the_sequences_declared_domain_is_refused(base, value, lhs, rhs):
    proof = _use(Statement(lhs, rhs), [_facts((base, t, t, value))], base)
    assert _check(proof) is not None


def test_a_range_fact_on_a_flag_is_refused():
    flag_is_two = Assumption("attack-facts", "x", "x", ranges=((done[t], Interval(S(2), S(2))),))
    lhs = Sum(done[t] ** k, (k, 0, n - 1))
    rhs = (1 - done[t] ** n) / (1 - done[t])
    proof = Proof(
        "x", Statement(lhs, rhs), [Step(rhs, "geometric", GeometricSeries(k))], [flag_is_two]
    )
    assert _check(proof) is not None


def test_a_range_fact_with_symbolic_ends_is_refused_with_a_reason():
    contradiction = _facts((mask, 1, g, 0), ranges=((g, Interval(g + 1, oo)),))
    failed = _check(_use(Statement(mask[1], S.Zero), [contradiction]))  # no TypeError
    assert failed is not None


_I = Symbol("i", integer=True)  # a bound index with no sign of its own
_KARR_ZERO_POWERS = Sum(
    0 ** (_I + 1), (_I, 0, Symbol("g", integer=True) * Symbol("h", integer=True) - 2)
)


def test_the_karr_sum_of_the_contradiction_holes_is_minus_one_on_a_reversed_range():
    # Σ_{i=0}^{-2} 0^{i+1} = -Σ_{i=-1}^{-1} 0^{i+1} = -0^0 = -1 (Karr): the sum is 0 only
    # when its range is not reversed.
    assert -Sum(0 ** (_I + 1), (_I, -1, -1)).doit() == -1
    xg, xh = sorted(_KARR_ZERO_POWERS.free_symbols, key=str)
    assert _KARR_ZERO_POWERS.subs({xg: 0, xh: 7}).limits[0][2] == -2


def test_facts_contradicting_each_other_across_keys_are_refused():
    xg, xh = sorted(_KARR_ZERO_POWERS.free_symbols, key=str)
    both = Assumption(
        "attack-facts",
        "x",
        "x",
        ranges=((xg, Interval(S.Zero, S.Zero)), (xg * xh, Interval(S(5), S(5)))),
    )
    failed = _check(Proof("x", Statement(_KARR_ZERO_POWERS, S.Zero), [], [both]))
    assert failed is not None and "contradict" in failed[1]


def test_the_product_fact_alone_is_refused_conservatively():
    # g*h = 5 alone is satisfiable (g = 1, h = 5 make the range 0..3, where 0^{i+1} = 0),
    # but no random draw meets it, and a proof under facts no instance meets is refused
    # as possibly vacuous (docs/guide/proof-kernel.md): conservative, and said so.
    xg, xh = sorted(_KARR_ZERO_POWERS.free_symbols, key=str)
    product = Assumption("attack-facts", "x", "x", ranges=((xg * xh, Interval(S(5), S(5))),))
    failed = _check(Proof("x", Statement(_KARR_ZERO_POWERS, S.Zero), [], [product]))
    assert failed is not None and "no instance satisfies the facts" in failed[1]


def test_a_symbolic_end_on_a_free_element_is_refused():
    x = IndexedBase("x", integer=True, nonnegative=True)
    ahead = Assumption("attack-facts", "x", "x", ranges=((x[0], Interval(x[0] + 5, oo)),))
    lhs = Sum(0 ** (_I + 1), (_I, 0, x[0] - 5))
    failed = _check(Proof("x", Statement(lhs, S.Zero), [], [ahead]))
    assert failed is not None


def test_delta_at_a_reward_known_to_be_zero_is_proved():
    no_reward = _facts((r, t, t, 0))
    rhs = gamma * V[t + 1] - V[t]
    proof = Proof(
        "x",
        Statement(delta[t], rhs),
        [
            Step(td_error(t), "unfold delta", Unfold(delta, td_error)),
            Step(rhs, "r_t = 0", UseValues(r)),
        ],
        [no_reward, "segment"],
    )
    assert _check(proof) is None


def _zeroing_everywhere(expr, base, facts):
    copy = fresh_bound(expr)
    return copy.replace(lambda node: getattr(node, "base", None) == base, lambda node: S.Zero), 1


def test_a_lying_use_values_is_caught_when_the_instances_can_satisfy_the_facts(monkeypatch):
    monkeypatch.setattr(rules, "use_values", _zeroing_everywhere)
    fact = _facts((mask, t + 1, t + g, 0))
    lhs = Sum(mask[t + 1 + l] * V[t + 1 + l], (l, 0, g))  # one past the gap
    failed = _check(_use(Statement(lhs, S.Zero), [fact]))
    assert failed is not None and "engine bug" in failed[1]


def test_a_lying_use_values_is_caught_whatever_range_the_facts_give(monkeypatch):
    monkeypatch.setattr(rules, "use_values", _zeroing_everywhere)
    fact = _facts((mask, t + 1, t + g, 0), ranges=((g, Interval(S(9), oo)),))
    lhs = Sum(mask[t + 1 + l] * V[t + 1 + l], (l, 0, g))
    before = refute.COMPARED[0]
    failed = _check(_use(Statement(lhs, S.Zero), [fact]))
    assert refute.COMPARED[0] > before
    assert failed is not None and "engine bug" in failed[1]


# --- values facts: refused where they could be vacuous or misread -------------------------


@pytest.mark.parametrize(
    "values, reason",
    [
        # empty for g = 0 only: for g >= 1 the two facts give m_t two values
        (((mask, t, t + g - 1, 0), (mask, t, t, 1)), "not shown to be about different"),
        # equal values may overlap; a third fact that differs must be apart from both
        (((mask, t, t + 5, 0), (mask, t + 2, t + 9, 0), (mask, t + 9, t + 9, 1)), "not shown"),
        (((V_next, t, t, 0),), "fixed by a definition"),
        (((IndexedBase("W"), t, t, 0),), "not the project's sequence"),
        (((IndexedBase("delta", real=True, positive=True), t, t, 0),), "not the project's"),
        (((mask, t, t + Product(2, (j, 1, g)), 0),), "not an integer expression"),
        (((mask, t, oo, 0),), "only exact finite numbers"),
        (((mask, Symbol("s"), t, 0),), "not an integer expression"),
        (((mask[t], t, t, 0),), "must be about a sequence"),
    ],
)
def test_values_facts_that_could_be_vacuous_or_misread_are_refused(values, reason):
    failed = _check(Proof("x", Statement(mask[t], mask[t]), [], [_facts(*values)]))
    assert failed is not None and reason in failed[1], failed


def test_equal_values_on_overlapping_ranges_are_consistent_and_used():
    overlapping = _facts((mask, t, t + 5, 0), (mask, t + 2, t + 9, 0))
    lhs = Sum(mask[t + 6 + l], (l, 0, 3))  # t+6 .. t+9: inside the second fact only
    assert _check(_use(Statement(lhs, S.Zero), [overlapping])) is None


@pytest.mark.parametrize(
    "fact, lhs",
    [
        # reversed for every g >= 0: says nothing about m_t
        ((mask, t + g + 1, t, 0), mask[t]),
        # a gap of negative length is empty
        ((mask, t + 1, t + Symbol("gn", integer=True, negative=True), 0), mask[t + 1]),
        # the bound l of the fact is the free l, not the sum's
        ((mask, t + 1, t + l, 0), Sum(mask[t + 1 + l], (l, 0, g - 1))),
        # a Karr-reversed sum (g = 0: l runs over -1 .. -1 with a minus sign)
        ((mask, t + 1, t + 4, 0), Sum(mask[t + 1 + l], (l, 0, g - 2))),
        # inside a product over a range that may start before the gap
        ((mask, t + 1, t + g, 0), Product(1 - mask[t + j], (j, 0, g - 1))),
    ],
)
def test_use_values_refuses_an_index_not_proved_inside(fact, lhs):
    failed = _check(_use(Statement(lhs, S.Zero if not lhs.has(Product) else S.One), [_facts(fact)]))
    assert failed is not None and "shown to lie in a range" in failed[1], failed


M = Symbol("M", integer=True, positive=True)
_BOUNDED_MASK = Assumption("bounded-mask", "the mask is bounded", "x", bounded=("m",))


def test_a_limit_variable_named_like_a_fact_bound_is_not_read_as_it():
    # m_u = 0 for 1 <= u <= M (free M); inside lim_{M -> oo} the bound M runs to infinity
    fact = _facts((mask, 1, M, 0))
    lhs = Limit(Sum(gamma**l * mask[l], (l, 1, M)), M, oo)
    failed = _check(_use(Statement(lhs, S.Zero), [fact, _BOUNDED_MASK, "gamma-lt-1"]))
    assert failed is not None and "shown to lie in a range" in failed[1]


def test_partial_sums_with_the_limit_variable_of_a_fact_bound_give_nothing():
    fact = _facts((mask, 1, M, 0))
    series = Sum(gamma**l * mask[l], (l, 1, oo))
    partial = Limit(Sum(gamma**l * mask[l], (l, 1, M - 1)), M, oo)
    proof = Proof(
        "x",
        Statement(series, S.Zero),
        [Step(partial, "partial sums", PartialSums(M)), Step(S.Zero, "m = 0", UseValues(mask))],
        [fact, _BOUNDED_MASK, "gamma-lt-1"],
    )
    failed = _check(proof)
    assert failed == (2, failed[1]) and "shown to lie in a range" in failed[1]


def test_take_limit_leaves_a_series_the_fact_about_free_m_does_not_cover():
    fact = _facts((mask, 1, M, 0))
    limit = Limit(Sum(gamma**l * mask[l], (l, 1, M)), M, oo)
    series = Sum(gamma**l * mask[l], (l, 1, oo))
    proof = Proof(
        "x",
        Statement(limit, S.Zero),
        [Step(series, "take the limit", TakeLimit()), Step(S.Zero, "m = 0", UseValues(mask))],
        [fact, _BOUNDED_MASK, "gamma-lt-1"],
    )
    failed = _check(proof)
    assert failed is not None and failed[0] == 2 and "shown to lie in a range" in failed[1]


def test_a_symbolic_substitution_lands_only_where_the_fact_holds():
    fact = _facts((mask, t + 1, t + g, 0))
    kk = Symbol("kk", integer=True)
    outside = Proof(
        "x",
        Statement(mask[kk], S.Zero, at={kk: t + g + 1}),
        [
            Step(mask[t + g + 1], "kk = t + g + 1", Substitute({kk: t + g + 1})),
            Step(S.Zero, "m = 0", UseValues(mask)),
        ],
        [fact],
    )
    failed = _check(outside)
    assert failed is not None and failed[0] == 2 and "shown to lie in a range" in failed[1]
    # at t + g with g >= 1 it does hold: the control
    g1 = Symbol("g1", integer=True, positive=True)
    inside = Proof(
        "x",
        Statement(mask[kk], S.Zero, at={kk: t + g1}),
        [
            Step(mask[t + g1], "kk = t + g1", Substitute({kk: t + g1})),
            Step(S.Zero, "m = 0", UseValues(mask)),
        ],
        [_facts((mask, t + 1, t + g1, 0))],
    )
    assert _check(inside) is None


# --- the skip-scan recursions: closed forms that cheat ------------------------------------


def _value_chain_with(closed_form):
    steps = list(masked.VALUE_CLOSED_FORM.steps)
    steps[-1] = Step(W[t], "solve", SolveRecursion(W, skip_value_recursion, closed_form, t, N))
    return Proof("x", masked.VALUE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1"])


def test_a_closed_form_that_ends_at_another_symbol_is_refused():
    end = Symbol("e", integer=True)

    def to_end(time, left):  # runs to a fixed end e instead of time + left
        passes = Product(1 - mask[time + j], (j, 0, l - 1))
        return Sum(mask[time + l] * V[time + l] * passes, (l, 0, end - time - 1))

    failed = _check(_value_chain_with(to_end))
    assert failed is not None and "does not start from the closed form" in failed[1]


def test_a_closed_form_that_reads_t_through_an_equal_symbol_is_refused():
    same_t = Symbol("t", integer=True)  # == gae_sym.symbols.t

    def via_t(time, left):
        return skip_value_closed_form(time, same_t + left - time)

    failed = _check(_value_chain_with(via_t))
    assert failed is not None and "mentions t or N itself" in failed[1]


def test_a_closed_form_made_of_w_itself_is_refused():
    def itself(time, left):
        return W[time] * left  # 0 with no steps left

    proof = Proof(
        "x",
        Statement(W[t] * N, W[t]),
        [Step(W[t], "solve", SolveRecursion(W, skip_value_recursion, itself, t, N))],
        ["skip-scan", "horizon-ge-1"],
    )
    failed = _check(proof)
    assert failed is not None and "not the recursion applied to the closed form" in failed[1]


def test_u_closed_form_reading_w_one_position_late_is_refused():
    def late(time, left):
        at = time + l
        weight = Product(1 - mask[time + j] + gamma * lam * mask[time + j], (j, 0, l - 1))
        return Sum(mask[at] * (r[at] + gamma * W[at + 2] - V[at]) * weight, (l, 0, left - 1))

    steps = list(masked.ADVANTAGE_CLOSED_FORM.steps)
    steps[-1] = Step(U[t], "solve", SolveRecursion(U, skip_advantage_recursion, late, t, N))
    proof = Proof("x", masked.ADVANTAGE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1"])
    failed = _check(proof)
    assert failed is not None and "does not start from the closed form" in failed[1]


def test_solve_recursion_for_u_refuses_a_fact_about_t():
    pinned = Assumption("attack-facts", "x", "x", ranges=((t, Interval(S.Zero, S.Zero)),))
    steps = list(masked.ADVANTAGE_CLOSED_FORM.steps)
    proof = Proof(
        "x",
        masked.ADVANTAGE_CLOSED_FORM.statement,
        steps,
        ["skip-scan", "horizon-ge-1", pinned],
    )
    failed = _check(proof)
    assert failed is not None and "restricts t" in failed[1]


def test_solve_recursion_for_w_refuses_a_horizon_fact_stronger_than_n_ge_1():
    long = Assumption("attack-facts", "x", "x", ranges=((N, Interval(S(3), oo)),))
    proof = Proof(
        "x",
        masked.VALUE_CLOSED_FORM.statement,
        list(masked.VALUE_CLOSED_FORM.steps),
        ["skip-scan", long],
    )
    failed = _check(proof)
    assert failed is not None and "restricts N" in failed[1]


@pytest.mark.parametrize(
    "instance, moved",
    [({t: t + 1, N: N - 1}, "N"), ({t: t + 1}, "t"), ({gamma: 0}, "gamma")],
)
def test_the_scans_closed_forms_are_cited_only_where_they_were_proved(instance, moved):
    lemma = masked.ADVANTAGE_CLOSED_FORM
    lhs = skip_advantage_closed_form(t + 1, N - 1) if t in instance else lemma.statement.lhs
    proof = Proof(
        "x",
        Statement(lhs, U[t + 1] if t in instance else U[t]),
        [Step(U[t + 1] if t in instance else U[t], "cite", ApplyTheorem(lemma, instance))],
        ["skip-scan", "horizon-ge-1"],
    )
    failed = _check(proof)
    assert failed is not None and f"defined with {moved}" in failed[1], failed


def test_w_at_a_shifted_end_cannot_be_read_from_a_values_lemma():
    # the end lemma (W_{t+1} = 0 after the last response token) is proved under values
    # facts: citing it, even with the same facts in force, is refused
    lemma = masked.END_VALUE
    proof = Proof(
        "x",
        Statement(lemma.statement.lhs, S.Zero),
        [Step(S.Zero, "cite", ApplyTheorem(lemma))],
        [masked.TAIL],
    )
    failed = _check(proof, {"mask-tail": masked.TAIL})
    assert failed is not None and "proved under facts about sequence values" in failed[1]


def test_the_refutation_compares_lines_of_a_values_proof():
    before = refute.COMPARED[0]
    assert (
        masked.GAP_ADVANTAGE.check(
            refresh=True, known={a.name: a for a in masked.DERIVATION.assumptions}
        )
        is None
    )
    assert refute.COMPARED[0] > before


def test_a_statement_may_not_fix_a_symbol_of_a_values_range_without_substituting():
    fact = _facts((mask, t + 1, t + g, 0))
    lhs = Sum(mask[t + 1 + l], (l, 0, g - 1))
    proof = Proof(
        "x", Statement(lhs, S.Zero, at={g: 2}), [Step(S.Zero, "m = 0", UseValues(mask))], [fact]
    )
    failed = _check(proof)
    assert failed is not None and "specialises parameters no step substitutes" in failed[1]


def test_a_statement_about_w_may_not_fix_t():
    proof = Proof(
        "x",
        Statement(masked.VALUE_CLOSED_FORM.statement.lhs, W[t], at={t: 0}),
        list(masked.VALUE_CLOSED_FORM.steps),
        ["skip-scan", "horizon-ge-1"],
    )
    failed = _check(proof)
    assert failed is not None and "the statement fixes t" in failed[1]


def test_a_derivation_that_redefines_skip_scan_with_values_facts_gets_no_recursion():
    from gae_sym.proof import Derivation
    from gae_sym.proof.assumptions import HORIZON

    loaded = Assumption(
        "skip-scan",
        "the scan, and a mask that is 1 at t",
        "x",
        definitions=("skip-scan",),
        values=((mask, t, t, 1),),
    )
    derivation = Derivation(
        "attack",
        "x",
        "x",
        [loaded, HORIZON],
        [
            Proof(
                "x",
                masked.VALUE_CLOSED_FORM.statement,
                list(masked.VALUE_CLOSED_FORM.steps),
                ["skip-scan", "horizon-ge-1"],
            )
        ],
    )
    result = derivation.verify()
    assert result.status == "failed" and "facts about sequence values are in force" in result.why


def test_a_lying_use_values_is_caught_in_a_line_that_also_holds_the_symbol_m(monkeypatch):
    monkeypatch.setattr(rules, "use_values", _zeroing_everywhere)
    assert masked.m == mask.label  # the same SymPy symbol
    fact = _facts((mask, t + 1, t + g, 0))
    lhs = masked.m * Sum(mask[t + 1 + l] * V[t + 1 + l], (l, 0, g))
    failed = _check(_use(Statement(lhs, S.Zero), [fact]))
    assert failed is not None and "engine bug" in failed[1]


def test_non_commuting_sequence_elements_are_refused():
    z = IndexedBase("z", commutative=False)
    assert z[0] * z[1] - z[1] * z[0] != 0  # SymPy's own reading
    failed = _check(Proof("x", Statement(z[0] * z[1], z[1] * z[0]), [], []))
    assert failed is not None


def test_a_range_fact_on_v_next_under_the_segment_assumption_is_refused():
    facts = _facts((V, t + 1, t + 1, 1), ranges=((V_next[t], Interval(S(2), S(2))),))
    lhs = Sum(V_next[t] ** k, (k, 0, n - 1))
    rhs = (1 - V_next[t] ** n) / (1 - V_next[t])
    proof = Proof(
        "x", Statement(lhs, rhs), [Step(rhs, "geometric", GeometricSeries(k))], [facts, "segment"]
    )
    assert _check(proof) is not None


def test_facts_on_an_element_and_its_one_term_sum_are_checked_together():
    x = IndexedBase("x", integer=True, nonnegative=True)
    facts = Assumption(
        "attack-facts",
        "x",
        "x",
        ranges=((x[0], Interval(S(5), S(5))), (Sum(x[j], (j, 0, 0)), Interval(S.Zero, S.Zero))),
    )
    lhs = Sum(0 ** (_I + 1), (_I, 0, x[0] - 2))
    failed = _check(Proof("x", Statement(lhs, S.Zero), [], [facts]))
    assert failed is not None and "engine bug" not in failed[1]


def _two_faced_value_form():
    """A closed form that answers m_T V_T on its first call and 0 on every later one."""
    calls = []

    def closed_form(time, left):
        calls.append(time)
        return mask[time] * V[time] if len(calls) == 1 else S.Zero

    return closed_form


def _two_faced_proof(lhs) -> Proof:
    rule = SolveRecursion(W, skip_value_recursion, _two_faced_value_form(), t, N)
    return Proof(
        "x", Statement(lhs, W[t]), [Step(W[t], "solve", rule)], ["skip-scan", "horizon-ge-1"]
    )


def test_a_closed_form_that_answers_differently_the_second_time_is_refused_by_the_kernel():
    failed = _check(_two_faced_proof(mask[t] * V[t]))
    assert failed is not None and "engine bug" not in failed[1]


def test_the_two_faced_closed_form_proves_nothing_false():
    lhs = Add(mask[t] * V[t], Mul(0, masked.m, evaluate=False), evaluate=False)
    assert _check(_two_faced_proof(lhs)) is not None
