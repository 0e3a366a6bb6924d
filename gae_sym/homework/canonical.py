"""Structural and algebraic layers: canonical forms of answers with sums.

Two answers are *structurally* equal when they are the same tree once every summation
index is renamed by its nesting height (``Σ_k γ^k δ_{t+k}`` = ``Σ_l γ^l δ_{t+l}``).
They are *algebraically* equal when their canonical forms agree. The canonical form:

1. expands every δ_{x} into r_x + γ V(s_{x+1}) − V(s_x) (the definition);
2. expands products and powers ((γλ)^l → γ^l λ^l), splits sums over their terms
   (linearity) and pulls factors free of the index out of each sum;
3. shifts each sum so that its first sequence reads ``x_{t+l}`` (Σ_{l=0}^{n−1} γ^{l+1}
   V_{t+l+1} → Σ_{l=1}^{n} γ^l V_{t+l});
4. moves the bounds to 0 and to ``n − 1`` (or ∞) by peeling or adding explicit terms:
   this is what telescopes Σ γ^l δ_{t+l} into −V(s_t) + Σ γ^l r_{t+l} + γ^n V(s_{t+n});
5. renames every index by nesting height.

Sums with concrete bounds become explicit terms. A canonical comparison that fails proves
nothing (the numeric layer decides then); one that succeeds is an algebraic proof of
equality with the form compared against.
"""

from __future__ import annotations

from math import comb

from sympy import Add, Dummy, Expr, Indexed, Integer, Mul, Sum, Symbol, expand, oo, powsimp

from gae_sym.homework.build import AnswerError, sum_depth
from gae_sym.symbols import V, delta, gamma, r, t

MAX_EXPLICIT_TERMS = 60


def _rebind_indices(expr: Expr, fresh) -> Expr:
    """Every summation index replaced by ``fresh(index, body)``, innermost sums first."""
    if isinstance(expr, Sum):
        body = _rebind_indices(expr.function, fresh)
        for index, lower, upper in expr.limits:
            new = fresh(index, body)
            body = Sum(body.xreplace({index: new}), (new, lower, upper))
        return body
    if not expr.args or isinstance(expr, Indexed):
        return expr
    return expr.func(*[_rebind_indices(a, fresh) if isinstance(a, Expr) else a for a in expr.args])


def rename_indices(expr: Expr) -> Expr:
    """Every summation index renamed by the height of its sum (innermost: ``_h0``)."""
    return _rebind_indices(expr, lambda _, body: Symbol(f"_h{sum_depth(body)}", integer=True))


def expand_delta(expr: Expr) -> Expr:
    """δ_x → r_x + γ V(s_{x+1}) − V(s_x) everywhere in ``expr``."""
    return expr.replace(
        lambda e: isinstance(e, Indexed) and e.base == delta,
        lambda e: r[e.indices[0]] + gamma * V[e.indices[0] + 1] - V[e.indices[0]],
    )


def canonical(expr: Expr) -> Expr:
    """The canonical form of ``expr`` (module docstring)."""
    return rename_indices(_push_into_sums(_canon(expand_delta(_fresh_indices(expr)))))


def _fresh_indices(expr: Expr) -> Expr:
    """Bound indices renamed apart from every free symbol (so factors can move into sums)."""
    return _rebind_indices(expr, lambda index, _: Dummy(str(index), integer=True))


def _push_into_sums(expr: Expr) -> Expr:
    """c · f · Σ g → c · Σ (f g) for each term with one sum; c is the numeric coefficient.

    Index-free factors sit inside their sum, exponents merged (γ · Σ γ^{l-1} x = Σ γ^l x),
    so that two forms differing only in where a factor stands compare equal.
    """
    total = Integer(0)
    for term in Add.make_args(expand(expr, deep=False)):
        coefficient, rest = term.as_coeff_Mul()
        factors = Mul.make_args(rest)
        sums = [f for f in factors if isinstance(f, Sum)]
        if len(sums) != 1:
            total += term
            continue
        (the_sum,) = sums
        others = Mul(*[f for f in factors if f is not the_sum])
        body = _push_into_sums(expand(others * the_sum.function))
        total += coefficient * Sum(powsimp(body, combine="exp"), *the_sum.limits)
    return total


