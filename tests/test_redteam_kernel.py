"""Red team: false statements the proof engine must refuse, each for the right reason.

Every attack goes through the public derivation API only (Proof, Statement, Step, the
rules, the standard assumptions). For each class of hole found in review (the equality
test; substitution and instantiation; parameters taken on trust; convergence) there are
several attacks, none of them the examples of the issue that reported the class, and
each asserts on the *reason* the engine gives, so an accidental exception cannot pass
for a rejection. Then a fuzzer over the rules' parameters, and the second line of
defence: a kernel made to lie is caught by the random-instance refutation.
"""

from __future__ import annotations

import random

import pytest
from sympy import (
    Dummy,
    IndexedBase,
    KroneckerDelta,
    Limit,
    Mul,
    Pow,
    Product,
    Q,
    Rational,
    S,
    Sum,
    Symbol,
    log,
    oo,
)

import derivations
from derivations.gae_infinite import PROOF as GAE_INFINITE
from derivations.nstep_telescoping import PROOF as TELESCOPING
from gae_sym.estimators import (
    gae_closed_form_flagged,
    gae_recursion,
    gae_segment,
    nstep_advantage,
    nstep_advantage_rv,
    td_error,
)
from gae_sym.proof import (
    ApplyTheorem,
    Assumption,
    Canonicalise,
    Derivation,
    GeometricSeries,
    Induction,
    Interval,
    Linearity,
    Proof,
    Rule,
    ShiftIndex,
    SolveRecursion,
    SplitFirst,
    Statement,
    Step,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
)
from gae_sym.symbols import A, N, V, delta, done, gamma, j, l, lam, n, r, t

x = IndexedBase("x", real=True)  # a sequence no assumption bounds
SERIES = ("lambda-lt-1", "bounded-delta")


def why(previous, claimed, rule, assumptions=(), at=None):
    """The engine's reason for refusing ``previous = claimed`` by ``rule`` (None: accepted)."""
    if at is None:
        at = dict(rule.values) if isinstance(rule, Substitute) else {}
    proof = Proof("attack", Statement(previous, claimed, at=at), [Step(claimed, "", rule)])
    proof.assumptions = list(assumptions)
    outcome = proof.check(refresh=True)
    return None if outcome is None else outcome[1]


def refused(previous, claimed, rule, because, assumptions=(), at=None) -> bool:
    reason = why(previous, claimed, rule, assumptions, at)
    assert reason is not None, "a false step was accepted"
    assert because in reason, reason
    return True


# --- class 1: the equality test -------------------------------------------------------------


def test_no_division_by_a_sum_that_is_zero_in_value():
    # Σ_l x_l − Σ_j x_j is 0; dividing by it (the same sum with another letter) is 0/0.
    b1 = Sum(x[t + l], (l, 0, n - 1)) - Sum(x[t + j], (j, 0, n - 1))
    b2 = Sum(x[t + j], (j, 0, n - 1)) - Sum(x[t + l], (l, 0, n - 1))
    line = Mul(-b1, Pow(b2, -1), evaluate=False)
    assert refused(S.One, line, Canonicalise(), "undefined where")


def test_no_division_by_a_parameter_that_may_be_zero():
    # λ^{n−1} = λ^n / λ fails at λ = 0, n = 1 (0^0 = 1, but 0/0 is no number)
    assert refused(lam ** (n - 1), lam**n * Pow(lam, -1), Canonicalise(), "undefined where")
    # γ^{n−2} for n ≥ 1 is not even defined at γ = 0, n = 1
    assert refused(gamma ** (n - 2), gamma ** (n - 2), Canonicalise(), "undefined where gamma")


def test_no_functions_outside_the_kernel_language():
    for line in (log(V[t] ** 2), 2 * log(V[t]), KroneckerDelta(l, n) * x[l]):
        assert refused(line, line, Canonicalise(), "does not reason about")
    # floats would make equality a matter of rounding
    assert refused(gamma * 0.5, gamma / 2, Canonicalise(), "only exact finite numbers")


