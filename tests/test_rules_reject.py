"""Every rule accepts a correct step and rejects wrong ones.

A proof engine that only ever says "yes" proves nothing: each rule is shown here
refusing typical slips (γ^{n−1} for γ^n, an upper limit off by one, a dropped (1 − λ),
a wrong sign, a wrong shift), and refusing to run where its preconditions fail.
"""

from __future__ import annotations

import pytest
from sympy import Limit, Product, Q, S, Sum, Symbol, oo

from derivations.gae_infinite import PROOF as GAE_INFINITE
from derivations.gae_lambda0 import FINITE as LAMBDA0_FINITE
from derivations.gae_recursion import PROOF as GAE_RECURSION
from derivations.nstep_telescoping import PROOF as TELESCOPING
from gae_sym.estimators import (
    gae_closed_form_flagged,
    gae_recursion,
    gae_segment,
    nstep_advantage,
    nstep_advantage_rv,
    td_error,
    td_error_flagged,
)
from gae_sym.proof import (
    ApplyTheorem,
    Canonicalise,
    GeometricSeries,
    Induction,
    Linearity,
    PartialSums,
    Proof,
    RuleError,
    ShiftIndex,
    SolveRecursion,
    SplitFirst,
    SplitLast,
    Statement,
    Step,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
)
from gae_sym.symbols import A, N, V, delta, done, gamma, j, l, lam, n, r, t


def outcome(rule, previous, claimed, assumptions=()):
    """None when the one-step chain previous -> claimed is accepted, else (step, why)."""
    at = dict(rule.values) if isinstance(rule, Substitute) else {}
    statement = Statement(previous, claimed, at=at)
    return Proof("test", statement, [Step(claimed, "test", rule)], list(assumptions)).check()


def accepts(rule, previous, claimed, assumptions=()) -> bool:
    return outcome(rule, previous, claimed, assumptions) is None


def refuses(rule, previous, claimed, because: str = "", assumptions=()) -> bool:
    result = outcome(rule, previous, claimed, assumptions)
    return result is not None and because in result[1]


# Facts under which the GAE series converge absolutely.
SERIES = ("lambda-lt-1", "bounded-delta")
NOT_SHOWN = "not shown to converge absolutely"


S_N = Sum(gamma**l * delta[t + l], (l, 0, n - 1))


# --- split off the first / last term -------------------------------------------------


def test_split_last_accepts_and_rejects():
    good = Sum(gamma**l * delta[t + l], (l, 0, n - 2)) + gamma ** (n - 1) * delta[t + n - 1]
    assert accepts(SplitLast(l), S_N, good)
    # γ^n in place of γ^{n−1} on the peeled term
    assert refuses(SplitLast(l), S_N, good.subs(gamma ** (n - 1), gamma**n), "does not give")
    # upper limit of the rest off by one
    bad = Sum(gamma**l * delta[t + l], (l, 0, n - 1)) + gamma ** (n - 1) * delta[t + n - 1]
    assert refuses(SplitLast(l), S_N, bad)


def test_split_last_refuses_infinite_sum():
    infinite = Sum((gamma * lam) ** l * delta[t + l], (l, 0, oo))
    assert refuses(SplitLast(l), infinite, infinite, "no last term", SERIES)


def test_split_first_accepts_and_rejects():
    good = delta[t] + Sum(gamma**l * delta[t + l], (l, 1, n - 1))
    assert accepts(SplitFirst(l), S_N, good)
    assert refuses(SplitFirst(l), S_N, Sum(gamma**l * delta[t + l], (l, 1, n - 1)))  # dropped
    assert refuses(SplitFirst(l), S_N, delta[t] + Sum(gamma**l * delta[t + l], (l, 1, n)))