def _canon(expr: Expr) -> Expr:
    if isinstance(expr, Sum):
        return _canon_sum(expr)
    if not expr.has(Sum):
        return powsimp(expand(expr), combine="exp")
    if isinstance(expr, Add | Mul) or expr.is_Pow:
        rebuilt = expr.func(*[_canon(a) for a in expr.args])
        return expand(rebuilt, deep=False)
    return expr


def _canon_sum(expr: Expr) -> Expr:
    body = expr.function
    limits = list(expr.limits)
    if len(limits) > 1:
        body = Sum(body, *limits[:-1])
    index, lower, upper = limits[-1]
    body = _canon(body)
    total = Integer(0)
    for term in Add.make_args(expand(body, deep=False)):
        outside, inside = term.as_independent(index, as_Add=False)
        if not inside.has(index):
            total += outside * _count(lower, upper) * inside
            continue
        total += outside * _normalise(inside, index, lower, upper)
    return expand(total, deep=False)


def _count(lower: Expr, upper: Expr) -> Expr:
    if upper == oo:
        raise _NotCanonical
    return upper - lower + 1


class _NotCanonical(Exception):
    """This sum has no canonical form here (divergent constant, odd bounds)."""


def _normalise(summand: Expr, index: Symbol, lower: Expr, upper: Expr) -> Expr:
    shift = _first_offset(summand, index)
    if shift:
        summand = summand.xreplace({index: index - shift})
        lower, upper = lower + shift, upper + shift
    summand = expand(summand)
    if lower.is_Integer and upper.is_Integer:
        return _canon(_explicit(summand, index, int(lower), int(upper)))
    peeled = Integer(0)
    if lower.is_Integer and lower != 0:
        a = int(lower)
        if a > 0:
            peeled -= _explicit(summand, index, 0, a - 1)
        else:
            peeled += _explicit(summand, index, a, -1)
        lower = Integer(0)
    if upper != oo:
        c, variable = upper.as_coeff_Add()
        if variable != 0 and abs(int(c)) <= MAX_EXPLICIT_TERMS:
            if c >= 0:
                for k in range(int(c) + 1):
                    peeled += summand.xreplace({index: variable + k})
            else:
                for k in range(int(c) + 1, 0):
                    peeled -= summand.xreplace({index: variable + k})
            upper = variable - 1
    # What is left is Σ_{0}^{n-1 or ∞}: one sum per monomial, index-free factors outside.
    rest = Integer(0)
    for term in Add.make_args(summand):
        outside, inside = term.as_independent(index, as_Add=False)
        if inside.has(index):
            rest += outside * Sum(inside, (index, lower, upper))
        else:
            rest += term * _count(lower, upper)
    return _canon(peeled) + rest


def _explicit(summand: Expr, index: Symbol, lower: int, upper: int) -> Expr:
    if upper - lower + 1 > MAX_EXPLICIT_TERMS:
        raise AnswerError("a sum with this many terms is too complex to check", "too-complex")
    return Add(*[summand.xreplace({index: Integer(k)}) for k in range(lower, upper + 1)])


def _first_offset(summand: Expr, index: Symbol) -> int:
    """The shift that makes the first sequence of ``summand`` read ``x_{t+index}``."""
    candidates = []
    for item in summand.atoms(Indexed):
        if isinstance(item, Indexed):
            rest = expand(item.indices[0] - t - index)
            if rest.is_Integer and (item.indices[0] - t).has(index):
                candidates.append(int(rest))
    # Only when every sequence agrees on the index slope (coefficient 1 of the index).
    return min(candidates) if candidates else 0


MAX_EXPANDED_TERMS = 20_000
"""Above this many terms after expansion the algebraic layer steps aside (numeric decides)."""


def expanded_size(expr: Expr) -> int:
    """An upper bound on the number of terms ``expand`` would produce (multinomial counts).

    A factor free of sums and sequence entries is a polynomial in its few free symbols: its
    terms are bounded by the monomials of its degree too, so (γ − 1/4)(γ − 1/3)…(γ − 9/10)
    counts as 8 terms, not 2^7.
    """
    return _expanded_size(expr)