def test_zero_powers_are_not_split_at_zero():
    # at λ = 0 the first term of Σ (γλ)^l δ survives: "GAE at λ = 0 is 0" is false
    finite = gae_segment()
    assert refused(finite, S.Zero, Substitute({lam: 0}), "does not give", at={lam: 0})
    # Σ_{l=0}^{n−1} 0^l x_l = x_0, not 0
    assert refused(Sum(0**l * x[l], (l, 0, n - 1)), S.Zero, Canonicalise(), "not shown to be 0")


def test_free_symbols_named_like_bound_variables_are_not_captured():
    for name in ("_i0", "y0", "_y0", "z0"):
        c = Symbol(name, integer=True, nonnegative=True)
        assert refused(
            Sum(c * x[l], (l, 0, n - 1)), Sum(l * x[l], (l, 0, n - 1)), Canonicalise(), "not"
        )


def test_karr_reversed_ranges_are_not_empty():
    # Σ_{l=0}^{-3} x_l = −(x_{−2} + x_{−1}) under SymPy's convention, not 0
    assert refused(Sum(x[l], (l, 0, -3)), S.Zero, Canonicalise(), "not shown to be 0")
    # Π_{j=0}^{n−2} f = f(0) Π_{j=1}^{n−2} f fails at n = 1 (empty product, Karr's 1/Π)
    mask = Product(1 - done[t + j], (j, 0, n - 2))
    split = (1 - done[t]) * Product(1 - done[t + j], (j, 1, n - 2))
    # (the written right side already holds a product whose range may be reversed)
    assert refused(mask, split, SplitFirst(j), "may be reversed")


# --- class 2: substitution and instantiation --------------------------------------------------


def test_substitute_stays_in_the_declared_domain_and_the_facts():
    assert refused(nstep_advantage(), S.Zero, Substitute({n: 0}), "domain n is declared on")
    negative = Symbol("u", integer=True, negative=True)
    assert refused(Sum(x[l], (l, 1, -negative)), S.Zero, Substitute({negative: 1}), "negative")
    assert refused(gae_segment(), gae_segment().subs(lam, 2), Substitute({lam: 2}), "breaks")
    half = Rational(1, 2)
    assert refused(gae_segment(), gae_segment(), Substitute({N: half}), "integer")
    assert refused(delta[t], S.Zero, Substitute({delta[t]: 0}), "only symbols", at={})


def test_apply_theorem_instance_keys_are_free_symbols_of_the_lemma():
    for key in (delta[t], gamma * lam, l):  # l is bound in the lemma
        rule = ApplyTheorem(TELESCOPING, {key: 0})
        assert refused(nstep_advantage(), nstep_advantage_rv(), rule, "not a free symbol")


def test_apply_theorem_instantiates_without_capture():
    # t → t + l inside the lemma must not capture its own bound l
    rule = ApplyTheorem(TELESCOPING, {t: t + l})
    inside = Sum(gamma**j * delta[t + l + j], (j, 0, n - 1))
    correct = nstep_advantage_rv(t + l, n, index=j)
    assert why(inside, correct, rule, ("n-ge-1", "segment")) is None
    captured = Sum(gamma**l * delta[t + l + l], (l, 0, n - 1))
    assert refused(captured, correct, rule, "does not occur", ("n-ge-1", "segment"))


def test_a_lemma_is_cited_only_under_the_facts_it_was_proved_under():
    # renaming the lemma's 'segment' away does not make its definition of δ hold
    rule = ApplyTheorem(TELESCOPING, {n: N}, renamed={"segment": "horizon-ge-1"})
    assert refused(nstep_advantage(t, N), nstep_advantage_rv(t, N), rule, "delta-segment")
    # gae-infinite needs λ < 1: bounded-delta alone gives only γλ < 1
    rule = ApplyTheorem(GAE_INFINITE, renamed={"lambda-lt-1": "bounded-delta"})
    lhs, rhs = GAE_INFINITE.statement.lhs, GAE_INFINITE.statement.rhs
    assert refused(lhs, rhs, rule, "", ("bounded-delta",))