def test_split_first_of_infinite_sum_needs_it_to_converge():
    infinite = Sum(gamma**l * delta[t + l], (l, 0, oo))
    rest = delta[t] + Sum(gamma**l * delta[t + l], (l, 1, oo))
    assert refuses(SplitFirst(l), infinite, rest, NOT_SHOWN)
    # γ ≤ 1 is all bounded-delta says of γ alone: Σ γ^l δ may diverge (γ = 1)
    assert refuses(SplitFirst(l, assumption="bounded-delta"), infinite, rest, NOT_SHOWN)
    assert accepts(SplitFirst(l), infinite, rest, ("gamma-lt-1", "bounded-V"))


def test_split_first_of_a_product():
    mask = Product(1 - done[t + j], (j, 0, l))
    assert accepts(SplitFirst(j), mask, (1 - done[t]) * Product(1 - done[t + j], (j, 1, l)))
    assert refuses(SplitFirst(j), mask, (1 - done[t]) * Product(1 - done[t + j], (j, 0, l)))


# --- shift an index --------------------------------------------------------------------


def test_shift_index_accepts_and_rejects():
    good = Sum(gamma ** (l - 1) * delta[t + l - 1], (l, 1, n))
    assert accepts(ShiftIndex(l, by=1), S_N, good)
    # limits shifted, summand not
    assert refuses(ShiftIndex(l, by=1), S_N, Sum(gamma**l * delta[t + l], (l, 1, n)))
    # shifted the wrong way in the summand
    assert refuses(ShiftIndex(l, by=1), S_N, Sum(gamma ** (l + 1) * delta[t + l + 1], (l, 1, n)))


def test_shift_index_uses_no_sign_of_the_written_index():
    # l is declared nonnegative: written over l = −1..1, SymPy turns 0^{l+1} into 0. The
    # rule shifts with a fresh index, so it gives 0^0 + 0^1 + 0^2 = 1, not that 0.
    assert refuses(ShiftIndex(l, by=-1), Sum(0**l, (l, 0, 2)), Sum(0 ** (l + 1), (l, -1, 1)))
    m = Symbol("m", integer=True)
    assert accepts(ShiftIndex(l, by=-1), Sum(0**l, (l, 0, 2)), Sum(0 ** (m + 1), (m, -1, 1)))
    assert refuses(ShiftIndex(l, by=S.Half), S_N, S_N, "integer")


# --- linearity and canonicalisation ---------------------------------------------------


def test_linearity_accepts_and_rejects():
    merged = Sum(gamma**l * (r[t + l] - V[t + l]), (l, 0, n - 1))
    split = Sum(gamma**l * r[t + l], (l, 0, n - 1)) - Sum(gamma**l * V[t + l], (l, 0, n - 1))
    assert accepts(Linearity(), merged, split)
    wrong_sign = Sum(gamma**l * r[t + l], (l, 0, n - 1)) + Sum(gamma**l * V[t + l], (l, 0, n - 1))
    assert refuses(Linearity(), merged, wrong_sign)


def test_canonicalise_rejects_a_dropped_one_minus_lambda():
    weighted = (1 - lam) * Sum(lam ** (n - 1) * delta[t + n], (n, 1, oo))
    merged = Sum((1 - lam) * lam ** (n - 1) * delta[t + n], (n, 1, oo))
    assert accepts(Canonicalise(), weighted, merged, SERIES)
    dropped = Sum(lam ** (n - 1) * delta[t + n], (n, 1, oo))
    assert refuses(Canonicalise(), weighted, dropped, "not shown to be 0", SERIES)


def test_canonicalise_rejects_wrong_power():
    assert refuses(Canonicalise(), gamma * gamma**n, gamma**n)
    assert accepts(Canonicalise(), gamma * gamma**n, gamma ** (n + 1))


# --- unfold a definition --------------------------------------------------------------


def test_unfold_accepts_and_rejects():
    assert accepts(Unfold(delta, td_error), delta[t], r[t] + gamma * V[t + 1] - V[t])
    assert refuses(Unfold(delta, td_error), delta[t], r[t] + gamma * V[t + 1] + V[t])
    assert refuses(Unfold(delta, td_error), delta[t], r[t] + gamma * V[t] - V[t])


