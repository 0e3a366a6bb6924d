"""Red team: facts about sequence values (a response mask that is 0 on a gap) and the
skip-masked scan's recursions, attacked through the public proof API.

Each attack asserts on the *reason* the engine gives. The mask facts are what the proof
that skip-masked token GAE is GAE on the compacted response rests on (theorem
token-gae-masked), so they get the treatment the kernel got: contradictions, impostor
sequences, indices not shown to lie in the range, facts that would be misused by an
induction, substitution or a cited lemma, and a lying kernel caught by the refutation.
"""

from __future__ import annotations

import pytest
from sympy import IndexedBase, Product, Rational, S, Sum, Symbol

import gae_sym.proof.rules as rules
from derivations import token_gae_masked as masked
from gae_sym.estimators import gae_recursion
from gae_sym.masked_scan import (
    skip_advantage_closed_form,
    skip_advantage_recursion,
    skip_value_closed_form,
    skip_value_recursion,
)
from gae_sym.proof import (
    ApplyTheorem,
    Assumption,
    Induction,
    Interval,
    Proof,
    SolveRecursion,
    Statement,
    Step,
    Substitute,
    UseValues,
)
from gae_sym.proof.kernel import fresh_bound
from gae_sym.symbols import A, N, U, V, W, delta, done, gamma, j, l, lam, mask, r, t

g, h = masked.g, masked.h
KNOWN = {a.name: a for a in masked.DERIVATION.assumptions}


def _gap(*values) -> Assumption:
    return Assumption("attack-facts", "the attacker's facts", "x", values=tuple(values))


def _check(proof: Proof, known=None):
    return proof.check(refresh=True, known=known or {})


def _zeros_on_gap(first=0, last=None):
    last = g - 1 if last is None else last
    return Sum(mask[t + 1 + l] * V[t + 1 + l], (l, first, last))


# --- the theorem holds, and each of its parts is really checked ---------------------------


def test_token_gae_masked_is_proved_with_every_part():
    result = masked.DERIVATION.verify()
    assert result.status == "proved", result.why
    titles = [p.title for p in masked.DERIVATION.proofs]
    assert any("gap" in title for title in titles) and any("closed form" in t for t in titles)


def test_a_wrong_next_value_is_refused_at_the_last_line():
    proof = masked.GAP_VALUE
    wrong = Proof(
        proof.title, Statement(proof.statement.lhs, V[t + g + 2]), proof.steps, [masked.GAP]
    )
    failed = _check(wrong)
    assert failed is not None and "last line is not the right-hand side" in failed[1]


def test_gap_advantage_with_gamma_for_gamma_lambda_is_refused():
    proof = masked.GAP_ADVANTAGE
    rhs = proof.statement.rhs.subs(lam, 1)
    wrong = Proof(proof.title, Statement(proof.statement.lhs, rhs), proof.steps, proof.assumptions)
    failed = _check(wrong, KNOWN)
    assert failed is not None and "right-hand side" in failed[1]


# --- use-values only where the index is proved to lie in the range ------------------------


def test_a_gap_one_token_short_does_not_zero_the_last_term():
    short = _gap((mask, t + 1, t + g - 1, 0))
    proof = Proof(
        "x", Statement(_zeros_on_gap(), S.Zero), [Step(S.Zero, "m = 0", UseValues(mask))], [short]
    )
    failed = _check(proof)
    assert failed is not None and "shown to lie in a range" in failed[1]


def test_an_index_outside_every_range_is_not_replaced():
    fact = _gap((mask, t + 1, t + g, 0))
    proof = Proof("x", Statement(mask[t], S.Zero), [Step(S.Zero, "m = 0", UseValues(mask))], [fact])
    failed = _check(proof)
    assert failed is not None and "shown to lie in a range" in failed[1]


def test_a_bound_index_named_like_the_gap_length_is_not_read_as_it():
    # Σ_{g=1}^{5} m_{t+g}: the bound g runs to 5, not to the free g of the fact
    fact = _gap((mask, t + 1, t + g, 0))
    bound = Sum(mask[t + g], (g, 1, 5))
    proof = Proof("x", Statement(bound, S.Zero), [Step(S.Zero, "m = 0", UseValues(mask))], [fact])
    failed = _check(proof)
    assert failed is not None and "shown to lie in a range" in failed[1]


def test_use_values_needs_a_fact_about_that_sequence():
    proof = Proof("x", Statement(mask[t], S.Zero), [Step(S.Zero, "m = 0", UseValues(mask))], [])
    failed = _check(proof)
    assert failed is not None and "no fact in force gives values of m" in failed[1]