def test_swap_and_shift_check_capture_and_integrality():
    term = gamma**l * delta[t + l]
    weird = Sum(Sum(term, (l, 0, n - 1)), (n, 1, l + 3))  # upper limit mentions l
    swapped = Sum(Sum(term, (n, l + 1, l + 3)), (l, 0, l + 2))
    # the written swap reuses l for the free l of the bound: the rule works with a fresh
    # index, so the captured line is not what it gives
    assert refused(weird, swapped, SwapTriangle(n, l), "does not give")
    k = Symbol("k", integer=True, nonnegative=True)
    honest = Sum(Sum(gamma**k * delta[t + k], (n, k + 1, l + 3)), (k, 0, l + 2))
    assert why(weird, honest, SwapTriangle(n, l)) is None
    series = Sum(gamma**l * delta[t + l], (l, 0, n - 1))
    assert refused(series, series, ShiftIndex(l, by=Rational(1, 2)), "integer")


# --- class 3: parameters taken on trust -------------------------------------------------------


def test_take_limit_proves_what_it_drops():
    finite = Limit(r[t] + V[t + N], N, oo)  # V(s_{t+N}) does not vanish
    rule = TakeLimit(vanishing=(V[t + N],), assumption="bounded-V")
    assert refused(finite, r[t], rule, "vanishes", ("gamma-lt-1",))
    grows = Limit(r[t] + N * gamma**N * x[t + N], N, oo)  # x is not bounded
    assert refused(grows, r[t], TakeLimit(vanishing=(N * gamma**N * x[t + N],)), "bounded x")


def test_geometric_series_takes_its_condition_from_the_facts():
    # |λ + γ| < 1 does not follow from λ < 1 and γ < 1
    series = Sum((lam + gamma) ** l, (l, 0, oo))
    rule = GeometricSeries(l, condition=Q.lt(lam + gamma, 1))
    assert refused(
        series, 1 / (1 - lam - gamma), rule, "not shown to converge", ("lambda-lt-1", "gamma-lt-1")
    )
    # Σ_{l<N} λ^l = N holds only at λ = 1; the closed form needs λ ≠ 1
    finite = Sum(lam**l, (l, 0, N - 1))
    assert refused(finite, N * S.One, GeometricSeries(l, condition=Q.eq(lam, 1)), "!= 1")
    # a sequence element is not geometric
    assert refused(
        Sum(lam**l * delta[t + l], (l, 0, oo)),
        1 / (1 - lam),
        GeometricSeries(l),
        "not geometric",
        SERIES,
    )


def test_solve_recursion_is_tied_to_the_project_recursion():
    unmasked = lambda time: delta[time] + gamma * lam * A[time + 1]  # noqa: E731
    rule = SolveRecursion(A, unmasked, gae_closed_form_flagged, t, N)
    assert refused(gae_closed_form_flagged(), A[t], rule, "not the project's", ("recursion",))
    # without the recursion assumption A is not defined at all
    proof = Proof("p", Statement(gae_closed_form_flagged(), A[t]), [])
    ctx = proof.context()
    assert "A-recursion" not in ctx.facts.definitions
    # a closed form that changes with its arguments is called once, at fresh symbols
    calls = []

    def shifty(time, length):
        calls.append((time, length))
        return gae_closed_form_flagged(time, length) if length == N else S.Zero

    rule = SolveRecursion(A, gae_recursion, shifty, t, N)
    assert refused(gae_closed_form_flagged(), A[t], rule, "does not start", ("recursion",))
    assert all(length != N for _, length in calls)


def test_unfold_uses_the_project_definition_whatever_was_passed():
    def two_faced(time):
        return td_error(time) if isinstance(time, Dummy) else S.Zero

    assert refused(delta[t], S.Zero, Unfold(delta, two_faced), "does not give", ("segment",))