# --- induction ---------------------------------------------------------------------------


_UNFOLDED = Sum(gamma**l * td_error(t + l), (l, 0, n - 1))


def test_induction_accepts_telescoping():
    assert accepts(Induction(n, base=1), _UNFOLDED, nstep_advantage_rv())


def test_induction_rejects_wrong_power_in_bootstrap():
    wrong = nstep_advantage_rv().subs(gamma**n, gamma ** (n - 1))
    assert refuses(Induction(n, base=1), _UNFOLDED, wrong, "fails")


def test_induction_rejects_claim_true_only_at_the_base():
    # Σ_{l<n} γ^l = 1 + (n − 1)γ holds for n = 1 (and 2) but not in general.
    geometric = Sum(gamma**l, (l, 0, n - 1))
    assert refuses(Induction(n, base=1), geometric, 1 + (n - 1) * gamma, "induction step")


def test_induction_rejects_wrong_base_case():
    assert refuses(Induction(n, base=1), S_N, S_N + 1, "base case")


# --- swap a triangular double sum ---------------------------------------------------------


_TERM = lam ** (n - 1) * gamma**l * delta[t + l]
_TRIANGLE = Sum(Sum(_TERM, (l, 0, n - 1)), (n, 1, oo))


def test_swap_triangle_accepts_and_rejects():
    swapped = Sum(Sum(_TERM, (n, l + 1, oo)), (l, 0, oo))
    rule = SwapTriangle(n, l, assumption="bounded-delta")
    assert accepts(rule, _TRIANGLE, swapped, SERIES)
    # inner range off by one: n from l instead of l + 1
    assert refuses(rule, _TRIANGLE, Sum(Sum(_TERM, (n, l, oo)), (l, 0, oo)), "", SERIES)


def test_swap_triangle_finite_upper_limit():
    finite = Sum(Sum(_TERM, (l, 0, n - 1)), (n, 1, N))
    rule = SwapTriangle(n, l)
    assert accepts(rule, finite, Sum(Sum(_TERM, (n, l + 1, N)), (l, 0, N - 1)))
    assert refuses(rule, finite, Sum(Sum(_TERM, (n, l + 1, N)), (l, 0, N)))


def test_swap_triangle_of_infinite_sums_needs_absolute_convergence():
    swapped = Sum(Sum(_TERM, (n, l + 1, oo)), (l, 0, oo))
    assert refuses(SwapTriangle(n, l), _TRIANGLE, swapped, NOT_SHOWN)
    # λ < 1 without bounded δ is not enough either
    assert refuses(SwapTriangle(n, l), _TRIANGLE, swapped, "bounded delta", ("lambda-lt-1",))


# --- geometric series -----------------------------------------------------------------------


def test_geometric_series_accepts_and_rejects():
    tail = Sum(lam ** (n - 1), (n, l + 1, oo))
    rule = GeometricSeries(n, assumption="lambda-lt-1", condition=Q.lt(lam, 1))
    assert accepts(rule, tail, lam**l / (1 - lam))
    # the condition parameter is not trusted: without λ < 1 in force the rule refuses
    assert refuses(GeometricSeries(n, condition=Q.lt(lam, 1)), tail, lam**l / (1 - lam))
    assert refuses(rule, tail, lam ** (l + 1) / (1 - lam))  # wrong power
    assert refuses(rule, tail, lam**l)  # dropped 1/(1 − λ)


def test_geometric_series_finite():
    partial = Sum(gamma**l, (l, 0, N - 1))
    rule = GeometricSeries(l, condition=Q.ne(gamma, 1))
    # (1 − γ^N)/(1 − γ) needs γ ≠ 1: a fact, not the condition parameter
    assert refuses(rule, partial, (1 - gamma**N) / (1 - gamma), "undefined where 1 - gamma = 0")
    assert accepts(rule, partial, (1 - gamma**N) / (1 - gamma), ("gamma-lt-1",))
    assert refuses(rule, partial, (1 - gamma ** (N + 1)) / (1 - gamma), "", ("gamma-lt-1",))