def test_an_impostor_mask_gets_no_values():
    impostor = IndexedBase("m")  # not the project's mask (no real=True)
    fact = _gap((mask, t, t, 0))
    proof = Proof(
        "x", Statement(impostor[t], S.Zero), [Step(S.Zero, "m = 0", UseValues(mask))], [fact]
    )
    failed = _check(proof)
    assert failed is not None and "shown to lie in a range" in failed[1]
    as_fact = _gap((impostor, t, t, 0))
    proof = Proof(
        "x", Statement(impostor[t], S.Zero), [Step(S.Zero, "m = 0", UseValues(impostor))], [as_fact]
    )
    failed = _check(proof)
    assert failed is not None and "not the project's sequence" in failed[1]


# --- facts that contradict each other or what definitions fix are refused -----------------


@pytest.mark.parametrize(
    "values, reason",
    [
        (((mask, t + 1, t + g + 1, 0), (mask, t + g + 1, t + g + 1, 1)), "not shown to be about"),
        (((mask, t, t + g, 0), (mask, t + g, t + g + 3, 1)), "not shown to be about"),
        (((delta, t, t, 0),), "fixed by a definition"),
        (((A, t, t, 0),), "fixed by a definition"),
        (((W, t, t + 2, 0),), "fixed by a definition"),
        (((U, t, t, 0),), "fixed by a definition"),
        (((done, t, t, Rational(1, 2)),), "fixed by a definition"),
        (((mask, t, t, gamma),), "only exact numbers"),
        (((mask, t, t, S(0.5)),), "only exact numbers"),
        (((mask, t, t + Rational(1, 2), 0),), "not an integer expression"),
        (((mask, t, t + mask[t], 0),), "not an integer expression"),
    ],
)
def test_values_facts_that_could_be_vacuous_are_refused(values, reason):
    proof = Proof("x", Statement(mask[t], mask[t]), [], [_gap(*values)])
    failed = _check(proof)
    assert failed is not None and reason in failed[1], failed


def test_a_range_fact_and_a_values_fact_on_one_sequence_are_refused():
    both = Assumption(
        "attack-facts", "x", "x", ranges=((mask[t], Interval(2, 3)),), values=((mask, t, t, 0),)
    )
    failed = _check(Proof("x", Statement(mask[t], mask[t]), [], [both]))
    assert failed is not None and "both a range fact and a fact about values" in failed[1]


def test_different_values_on_ranges_shown_apart_are_accepted():
    apart = _gap((mask, t, t + g, 0), (mask, t + g + 1, t + g + 4, 1))
    proof = Proof(
        "x", Statement(mask[t + g + 2], S.One), [Step(S.One, "m = 1", UseValues(mask))], [apart]
    )
    assert _check(proof) is None


# --- rules that would carry a values fact to where it does not hold -----------------------


def test_substituting_a_symbol_of_a_values_range_is_refused():
    fact = _gap((mask, t + 1, t + g, 0))
    proof = Proof(
        "x",
        Statement(_zeros_on_gap(), _zeros_on_gap().subs(g, 3), at={g: 3}),
        [Step(_zeros_on_gap().subs(g, 3), "g = 3", Substitute({g: 3}))],
        [fact],
    )
    failed = _check(proof)
    assert (
        failed is not None and "fact about sequence values has a range that mentions g" in failed[1]
    )


def test_induction_on_a_symbol_of_a_values_range_is_refused():
    n1 = Symbol("n1", integer=True, positive=True)
    fact = _gap((mask, t + 1, t + n1, 0))
    lhs = Sum(mask[t + 1 + l], (l, 0, n1 - 1))
    proof = Proof(
        "x", Statement(lhs, S.Zero), [Step(S.Zero, "induction", Induction(n1, 1))], [fact]
    )
    failed = _check(proof)
    assert failed is not None and "fact about sequence values mentions n1" in failed[1]


def test_solve_recursion_refuses_values_facts_in_force():
    fact = _gap((mask, t, t, 1))
    steps = list(masked.VALUE_CLOSED_FORM.steps)
    proof = Proof(
        "x", masked.VALUE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1", fact]
    )
    failed = _check(proof)
    assert failed is not None and "facts about sequence values are in force" in failed[1]


def test_a_lemma_proved_under_values_facts_cannot_be_cited():
    lemma = masked.END_VALUE
    lhs = lemma.statement.lhs
    proof = Proof(
        "x",
        Statement(lhs, S.Zero),
        [Step(S.Zero, "cite", ApplyTheorem(lemma))],
        [masked.TAIL],
    )
    failed = _check(proof, {"mask-tail": masked.TAIL})
    assert failed is not None and "proved under facts about sequence values" in failed[1]


# --- the skip-scan recursions -------------------------------------------------------------