def test_induction_covers_exactly_the_declared_domain():
    wrong = nstep_advantage_rv().subs(gamma**n, gamma ** (n - 1))
    assert refused(nstep_advantage(), wrong, Induction(n, base=1), "fails", ("segment",))
    assert refused(nstep_advantage(), nstep_advantage_rv(), Induction(n, base=0), "exactly")
    small_n = Assumption("small-n", "n at most 3", "n <= 3", ranges=((n, Interval(1, 3)),))
    proof = Proof(
        "p",
        Statement(nstep_advantage(), nstep_advantage_rv()),
        [Step(nstep_advantage_rv(), "", Induction(n, base=1))],
        [small_n],
    )
    assert "mentions n" in proof.check(refresh=True)[1]


def test_only_the_engine_rules_can_propose_a_line():
    class Anything(Rule):
        def apply(self, previous, claimed, ctx):
            return claimed

    assert refused(S.One, S.Zero, Anything(), "not one of the engine's rules")

    class Sneaky(Canonicalise):
        def apply(self, previous, claimed, ctx):
            return claimed

    assert refused(S.One, S.Zero, Sneaky(), "not one of the engine's rules")


# --- class 4: convergence ---------------------------------------------------------------------


def test_series_must_converge_absolutely_where_they_stand():
    facts = ("lambda-lt-1", "gamma-lt-1", "bounded-V")
    for series, because in (
        (Sum((1 + lam) ** (-l) * V[t + l], (l, 0, oo)), "does not grow"),
        (Sum(lam**l * x[t + l], (l, 0, oo)), "needs a bounded x"),
        (Sum(2**l * V[t + l], (l, -oo, 0)), "-oo"),
        (Sum(lam ** (-l) * V[t + l], (l, -oo, 0)), "undefined where lambda = 0"),
        (Sum(Sum(lam**l * V[t + l], (l, 0, oo)), (n, 1, oo)), "no geometric weight"),
        (Sum(2**l * lam**l * V[t + l], (l, 0, oo)), "at most one"),
    ):
        assert refused(series, series, Canonicalise(), because, facts)


def test_splitting_a_convergent_series_into_divergent_parts_is_refused():
    # Σ γ^l (x_{t+l} − x_{t+l}) converges (it is 0), Σ γ^l x_{t+l} need not
    merged = Sum(gamma**l * (r[t + l] + x[t + l]), (l, 0, oo))
    split = Sum(gamma**l * r[t + l], (l, 0, oo)) + Sum(gamma**l * x[t + l], (l, 0, oo))
    assert refused(merged, split, Linearity(), "needs a bounded x", ("gamma-lt-1",))


def test_infinite_products_and_limits_inside_series_are_refused():
    line = Product(1 - done[t + j], (j, 0, oo))
    assert refused(line, line, Canonicalise(), "infinite products")
    inside = Sum(lam**l * Limit(V[t + N], N, oo), (l, 0, oo))
    assert refused(inside, inside, Canonicalise(), "limit", ("lambda-lt-1", "bounded-V"))


def test_a_cited_lemma_brings_its_assumptions_along():
    # citing gae-infinite puts its λ < 1 and bounded δ among the citing proof's assumptions
    lhs, rhs = GAE_INFINITE.statement.lhs, GAE_INFINITE.statement.rhs
    citing = Proof("p", Statement(lhs, rhs), [Step(rhs, "", ApplyTheorem(GAE_INFINITE))])
    assert citing.check(refresh=True) is None
    assert {"lambda-lt-1", "bounded-delta"} <= set(citing.assumption_names())
    # renaming them away leaves facts the citing proof does not have: refused
    rule = ApplyTheorem(GAE_INFINITE, renamed={"lambda-lt-1": "gamma-lt-1"})
    assert refused(lhs, rhs, rule, "", ("bounded-delta",))


# --- a fuzzer over the rules' parameters ------------------------------------------------------