def test_geometric_series_refuses_what_is_not_geometric():
    rule = GeometricSeries(n, assumption="lambda-lt-1", condition=Q.lt(lam, 1))
    with_sequence = Sum(lam ** (n - 1) * delta[t + n], (n, 1, oo))
    assert refuses(rule, with_sequence, 0, "not geometric", SERIES)
    # Σ_{n≥1} 0^{n−1} γ^n = γ (the term n = 1); SymPy 1.14's doit() says 0
    zero_base = Sum(0 ** (n - 1) * gamma**n, (n, 1, oo))
    assert refuses(rule, zero_base, 0, "does not give", ("gamma-lt-1",))
    assert accepts(rule, zero_base, gamma, ("gamma-lt-1",))
    assert refuses(GeometricSeries(n), Sum(lam ** (n - 1), (n, 1, oo)), 1 / (1 - lam), NOT_SHOWN)


# --- substitute a value -------------------------------------------------------------------


def test_substitute_accepts_and_rejects():
    finite = delta[t] + gamma * lam * Sum((gamma * lam) ** l * delta[t + l + 1], (l, 0, N - 2))
    assert accepts(Substitute({lam: 0}), finite, delta[t])
    assert refuses(Substitute({lam: 0}), finite, 0)
    assert refuses(Substitute({lam: 1}), finite, delta[t])


def test_substitute_into_infinite_sum_needs_named_assumption():
    series = Sum((gamma * lam) ** l * delta[t + l], (l, 0, oo))
    assert refuses(
        Substitute({lam: 1}), series, Sum(gamma**l * delta[t + l], (l, 0, oo)), "converge"
    )
    # λ = 1 contradicts λ < 1: the value must satisfy the facts in force
    lam_below_one = ("lambda-lt-1", "gamma-lt-1", "bounded-V")
    assert refuses(
        Substitute({lam: 1}),
        series,
        Sum(gamma**l * delta[t + l], (l, 0, oo)),
        "breaks the fact",
        lam_below_one,
    )


def test_substitute_refuses_zero_power_in_infinite_sum():
    # λ = 0 straight into the weighted average: the path where SymPy 1.14 gives 0.
    average = (1 - lam) * Sum(lam ** (n - 1) * nstep_advantage(), (n, 1, oo))
    assert refuses(Substitute({lam: 0}), average, 0, "0**", SERIES)
    assert refuses(Substitute({lam: 0}), average, delta[t], "0**", SERIES)


# --- partial sums and the limit ----------------------------------------------------------


def test_partial_sums_accepts_and_rejects():
    series = Sum(gamma**l * delta[t + l], (l, 0, oo))
    rule = PartialSums(N, assumption="gamma-lt-1")
    cut = Limit(Sum(gamma**l * delta[t + l], (l, 0, N - 1)), N, oo)
    # δ is bounded when r (gamma-lt-1) and V (bounded-V) are
    assert refuses(rule, series, cut, "bounded delta")
    assert accepts(rule, series, cut, ("bounded-V",))
    assert refuses(
        rule, series, Limit(Sum(gamma**l * delta[t + l], (l, 0, N)), N, oo), "", ("bounded-V",)
    )