def _degree(expr: Expr) -> int | None:
    """A bound on the total degree of a Sum-free polynomial expression (None: not one)."""
    if expr.is_Number:
        return 0
    if isinstance(expr, Symbol):
        return 1
    if isinstance(expr, Add):
        parts = [_degree(a) for a in expr.args]
        return None if None in parts else max(parts)
    if isinstance(expr, Mul):
        parts = [_degree(a) for a in expr.args]
        return None if None in parts else sum(parts)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        inner = _degree(expr.base)
        return None if inner is None else inner * int(expr.exp)
    if expr.is_Pow and not expr.exp.is_Number and not expr.base.has(Add):
        return 1  # γ^l, (γλ)^l: one factor, whatever l is
    return None


def _expanded_size(expr: Expr) -> int:
    size = _term_count(expr)
    if size > 64 and not expr.has(Sum, Indexed):
        degrees = _degrees(expr)
        if degrees is not None:
            bound = 1
            for degree in degrees.values():
                bound *= degree + 1
            size = min(size, bound)
    return size


def _degrees(expr: Expr) -> dict | None:
    """Degree bounds per generator (a symbol, or a power γ^l that expand leaves whole) of
    a Sum-free polynomial expression; None when it is not one."""
    if expr.is_Number:
        return {}
    if isinstance(expr, Symbol) or (
        expr.is_Pow and not expr.exp.is_Number and not expr.base.has(Add)
    ):
        return {expr: 1}
    if isinstance(expr, Add | Mul):
        parts = [_degrees(a) for a in expr.args]
        if any(part is None for part in parts):
            return None
        merged: dict = {}
        for part in parts:
            for key, degree in part.items():
                merged[key] = (
                    max(merged.get(key, 0), degree)
                    if isinstance(expr, Add)
                    else merged.get(key, 0) + degree
                )
        return merged
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        inner = _degrees(expr.base)
        return None if inner is None else {k: d * int(expr.exp) for k, d in inner.items()}
    return None


def _term_count(expr: Expr) -> int:
    if isinstance(expr, Add):
        return sum(_expanded_size(a) for a in expr.args)
    if isinstance(expr, Mul):
        plain = [f for f in expr.args if not f.has(Sum, Indexed)]
        others = [f for f in expr.args if f.has(Sum, Indexed)]
        size = _expanded_size(Mul(*plain)) if plain and others else 1
        for factor in others if plain and others else expr.args:
            size *= _expanded_size(factor)
        return size
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1:
        terms = _expanded_size(expr.base)
        return comb(int(expr.exp) + terms - 1, terms - 1) if terms > 1 else 1
    if isinstance(expr, Sum):
        return _expanded_size(expr.function)
    return 1


def equal_canonical(answer: Expr, form: Expr) -> bool:
    """True when the canonical forms agree: an algebraic proof that ``answer == form``.

    Answers whose expansion would explode (δ_t^{1000}) are not compared here.
    """
    if expanded_size(expand_delta(answer)) > MAX_EXPANDED_TERMS:
        return False
    # The form first, from a cache: the reference forms are few and fixed, and a form with
    # no canonical form (Σ_{l=0}^{99}: 100 explicit terms) must not cost every answer.
    if form not in _FORM_CANONICAL:
        try:
            _FORM_CANONICAL[form] = canonical(form)
        except (_NotCanonical, AnswerError) as error:
            _FORM_CANONICAL[form] = error
    reference = _FORM_CANONICAL[form]
    if isinstance(reference, AnswerError):
        raise reference
    if isinstance(reference, _NotCanonical):
        return False
    try:
        difference = expand(canonical(answer) - reference)
    except _NotCanonical:
        return False
    return difference == 0


_FORM_CANONICAL: dict[Expr, Expr | Exception] = {}


def equal_structural(answer: Expr, form: Expr) -> bool:
    """True when the trees agree up to the names of summation indices."""
    return rename_indices(answer) == rename_indices(form)