def _mutations(rule: Rule, rng: random.Random) -> list[Rule]:
    import dataclasses

    out = []
    fields = {f.name for f in dataclasses.fields(rule)}
    if "by" in fields:
        out += [dataclasses.replace(rule, by=rule.by + d) for d in (-1, 1, 2)]
    if "var" in fields and rule.var is not None:
        out += [dataclasses.replace(rule, var=v) for v in (l, j, n) if v != rule.var]
    if "assumption" in fields:
        out.append(dataclasses.replace(rule, assumption=None))
    if "values" in fields:
        out += [dataclasses.replace(rule, values={k: 1 - v for k, v in rule.values.items()})]
    if "instance" in fields:
        out += [
            dataclasses.replace(rule, instance={n: N + 1}),
            dataclasses.replace(rule, reverse=True),
        ]
    if "base" in fields and isinstance(getattr(rule, "base", None), int):
        out += [dataclasses.replace(rule, base=b) for b in (0, 2)]
    if "vanishing" in fields:
        out.append(dataclasses.replace(rule, vanishing=(V[t + N], r[t])))
    rng.shuffle(out)
    return out[:3]


def test_parameter_mutations_never_prove_a_false_line():
    """Mutate each step's rule parameters (and, for a third of them, the written line):
    every mutant the engine accepts must agree with the original statement numerically
    at fresh instances (the original lines are true; a mutated line that is accepted
    must be too)."""
    from gae_sym.proof.refute import first_disagreement

    rng = random.Random(11)
    accepted = refused_count = 0
    for derivation in derivations.ALL:
        declared = {a.name: a for a in derivation.assumptions}
        for proof in derivation.proofs:
            for index, step in enumerate(proof.steps):
                for mutant in _mutations(step.rule, rng):
                    expr = step.expr
                    if rng.random() < 0.33:
                        expr = expr.xreplace({gamma: gamma**2}) if expr.has(gamma) else expr + 1
                    steps = list(proof.steps)
                    steps[index] = Step(expr, step.reason, mutant)
                    candidate = Proof(proof.title, proof.statement, steps, proof.assumptions)
                    outcome = candidate.check(refresh=True, known=declared)
                    if outcome is None:
                        accepted += 1
                        # the engine already ran the refutation; run an independent one
                        ctx = candidate.context(declared)
                        assert first_disagreement(candidate, ctx) is None
                        assert expr == step.expr, "a changed line was accepted"
                    else:
                        refused_count += 1
                        assert "SymPy raised" not in outcome[1], outcome[1]
    assert refused_count > 40


# --- the second line of defence: a kernel that lies is caught ---------------------------------


def test_a_lying_kernel_is_caught_by_the_instances(monkeypatch):
    import gae_sym.proof.core as core

    monkeypatch.setattr(core, "equivalent", lambda *args, **kwargs: True)
    false_steps = [
        (gae_segment(), Sum(gamma**l * lam**l * delta[t + l], (l, 0, N)), ()),  # limit off
        (nstep_advantage(), nstep_advantage_rv().subs(gamma**n, gamma ** (n + 1)), ("segment",)),
        (Sum((gamma * lam) ** l * delta[t + l], (l, 0, oo)), delta[t], SERIES),
        (td_error(), r[t] - V[t], ("segment",)),
    ]
    for previous, claimed, assumptions in false_steps:
        reason = why(previous, claimed, Canonicalise(), assumptions)
        assert reason is not None, (previous, claimed)
        assert reason.startswith("internal error: rule canonicalise accepted a step that is false")
        assert "engine bug" in reason and " = " in reason  # names the instance
    # and the true steps still pass with the lying kernel: instances only refute
    assert why(nstep_advantage(), nstep_advantage_rv(), Canonicalise(), ("segment",)) is None