def test_take_limit_accepts_and_rejects():
    finite = Limit(nstep_advantage_rv(t, N), N, oo)
    rule = TakeLimit(vanishing=(gamma**N * V[t + N],), assumption="bounded-V")
    mc = Sum(gamma**l * r[t + l], (l, 0, oo)) - V[t]
    assert accepts(rule, finite, mc, ("gamma-lt-1",))
    assert refuses(rule, finite, Sum(gamma**l * r[t + l], (l, 0, oo)) + V[t], "", ("gamma-lt-1",))
    # the vanishing tail is proved, not listed: γ^N V(s_{t+N}) → 0 needs γ < 1 and bounded V
    assert accepts(TakeLimit(), finite, mc, ("gamma-lt-1", "bounded-V"))
    # γ = 1 is allowed without gamma-lt-1: then γ^N V(s_{t+N}) need not vanish
    tail = Limit(gamma**N * V[t + N] + r[t], N, oo)
    assert refuses(rule, tail, r[t], "vanishes")
    assert refuses(TakeLimit(), tail, r[t], "bounded V", ("gamma-lt-1",))
    assert accepts(TakeLimit(), tail, r[t], ("gamma-lt-1", "bounded-V"))


# --- apply a proved theorem ---------------------------------------------------------------


def test_apply_theorem_accepts_and_rejects():
    rule = ApplyTheorem(TELESCOPING, {n: N})
    assert accepts(rule, nstep_advantage(t, N), nstep_advantage_rv(t, N))
    assert refuses(rule, nstep_advantage(t, N), nstep_advantage_rv(t, N + 1))
    # the lemma's left side must occur in the previous line
    assert refuses(rule, nstep_advantage(t, N + 1), nstep_advantage_rv(t, N + 1), "does not occur")


def test_apply_theorem_refuses_an_unproved_lemma():
    wrong_rhs = nstep_advantage_rv().subs(gamma**n, gamma ** (n - 1))
    false_lemma = Proof(
        "false",
        Statement(nstep_advantage(), wrong_rhs),
        [Step(wrong_rhs, "telescoping", Induction(n, base=1))],
    )
    rule = ApplyTheorem(false_lemma)
    assert refuses(rule, nstep_advantage(), nstep_advantage_rv(), "not proved")


def test_apply_theorem_in_reverse():
    assert accepts(
        ApplyTheorem(GAE_INFINITE, reverse=True),
        GAE_INFINITE.statement.rhs,
        GAE_INFINITE.statement.lhs,
    )


# --- solve the backward recursion -----------------------------------------------------------


def _solve_rule(closed_form=gae_closed_form_flagged):
    return SolveRecursion(A, gae_recursion, closed_form, t, N)


def _recursion_applied(closed_form=gae_closed_form_flagged, mask=True):
    factor = (1 - done[t]) if mask else 1
    return delta[t] + gamma * lam * factor * closed_form(t + 1, N - 1)


def _chain_to_solution(origin, previous, rule):
    """origin -> previous (asserted as an identity by Canonicalise) -> A_t by ``rule``."""
    return Proof(
        "test",
        Statement(origin, A[t]),
        [Step(previous, "given", Canonicalise()), Step(A[t], "solve", rule)],
    ).check()


def test_solve_recursion_accepts_the_derivation():
    assert GAE_RECURSION.check() is None
    # the rule itself, with the (proved) identity taken as the origin
    assert accepts(_solve_rule(), _recursion_applied(), A[t]) is False  # origin mismatch
    origin = gae_closed_form_flagged()
    assert _chain_to_solution(origin, _recursion_applied(), _solve_rule())[0] == 1


def test_solve_recursion_refuses_a_chain_not_starting_at_the_closed_form():
    result = outcome(_solve_rule(), _recursion_applied(), A[t])
    assert "does not start from the closed form" in result[1]


def test_solve_recursion_rejects_a_dropped_done_mask():
    # γλ A_{t+1} instead of γλ (1 − d_t) A_{t+1}: not the recursion of the kernels
    rule = _solve_rule()
    proof = Proof(
        "no mask",
        Statement(gae_closed_form_flagged(), A[t]),
        [*GAE_RECURSION.steps[:-2], Step(_recursion_applied(mask=False), "wrong", Linearity())],
    )
    assert proof.check() is not None
    wrong_previous = _recursion_applied(mask=False)
    direct = Proof(
        "direct",
        Statement(gae_closed_form_flagged(), A[t]),
        [Step(A[t], "solve", rule)],
    ).check()
    assert "not the recursion" in direct[1]
    assert not accepts(rule, wrong_previous, A[t])