def test_solve_recursion_needs_the_scans_own_recursion():
    steps = list(masked.VALUE_CLOSED_FORM.steps)
    steps[-1] = Step(W[t], "solve", SolveRecursion(W, gae_recursion, skip_value_closed_form, t, N))
    proof = Proof("x", masked.VALUE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1"])
    failed = _check(proof)
    assert failed is not None and "not the project's for W" in failed[1]


def test_solve_recursion_for_the_scan_needs_the_skip_scan_definition():
    steps = list(masked.VALUE_CLOSED_FORM.steps)
    proof = Proof("x", masked.VALUE_CLOSED_FORM.statement, steps, ["recursion", "horizon-ge-1"])
    # the rule cites skip-scan itself; without it in the table the name is unknown
    failed = _check(proof, {"skip-scan": Assumption("skip-scan", "lie", "x")})
    assert failed is not None and "only under the skip-scan assumption" in failed[1]


def test_a_closed_form_that_forgets_the_pass_through_is_refused():
    def wrong(time, left):
        return Sum(mask[time + l] * V[time + l], (l, 0, left - 1))

    steps = list(masked.VALUE_CLOSED_FORM.steps)
    steps[-1] = Step(W[t], "solve", SolveRecursion(W, skip_value_recursion, wrong, t, N))
    proof = Proof("x", masked.VALUE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1"])
    failed = _check(proof)
    assert failed is not None and "does not start from the closed form" in failed[1]


def test_the_advantage_recursion_is_not_the_value_recursion():
    steps = list(masked.ADVANTAGE_CLOSED_FORM.steps)
    steps[-1] = Step(
        U[t], "solve", SolveRecursion(U, skip_value_recursion, skip_advantage_closed_form, t, N)
    )
    proof = Proof("x", masked.ADVANTAGE_CLOSED_FORM.statement, steps, ["skip-scan", "horizon-ge-1"])
    failed = _check(proof)
    assert failed is not None and "not the project's for U" in failed[1]


@pytest.mark.parametrize("symbol", [gamma, lam, t, N])
def test_the_scans_hidden_parameters_cannot_be_fixed(symbol):
    line = U[t + 1] + r[t]
    proof = Proof(
        "x",
        Statement(line, line.subs(symbol, 0), at={symbol: 0}),
        [Step(line.subs(symbol, 0), "fix", Substitute({symbol: 0}))],
        ["skip-scan"],
    )
    failed = _check(proof)
    assert failed is not None and "depends through its definition" in failed[1]
    if symbol in (t, N):
        assert rules.hidden_parameters(W[t]) >= {t, N}


# --- the second line of defence: a lying kernel is caught ---------------------------------


def test_a_kernel_that_zeroes_the_mask_everywhere_is_caught(monkeypatch):
    def lying(expr, base, facts):
        copy = fresh_bound(expr)
        return copy.replace(lambda n: getattr(n, "base", None) == base, lambda n: S.Zero), 1

    monkeypatch.setattr(rules, "use_values", lying)
    fact = _gap((mask, t + 1, t + g, 0))
    # Σ_{l=0}^{g} reaches one past the gap: the lie zeroes m_{t+g+1} too
    proof = Proof(
        "x", Statement(_zeros_on_gap(0, g), S.Zero), [Step(S.Zero, "lie", UseValues(mask))], [fact]
    )
    failed = _check(proof)
    assert failed is not None and "engine bug" in failed[1]


def test_a_kernel_that_accepts_any_closed_form_is_caught(monkeypatch):
    import gae_sym.proof.core as core

    monkeypatch.setattr(core, "equivalent", lambda a, b, f=None: True)
    monkeypatch.setattr(rules, "equivalent", lambda a, b, f=None: True)
    monkeypatch.setattr(rules, "is_zero", lambda a, f=None: True)
    wrong = Sum(mask[t + l] * V[t + l] * Product(1 - mask[t + j], (j, 0, l)), (l, 0, N - 1))
    proof = Proof(
        "x", Statement(wrong, W[t]), masked.VALUE_CLOSED_FORM.steps, ["skip-scan", "horizon-ge-1"]
    )
    failed = _check(proof)
    assert failed is not None and "engine bug" in failed[1]


def test_the_generated_token_gae_update_is_the_proven_scan():
    """The kernels print token GAE from gae_sym.llm_estimators (one response-token step,
    then the skip carries); composed, they must be the recursions token-gae-masked proves
    things about (gae_sym.masked_scan), or the proof is about other code."""
    from sympy import expand

    from gae_sym.llm_estimators import skip_carry, token_gae_step

    carried_value, carried_advantage = W[t + 1], U[t + 1]
    own = token_gae_step(t, carried_value, carried_advantage)
    assert expand(skip_carry(t, V[t], carried_value) - skip_value_recursion(t)) == 0
    advantage = skip_carry(t, own, carried_advantage)
    assert expand(advantage - skip_advantage_recursion(t)) == 0