def test_the_instances_see_the_definitions_in_force(monkeypatch):
    import gae_sym.proof.core as core

    monkeypatch.setattr(core, "equivalent", lambda *args, **kwargs: True)
    # δ_t = r_t + γV_{t+1} − V_t only inside a segment: without it the flagged δ is used
    reason = why(delta[t], td_error(), Canonicalise(), ())
    assert reason is not None and reason.startswith("internal error")
    assert why(delta[t], td_error(), Canonicalise(), ("segment",)) is None


@pytest.mark.parametrize("derivation", derivations.ALL, ids=lambda d: d.id)
def test_every_theorem_survives_its_instances(derivation):
    from gae_sym.proof import refute

    declared = {a.name: a for a in derivation.assumptions}
    before = refute.COMPARED[0]
    for proof in derivation.proofs:
        assert refute.first_disagreement(proof, proof.context(declared)) is None
    # the instances really were evaluated: a silent skip would refute nothing
    assert refute.COMPARED[0] - before >= sum(len(p.steps) for p in derivation.proofs)


def test_the_derivations_state_only_facts_they_use():
    assert derivations.get("gae-weighted-average").assumptions[0].name == "horizon-ge-1"
    assert [a.name for a in derivations.get("gae-infinite").assumptions] == [
        "lambda-lt-1",
        "bounded-delta",
    ]
    assert Derivation  # the public API stays importable


def test_split_at_splits_sums_anywhere_and_products_only_inside_their_range():
    from gae_sym.proof import SplitAt

    m = Symbol("m", integer=True, nonnegative=True)
    whole = Sum(x[l], (l, 0, n - 1))
    parts = Sum(x[l], (l, 0, m - 1)) + Sum(x[l], (l, m, n - 1))
    assert why(whole, parts, SplitAt(l, at=m)) is None  # Karr: additive for any m
    assert refused(whole, parts, SplitAt(l, at=S.Half), "integer")
    # at=l names the free symbol l, not the summation index (renamed fresh): no capture
    assert refused(whole, parts, SplitAt(l, at=l), "does not give")
    mask = Product(1 - done[t + j], (j, 0, n - 1))
    split = Product(1 - done[t + j], (j, 0, m - 1)) * Product(1 - done[t + j], (j, m, n - 1))
    # m may exceed n: Π_{j=m}^{n−1} is then Karr's 1/Π, wrong where a flag is 1
    assert refused(mask, split, SplitAt(j, at=m), "may be reversed")
    wrong = Sum(x[l], (l, 0, m - 1)) + Sum(x[l], (l, m + 1, n - 1))
    assert refused(whole, wrong, SplitAt(l, at=m), "does not give")


def test_contradictory_assumptions_prove_nothing():
    # λ ∈ [2, 3] against the convention λ ∈ [0, 1]: from that, anything would follow
    impossible = Assumption("big-lambda", "λ large", "λ ≥ 2", ranges=((lam, Interval(2, 3)),))
    proof = Proof("p", Statement(S.One, S.Zero), [Step(S.Zero, "", Canonicalise())], [impossible])
    assert "contradict each other" in proof.check(refresh=True)[1]


def test_indices_must_be_plain_integer_symbols():
    from sympy import Idx

    i = Idx("i", (0, 3))
    line = Sum(x[i], (i, 0, 3))
    assert refused(line, line, Canonicalise(), "Idx, which the kernel does not reason about")


def test_a_theorem_about_A_holds_only_where_A_ends_its_segment():
    # gae-recursion proves F(t, N) = A_t for A's segment ending at t + N: not at t + 1, and
    # not for another N (A depends on both through its definition, invisibly)
    from derivations.gae_recursion import PROOF as RECURSION

    closed = gae_closed_form_flagged
    facts = ("recursion", "horizon-ge-1")
    both = Sum(closed(t, N), (t, t, t + 1)) * x[0]
    assert refused(
        both, Sum(A[t], (t, t, t + 1)) * x[0], ApplyTheorem(RECURSION), "defined with t", facts
    )
    other_length = ApplyTheorem(RECURSION, {N: 1})
    assert refused(closed(t, 1), A[t], other_length, "defined with N", facts)
    # and δ depends on γ: no substitution or instance may give γ a value under δ
    assert refused(
        gamma * delta[t], delta[t], Substitute({gamma: 1}), "through its definition", ("segment",)
    )