def test_solve_recursion_rejects_wrong_boundary():
    # F = closed form + (γλ)^M Π (1 − d): it satisfies the recursion, but F(t, 0) = 1.
    def with_homogeneous_part(time, length):
        mask = Product(1 - done[time + j], (j, 0, length - 1))
        return gae_closed_form_flagged(time, length) + (gamma * lam) ** length * mask

    rule = _solve_rule(with_homogeneous_part)
    previous = _recursion_applied(with_homogeneous_part)
    ctx = Proof("ctx", Statement(A[t], A[t]), [], ["recursion"]).context()
    with pytest.raises(RuleError, match="no steps left"):
        rule.apply(previous, A[t], ctx)
    # the true closed form passes the same check
    assert _solve_rule().apply(_recursion_applied(), A[t], ctx) == A[t]
    # and the rule needs the recursion to be the definition in force
    bare = Proof("ctx", Statement(A[t], A[t]), []).context()
    with pytest.raises(RuleError, match="recursion assumption"):
        _solve_rule().apply(_recursion_applied(), A[t], bare)


def test_substitution_must_be_stated():
    # λ = 0 turns Σ (γλ)^l δ into δ_t; without "at λ = 0" in the statement that would
    # "prove" GAE equals the TD error for every λ.
    finite = delta[t] + gamma * lam * Sum((gamma * lam) ** l * delta[t + l + 1], (l, 0, N - 2))
    unstated = Proof(
        "p", Statement(finite, delta[t]), [Step(delta[t], "λ=0", Substitute({lam: 0}))]
    )
    assert "does not fix" in unstated.check()[1]
    stated = Proof(
        "p", Statement(finite, delta[t], at={lam: 0}), [Step(delta[t], "λ=0", Substitute({lam: 0}))]
    )
    assert stated.check() is None
    other_value = Proof(
        "p", Statement(finite, delta[t], at={lam: 1}), [Step(delta[t], "λ=0", Substitute({lam: 0}))]
    )
    assert other_value.check() is not None


def test_induction_refuses_infinite_sums():
    series = Sum((gamma * lam) ** l * lam**n * delta[t + l], (l, 0, oo))
    other = Sum((gamma * lam) ** l * lam**n * delta[t + l + 1], (l, 0, oo))
    assert refuses(Induction(n, base=1), series, other, "finite forms", SERIES)


def test_swap_triangle_refuses_a_range_not_starting_at_the_outer_limit():
    # rows m = 0 of Σ_{l=0}^{m-2} are reversed ranges (Karr: Σ_{0}^{-2} f = -f(-1))
    m = Symbol("m", integer=True)
    term = lam**m * delta[t + l]  # defined for every l (γ^l would not be, for l < 0)
    assert refuses(
        SwapTriangle(m, l, assumption="bounded-delta"),
        Sum(Sum(term, (l, 0, m - 2)), (m, 0, oo)),
        Sum(Sum(term, (m, l + 2, oo)), (l, 0, oo)),
        "may have a reversed range",
        SERIES,
    )
    # n from 2 with l < n: the row n = 1 (l = 0) is missing, the swap would add it
    assert refuses(
        SwapTriangle(n, l, assumption="bounded-delta"),
        Sum(Sum(_TERM, (l, 0, n - 1)), (n, 2, oo)),
        Sum(Sum(_TERM, (n, l + 1, oo)), (l, 0, oo)),
        "does not start",
        SERIES,
    )
    # with λ^{n−1} and n from 0 the line is not even defined (λ^{-1} at λ = 0)
    assert refuses(
        SwapTriangle(n, l, assumption="bounded-delta"),
        Sum(Sum(_TERM, (l, 0, n - 2)), (n, 0, oo)),
        Sum(Sum(_TERM, (n, l + 2, oo)), (l, 0, oo)),
        "undefined where",
        SERIES,
    )