def test_a_mutated_lemma_is_checked_again():
    lemma = Proof("x0 = x0", Statement(x[0], x[0]), [])
    citing = Proof("uses it", Statement(x[0], x[0]), [Step(x[0], "", ApplyTheorem(lemma))])
    assert citing.check() is None
    lemma.statement = Statement(x[0], 2 * x[0])
    later = Proof("x0 = 2 x0", Statement(x[0], 2 * x[0]), [Step(2 * x[0], "", ApplyTheorem(lemma))])
    assert "is not proved" in later.check()[1]


def test_sums_run_towards_plus_infinity_only():
    y = Symbol("y", integer=True)
    for line in (Sum(1, (y, 0, -oo)), Sum(1, (y, oo, 3))):
        assert refused(line, line, Canonicalise(), "wrong infinity")


def test_bound_variables_are_not_captured_by_the_canonical_shift():
    u, y = Symbol("u", integer=True), Symbol("y", integer=True)
    lhs = x[0] * Sum(Sum(y, (u, 0, 1)), (y, u, u + N))  # the bounds use the free u
    rhs = x[0] * Sum(2 * y + 1, (y, 0, N))
    assert refused(lhs, rhs, Canonicalise(), "not shown to be 0")


def test_the_instances_read_any_sequence_at_any_index(monkeypatch):
    import gae_sym.proof.core as core

    monkeypatch.setattr(core, "equivalent", lambda *args, **kwargs: True)
    # a sequence no definition knows, far indices: still evaluated, still refuted
    assert why(x[0], 2 * x[0], Canonicalise()).startswith("internal error")
    far = t + 1000
    reason = why(delta[far], r[far] - V[far], Canonicalise(), ("segment",))
    assert reason.startswith("internal error")


def test_a_statement_may_not_fix_a_parameter_its_sequences_depend_on():
    # "δ_t = r_t + V_{t+1} − V_t at γ = 1" would be cited for every γ: δ hides its γ
    lemma = Proof(
        "p",
        Statement(delta[t], r[t] + V[t + 1] - V[t], at={gamma: 1}),
        [
            Step(td_error(t), "", Unfold(delta, td_error)),
            Step(r[t] + V[t + 1] - V[t], "", Substitute({gamma: 1})),
        ],
        ["segment"],
    )
    assert "through its definition" in lemma.check(refresh=True)[1]


def test_facts_are_about_symbols_or_one_free_sequence():
    ones = Sum(1, (l, 0, N))  # = N + 1: a fact that it is at most 1/2 is false for every N
    tiny = Assumption("tiny", "", "", ranges=((ones, Interval(0, Rational(1, 2))),))
    proof = Proof("p", Statement(S.One, S.One), [], [tiny])
    assert "may only be about symbols" in proof.check(refresh=True)[1]
    apart = Assumption("apart", "", "", ranges=((gamma - lam, Interval(Rational(1, 2), 1)),))
    proof = Proof("p", Statement(S.One, S.One), [], [apart])
    assert "may only be about symbols" in proof.check(refresh=True)[1]
    w = IndexedBase("w", real=True)
    positive = Assumption(
        "w-positive", "", "", ranges=((Sum(w[l], (l, 0, N - 1)), Interval(0, oo, True, True)),)
    )
    assert Proof("p", Statement(S.One, S.One), [], [positive]).check(refresh=True) is None


def test_a_limit_must_have_a_finite_value():
    m = Symbol("M", integer=True, positive=True)
    partial = Limit(Sum(S.One, (l, 0, m - 1)), m, oo)  # lim M = ∞
    assert refused(partial, partial, Canonicalise(), "not shown to exist")