# --- found in review: paths that accepted false steps ----------------------------------------


def test_swap_triangle_keeps_the_sums_inside_the_swapped_one():
    # SymPy flattens Σ_n Σ_l Σ_k into one Sum with three limits; swapping n with the
    # innermost k must not drop the sum over k.
    k = Symbol("k", integer=True, nonnegative=True)
    body = lam**n * delta[t + k]
    triple = Sum(Sum(Sum(body, (k, 0, l)), (l, 0, n - 1)), (n, 1, N))
    dropped_k = Sum(Sum(body, (n, l + 1, N)), (l, 0, N - 1))
    assert refuses(SwapTriangle(n, k), triple, dropped_k, "one sum over k")
    # the swap of n with l keeps Σ_k inside
    swapped = Sum(Sum(Sum(body, (k, 0, l)), (n, l + 1, N)), (l, 0, N - 1))
    assert accepts(SwapTriangle(n, l), triple, swapped)


def test_apply_theorem_uses_a_specialised_lemma_only_at_its_values():
    # gae-lambda0 proves GAE = δ_t at λ = 0 only: citing it for every λ is false.
    assert refuses(ApplyTheorem(LAMBDA0_FINITE), gae_segment(), td_error(), "does not occur")
    assert accepts(ApplyTheorem(LAMBDA0_FINITE), gae_segment().xreplace({lam: 0}), td_error())


def test_apply_theorem_refuses_an_instance_outside_the_lemma_domain():
    # telescoping is proved for n >= 1; N - 1 is not known to be >= 1
    rule = ApplyTheorem(TELESCOPING, {n: N - 1})
    assert refuses(rule, nstep_advantage(t, N - 1), nstep_advantage_rv(t, N - 1), "declared on")
    # N - 2 is worse: γ^{N−2} is not even defined for N = 1 at γ = 0
    rule = ApplyTheorem(TELESCOPING, {n: N - 2})
    assert refuses(rule, nstep_advantage(t, N - 2), nstep_advantage_rv(t, N - 2), "undefined")


def test_induction_base_case_must_cover_the_declared_domain():
    # n is declared positive: a base case at n = 2 leaves n = 1 unproved.
    assert refuses(Induction(n, base=2), _UNFOLDED, nstep_advantage_rv(), "does not cover")


def test_unfold_takes_only_the_project_definitions():
    # δ_t := 0 would make every GAE sum vanish
    assert refuses(Unfold(delta, lambda time: 0 * time), delta[t], 0, "not the project's")
    assert refuses(Unfold(delta, lambda time: r[time] - V[time]), delta[t], r[t] - V[t])
    # the segment form of δ holds inside a segment: the rule cites that assumption
    assert Unfold(delta, td_error).assumptions() == ("segment",)
    flagged = Unfold(delta, td_error_flagged)
    assert flagged.assumptions() == ()
    assert accepts(flagged, delta[t], td_error_flagged())


def test_apply_theorem_inside_a_sum_only_over_the_lemma_domain():
    # Σ_{n≥0}: the term n = 0 is outside telescoping's n >= 1
    rule = ApplyTheorem(TELESCOPING)
    outside = Sum(lam**n * nstep_advantage(t, n), (n, 0, oo))
    rewritten = Sum(lam**n * nstep_advantage_rv(t, n), (n, 0, oo))
    values = ("lambda-lt-1", "bounded-r-V")
    assert refuses(rule, outside, rewritten, "positive", values)
    inside = Sum(lam**n * nstep_advantage(t, n), (n, 1, oo))
    assert accepts(rule, inside, Sum(lam**n * nstep_advantage_rv(t, n), (n, 1, oo)), values)