def test_cached_outcomes_keep_their_assumptions_alive():
    segment = Assumption("segment", "", "", definitions=("delta-segment",))
    lemma = Proof(
        "p", Statement(delta[t], td_error(t)), [Step(td_error(t), "", Unfold(delta, td_error))]
    )
    assert lemma.check(known={"segment": segment}) is None
    entry = next(iter(lemma._outcomes.values()))
    assert segment in entry[2]  # its id cannot be reused by another object while cached


def test_second_round_induction_symbols_products_recursion_facts_and_limits():
    # induction on a symbol declared even: base n = 1 is not even
    even = Symbol("n", integer=True, positive=True, even=True)
    assert refused(S.One, S.One, Induction(even, base=1), "nothing more")
    # a product over a possibly reversed range is Karr's quotient: refused
    u = Symbol("u", real=True)
    y = Symbol("y", integer=True)
    reversed_product = Product(y + u, (y, 1, -1))
    assert refused(reversed_product, reversed_product, Canonicalise(), "may be reversed")
    # SolveRecursion under a fact about N: the induction on N would use N ≥ 2 at N = 1
    big = Assumption("N-ge-2", "", "", ranges=((N, Interval(2, oo)),))
    rule = SolveRecursion(A, gae_recursion, gae_closed_form_flagged, t, N)
    proof = Proof(
        "p",
        Statement(gae_closed_form_flagged(), A[t]),
        [Step(A[t], "", rule)],
        ["recursion", big],
    )
    assert "restricts N" in proof.check(refresh=True)[1]
    # δ is bounded only when V' is too (the flagged definition reads V(s'_t))
    rv = Assumption("rV", "", "", bounded=("r", "V"), ratios=(gamma * lam,))
    series = Sum((gamma * lam) ** l * delta[l], (l, 0, oo))
    assert refused(series, series, Canonicalise(), "needs a bounded delta", (rv,))
    # (q^y)^k with k ≥ 0 may be (q^y)^0 = 1: no decay
    k = Symbol("k", integer=True, nonnegative=True)
    q = Symbol("q", nonnegative=True)
    small = Assumption("q-small", "", "", ranges=((q, Interval(0, Rational(1, 2))),))
    powered = Sum((q**y) ** k, (y, 0, oo))
    assert refused(powered, powered, Canonicalise(), "does not grow", (small,))
    # a fact about a free M says nothing of the M bound by a limit; no negative limits
    m = Symbol("M", integer=True, positive=True)
    few = Assumption("M-small", "", "", ranges=((m, Interval(1, 3)),))
    limit = Limit(Sum(0 ** ((y + 1) ** 2), (y, 0, 3 - m)), m, oo)
    assert refused(limit, S.Zero, TakeLimit(), "not shown to exist", (few,))
    negative = Symbol("M", integer=True, negative=True)
    backwards = Limit(x[0] + 0 * negative, negative, oo)
    assert refused(backwards, x[0], TakeLimit(), "only limits of integers")


def test_third_round_impostors_declared_signs_and_closed_forms_with_t_or_N():
    # someone's IndexedBase("delta") is not the project's δ: not bounded by r, V, V'
    impostor = IndexedBase("delta")
    series = Sum((gamma * lam) ** l * impostor[l], (l, 0, oo))
    assert refused(series, series, Canonicalise(), "needs a bounded delta", ("bounded-r-V",))
    # a bound index declared positive may still run over 0: (p + u)^{-1} is not defined
    p = Symbol("p", integer=True, positive=True)
    u = Symbol("u", nonnegative=True)
    line = Sum((p + u) ** -1, (p, 0, 0))
    assert refused(line, line, Canonicalise(), "undefined where p + u = 0")

    # a closed form that mentions N itself is checked only at M = N
    def sly(time, length):
        return gae_closed_form_flagged(time, length) + (length - N) * x[time]

    rule = SolveRecursion(A, gae_recursion, sly, t, N)
    proof = Proof("p", Statement(sly(t, N), A[t]), [Step(A[t], "", rule)], ["recursion"])
    assert "mentions t or N" in proof.check(refresh=True)[1]
