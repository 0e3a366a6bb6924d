"""The trusted kernel: the one place that decides whether two lines of a proof are equal.

Everything that says *proved* passes through :func:`check_line` and :func:`equivalent`.
Rules (``gae_sym/proof/rules.py``) propose the next line; the kernel accepts it only if

1. **the line is in the kernel's language**: numbers (exact, finite), symbols, sequence
   elements x[i] with integer indices, +, ×, powers with integer exponents, finite or
   infinite sums and finite products with integer bounds, and lim_{M→∞}. No functions
   (log, |·|, sign, Piecewise, …): they would bring rules of their own;
2. **every power is defined** on the declared domain: b^e needs e ≥ 0 or b ≠ 0, proved
   from the facts in force and the ranges of the enclosing sums (so no 1/Σ…, no λ^{n−2}
   for n = 1 at λ = 0);
3. **every infinite series converges absolutely** under the facts in force (a bounded
   sequence times a geometric weight whose ratio the facts put below one, polynomials,
   finite inner sums and tails of such series), both as written and split term by term,
   so linearity, shifting, splitting and reordering are valid;
4. **the difference of the two lines is zero** in the canonical form below, using only
   identities that hold for every value the facts allow.

The canonical form: every sum Σ_{x=a}^{b} f(x) becomes Σ_{y=0}^{b−a} f(a + y) (Karr's
convention makes this an identity for all bounds) with y a kernel-private bound variable,
declared nonnegative only when b − a + 1 ≥ 0 is proved; the summand is expanded
(products, multinomials, (uv)^k = u^k v^k for integer k), split term by term, and factors
free of y are pulled out, including q^c from q^{y+c} when q ≠ 0 or both y and c are
≥ 0; powers of one base are combined only under the same condition; sums and products
with at most 16 terms are written out; a product over a range shown not to be
reversed gives up its factors free of y as powers (Π a f = a^m Π f); bound variables
are finally named by their depth in the result. Sums, products, limits and sequence elements are
then opaque, and the difference must reduce to 0 as a rational function whose
denominators are proved non-zero.

The trusted base: SymPy's arithmetic on polynomials and rational functions (``expand``,
``together``) and its construction-time simplifications of +, ×, ^ on integer
exponents; SymPy's sign inference for sums of nonnegative integer symbols; the interval
arithmetic of :mod:`gae_sym.proof.facts`; and the side conditions the primitive rules of
``gae_sym/proof/rules.py`` check before proposing a line (split, shift, swap, geometric
series, substitution, limits, induction, the recursion). Nothing here calls ``doit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sympy import (
    Add,
    Dummy,
    Expr,
    Indexed,
    IndexedBase,
    Integer,
    Limit,
    Mul,
    Number,
    Pow,
    Product,
    S,
    Sum,
    Symbol,
    Tuple,
    expand,
    factor_terms,
    oo,
    together,
)

from gae_sym.proof.facts import Facts, Interval, rename_by_depth
from gae_sym.proof.facts import alpha_key as facts_alpha_key

MAX_EXPLICIT = 16
"""Sums and products with at most this many terms (numeric bounds) are written out."""


class KernelError(Exception):
    """A line is outside what the kernel can vouch for; the message says why."""


# Kernel-private bound variables: Dummy objects no user expression can contain.
_NONNEG = [Dummy(f"y{i}", integer=True, nonnegative=True) for i in range(48)]
_INTEGER = [Dummy(f"z{i}", integer=True) for i in range(48)]
_RESERVED = frozenset(_NONNEG + _INTEGER)

Scope = tuple[tuple[Symbol, Expr, Expr], ...]


# --- 1. the language -----------------------------------------------------------------------


def check_language(expr: Expr, where: str = "the line") -> None:
    """Raise :class:`KernelError` unless ``expr`` is in the kernel's language."""
    _language(S(expr), where)


def _language(expr: Expr, where: str) -> None:
    if isinstance(expr, Number):
        if not (expr.is_Rational and expr.is_finite):
            raise KernelError(f"{where} holds the number {expr}: only exact finite numbers")
        return
    if isinstance(expr, Symbol):
        if expr in _RESERVED:
            raise KernelError(f"{where} uses a symbol reserved for the kernel")
        if expr.is_commutative is not True:
            raise KernelError(f"{where}: {expr} is not commutative; the kernel's algebra is")
        return
    if isinstance(expr, Indexed):
        if not isinstance(expr.base, IndexedBase) or len(expr.indices) != 1:
            raise KernelError(f"{where}: {expr} is not a sequence element x[i]")
        if expr.is_commutative is not True:
            raise KernelError(f"{where}: {expr} is not commutative; the kernel's algebra is")
        index = expr.indices[0]
        _language(index, where)
        if index.is_integer is not True:
            raise KernelError(f"{where}: the index of {expr} is not shown to be an integer")
        return
    if isinstance(expr, (Add, Mul)):
        for arg in expr.args:
            _language(arg, where)
        return
    if isinstance(expr, Pow):
        _language(expr.base, where)
        _language(expr.exp, where)
        if expr.exp.is_integer is not True:
            raise KernelError(f"{where}: the exponent of {expr} is not shown to be an integer")
        return
    if isinstance(expr, (Sum, Product)):
        _language(expr.function, where)
        for var, lower, upper in expr.limits:
            if upper == -oo or lower == oo:
                raise KernelError(f"{where}: {expr} runs towards the wrong infinity")
            for bound in (lower, upper):
                if bound in (oo, -oo):
                    if isinstance(expr, Product):
                        raise KernelError(f"{where}: infinite products are not supported")
                    continue
                if bound.has(oo, -oo, S.ComplexInfinity, S.NaN):
                    raise KernelError(f"{where}: the bound {bound} of {expr} is not finite")
                _language(bound, where)
                if bound.is_integer is not True:
                    raise KernelError(f"{where}: the bound {bound} of {expr} is not an integer")
            if not isinstance(var, Symbol) or var.is_integer is not True:
                raise KernelError(f"{where}: the index {var} of {expr} is not an integer symbol")
        return
    if isinstance(expr, Limit):
        body, var, point = expr.args[0], expr.args[1], expr.args[2]
        if (
            point != oo
            or not isinstance(var, Symbol)
            or var.is_integer is not True
            or var.is_nonpositive
        ):
            raise KernelError(f"{where}: only limits of integers M → ∞ are supported")
        _language(body, where)
        return
    raise KernelError(f"{where} uses {type(expr).__name__}, which the kernel does not reason about")


# --- 2. substitution and bound variables ---------------------------------------------------


def outer_limit(node: Sum | Product) -> tuple[Symbol, Expr, Expr, Expr]:
    """(x, a, b, body) of the outermost limit: Σ_{(y..),(x..)} f = Σ_x [Σ_y f].

    SymPy flattens a sum whose summand is a sum into one ``Sum`` with several limits, the
    first innermost; every rule and the kernel act on the outermost one.
    """
    var, lower, upper = node.limits[-1]
    body = node.function if len(node.limits) == 1 else node.func(node.function, *node.limits[:-1])
    return var, lower, upper, body


def substitute(expr: Expr, mapping: Mapping[Symbol, Expr]) -> Expr:
    """Capture-avoiding substitution of free symbols (bound variables are renamed)."""
    mapping = {k: S(v) for k, v in mapping.items() if k != v}
    return _subst(S(expr), mapping) if mapping else S(expr)


def _subst(expr: Expr, mapping: dict) -> Expr:
    if not mapping or not expr.free_symbols & set(mapping):
        return expr
    if isinstance(expr, Symbol) or expr in mapping:
        return mapping.get(expr, expr)
    if isinstance(expr, (Sum, Product)):
        var, lower, upper, body = outer_limit(expr)
        node = expr
        lower, upper = _subst(lower, mapping), _subst(upper, mapping)
        inner = {k: v for k, v in mapping.items() if k != var}
        # Every binder rebuilt here gets a fresh integer Dummy with no sign: no capture, and
        # SymPy cannot simplify the new body with a sign the range does not guarantee.
        fresh = Dummy(var.name, integer=True)
        inner[var] = fresh
        return node.func(_subst(body, inner), (fresh, lower, upper))
    if isinstance(expr, Limit):
        body, var, point = expr.args[0], expr.args[1], expr.args[2]
        inner = {k: v for k, v in mapping.items() if k != var}
        if any(var in v.free_symbols for v in inner.values()):
            fresh = Dummy(var.name, integer=True, positive=bool(var.is_positive))
            inner[var] = fresh
            return Limit(_subst(body, inner), fresh, point)
        return Limit(_subst(body, inner), var, point)
    if isinstance(expr, Indexed):
        return expr.base[_subst(expr.indices[0], mapping)]
    if not expr.args:
        return expr
    return expr.func(*[_subst(arg, mapping) for arg in expr.args])


def fresh_bound(expr: Expr) -> Expr:
    """``expr`` with every bound variable renamed to a fresh integer Dummy with no other
    assumption, and nothing else changed: no + or × is re-evaluated (a lecturer's
    V(s_t) + (−V(s_t) + …) stays two terms, for a cited lemma to find the second), and no
    rule works with a sign the range does not guarantee."""
    return _quiet(S(expr), {})


def _quiet(expr: Expr, renamed: dict) -> Expr:
    if isinstance(expr, Symbol):
        return renamed.get(expr, expr)
    if isinstance(expr, (Sum, Product)):
        var, lower, upper, body = outer_limit(expr)
        fresh = Dummy(var.name, integer=True)
        inner = _quiet(body, {**renamed, var: fresh})
        return expr.func(inner, (fresh, _quiet(lower, renamed), _quiet(upper, renamed)))
    if isinstance(expr, Limit):
        body, var, point = expr.args[0], expr.args[1], expr.args[2]
        fresh = Dummy(var.name, integer=True, positive=bool(var.is_positive))
        return Limit(_quiet(body, {**renamed, var: fresh}), fresh, point)
    if isinstance(expr, Indexed):
        return expr.base[_quiet(expr.indices[0], renamed)]
    if not expr.args or not (expr.free_symbols & set(renamed) or expr.has(Sum, Product, Limit)):
        return expr
    args = [_quiet(arg, renamed) for arg in expr.args]
    if isinstance(expr, (Add, Mul, Pow)):
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def evaluated(expr: Expr) -> Expr:
    """``expr`` rebuilt bottom-up with SymPy's construction-time simplification (safe on
    expressions whose bound variables carry no sign, such as :func:`fresh_bound`'s)."""
    expr = S(expr)
    if not expr.args or isinstance(expr, Symbol):
        return expr
    if isinstance(expr, (Sum, Product)):
        var, lower, upper, body = outer_limit(expr)
        return expr.func(evaluated(body), (var, evaluated(lower), evaluated(upper)))
    if isinstance(expr, Limit):
        return Limit(evaluated(expr.args[0]), expr.args[1], expr.args[2])
    if isinstance(expr, Indexed):
        return expr.base[evaluated(expr.indices[0])]
    return expr.func(*[evaluated(arg) for arg in expr.args])


def alpha_key(expr: Expr) -> Expr:
    """``expr`` with bound variables renamed by depth: alpha-equivalent expressions (Σ_l
    and Σ_j of the same summand) get the same key (see :func:`gae_sym.proof.facts.alpha_key`)."""
    return facts_alpha_key(expr)


def bound_scopes(expr: Expr, scope: Scope = ()) -> Iterable[tuple[Expr, Scope]]:
    """Every sub-expression with the ranges of the sums, products and limits around it."""
    yield expr, scope
    if isinstance(expr, (Sum, Product)):
        var, lower, upper, body = outer_limit(expr)
        yield from bound_scopes(lower, scope)
        yield from bound_scopes(upper, scope)
        yield from bound_scopes(body, (*scope, (var, lower, upper)))
    elif isinstance(expr, Limit):
        body, var = expr.args[0], expr.args[1]
        yield from bound_scopes(body, (*scope, (var, _least(var), oo)))
    else:
        for arg in expr.args:
            if not isinstance(arg, Tuple):
                yield from bound_scopes(arg, scope)


def _least(var: Symbol) -> Expr:
    if var.is_positive:
        return S.One
    if var.is_nonnegative:
        return S.Zero
    return -oo


# --- 3. signs on a domain ------------------------------------------------------------------


def nonneg(expr: Expr, facts: Facts, scope: Scope = ()) -> bool:
    """expr ≥ 0 for every value the facts and the enclosing ranges allow."""
    return _nonneg(S(expr), facts, tuple(scope))


@lru_cache(maxsize=8192)
def _nonneg(expr: Expr, facts: Facts, scope: Scope) -> bool:
    return any(
        form.is_nonnegative or facts.nonnegative(form) for form in _offsets(S(expr), scope, facts)
    )


def nonzero(expr: Expr, facts: Facts, scope: Scope = ()) -> bool:
    """expr ≠ 0 for every value the facts and the enclosing ranges allow."""
    return _nonzero(S(expr), facts, tuple(scope))


@lru_cache(maxsize=8192)
def _nonzero(expr: Expr, facts: Facts, scope: Scope) -> bool:
    if isinstance(expr, Number):
        return expr != 0
    # Ask SymPy only after the bound variables are read through their ranges: a written
    # index declared positive may still run over 0.
    return any(
        form.is_zero is False or facts.nonzero(form) for form in _offsets(expr, scope, facts)
    )


def range_not_reversed(lower: Expr, upper: Expr, facts: Facts, scope: Scope = ()) -> bool:
    """b − a + 1 ≥ 0 for Σ_{x=a}^{b}: the range is a (possibly empty) interval."""
    if upper == oo and lower != -oo:
        return True
    if oo in (lower, upper) or -oo in (lower, upper):
        return False
    return nonneg(upper - lower + 1, facts, scope)


def _offsets(expr: Expr, scope: Scope, facts: Facts) -> list[Expr]:
    """``expr`` with each bound variable x of a non-reversed range [a, b] written as a + o
    or as b − o with o ≥ 0 (innermost first, since a and b may depend on outer
    variables). Each form equals ``expr`` on the range: if one of them is shown ≥ 0 (or
    ≠ 0) for every o ≥ 0, so is ``expr``."""
    forms = [expr]
    for position in range(len(scope) - 1, -1, -1):
        var, lower, upper = scope[position]
        if not any(form.has(var) for form in forms):
            continue
        if not range_not_reversed(lower, upper, facts, scope[:position]):
            # Nothing is known of x but that it is an integer: not even the sign its
            # symbol was declared with, nor a fact about a free symbol of the same name.
            unknown = Dummy(var.name, integer=True)
            forms = [_subst(form, {var: unknown}) for form in forms]
            continue
        offset = Dummy("o", integer=True, nonnegative=True)
        spread = []
        for form in forms:
            if not form.has(var):
                spread.append(form)
                continue
            if lower != -oo:
                spread.append(expand(_subst(form, {var: lower + offset})))
            if upper != oo:
                spread.append(expand(_subst(form, {var: upper - offset})))
        forms = spread[:8]
    return forms


_SIGNS = ("positive", "negative", "nonnegative", "nonpositive", "nonzero", "zero")


def domain_problem(symbol: Symbol, value: Expr, facts: Facts, scope: Scope = ()) -> str | None:
    """Why ``value`` is not shown to satisfy every assumption ``symbol`` is declared with
    (integer, real, positive, negative, nonzero, even, …), where it stands (``scope``).

    Sign assumptions are proved on the domain (:func:`nonneg`, :func:`nonzero`); every
    other one must be known to SymPy for the value itself.
    """
    value = S(value)
    for key, wanted in sorted(symbol.assumptions0.items()):
        if getattr(value, f"is_{key}") == wanted:
            continue
        base = key.removeprefix("extended_")
        if base in _SIGNS and _sign_holds(base, wanted, symbol, value, facts, scope):
            continue
        declared = [k for k in _DESCRIBED if symbol.assumptions0.get(k)]
        return (
            f"cannot show that {symbol} = {value} is in the domain {symbol} is declared on "
            f"({', '.join(declared) or key}; {key} fails)"
        )
    return None


_DESCRIBED = ("integer", "real", "positive", "negative", "nonnegative", "nonpositive", "nonzero")
_DESCRIBED += ("even", "odd", "prime")


def _sign_holds(base, wanted, symbol, value, facts, scope) -> bool:
    ge0 = nonneg(value, facts, scope)
    le0 = nonneg(-value, facts, scope)
    ne0 = nonzero(value, facts, scope)
    integer = bool(symbol.is_integer)
    if not wanted:  # "not positive" is "≤ 0", and so on (real values)
        base, wanted = {
            "positive": ("nonpositive", True),
            "negative": ("nonnegative", True),
            "nonnegative": ("negative", True),
            "nonpositive": ("positive", True),
            "nonzero": ("zero", True),
            "zero": ("nonzero", True),
        }[base]
    if base == "positive":
        return nonneg(value - 1, facts, scope) if integer else (ge0 and ne0)
    if base == "negative":
        return nonneg(-value - 1, facts, scope) if integer else (le0 and ne0)
    return {"nonnegative": ge0, "nonpositive": le0, "nonzero": ne0, "zero": value == 0}[base]


# --- 4. defined powers ---------------------------------------------------------------------


def check_defined(expr: Expr, facts: Facts, where: str = "the line") -> None:
    """Raise unless every power b^e in ``expr`` has e ≥ 0 or b ≠ 0 on the domain."""
    for node, scope in bound_scopes(S(expr)):
        if isinstance(node, Product):
            _, lower, upper, _ = outer_limit(node)
            if not range_not_reversed(lower, upper, facts, scope):
                # Karr's product over a reversed range is a quotient 1/Π, undefined where
                # a factor vanishes: only products over ranges shown not reversed stand.
                raise KernelError(f"{where} has {node}, whose range may be reversed")
        if isinstance(node, Pow) and not isinstance(node.base, Number):
            if nonneg(node.exp, facts, scope) or nonzero(node.base, facts, scope):
                continue
            raise KernelError(
                f"{where} has {node}, which is undefined where {node.base} = 0 "
                f"(not shown: {node.exp} >= 0 or {node.base} != 0 under the assumptions)"
            )
        if isinstance(node, Pow) and node.base == 0 and not nonneg(node.exp, facts, scope):
            raise KernelError(f"{where} has {node}, a power of 0 with a negative exponent")


# --- 5. the canonical form -----------------------------------------------------------------


def canonical(expr: Expr, facts: Facts | None = None) -> Expr:
    """The canonical form of ``expr`` (see the module docstring)."""
    return _canonical_cached(S(expr), facts or Facts())


@lru_cache(maxsize=4096)
def _canonical_cached(expr: Expr, facts: Facts) -> Expr:
    return _renumber(_top(_canon(expr, 0, (), facts), (), facts), 0)


def _renumber(expr: Expr, depth: int) -> Expr:
    """Name each kernel bound variable by its depth in ``expr`` (a factor pulled out of a
    sum keeps the names of the depth it came from until here), keeping its kind: ≥ 0 or
    only an integer."""

    def name(var: Symbol, level: int) -> Symbol:
        if isinstance(var, Symbol) and var in _NONNEG_SET:
            return _NONNEG[level]
        return _INTEGER[level]

    return rename_by_depth(expr, name, depth)


def _opaque_map(expr: Expr) -> tuple[Expr, dict]:
    # The order of the fresh symbols does not matter: one table serves the whole call.
    table = {item: Dummy("atom") for item in expr.atoms(Sum, Product, Limit, Indexed)}
    return expr.xreplace(table), {v: k for k, v in table.items()}


def _expand(expr: Expr) -> Expr:
    """Expand products, multinomials and (uv)^k (integer k), with sums kept whole."""
    flat, back = _opaque_map(expr)
    expanded = expand(flat, power_exp=False, power_base=True, mul=True, multinomial=True, log=False)
    return expanded.xreplace(back)


def _top(expr: Expr, scope: Scope, facts: Facts) -> Expr:
    expanded = _expand(expr)
    return Add(*[_combine_powers(term, scope, facts) for term in Add.make_args(expanded)])


def _combine_powers(term: Expr, scope: Scope, facts: Facts) -> Expr:
    """q^a q^b → q^{a+b} when q ≠ 0 or a, b ≥ 0 (then it holds at q = 0 too)."""
    groups: dict = {}
    rest = []
    for factor in Mul.make_args(term):
        if isinstance(factor, Number):
            rest.append(factor)
            continue
        base, exp = factor.as_base_exp()
        groups.setdefault(base, []).append(exp)
    for base, exps in groups.items():
        combinable = len(exps) > 1 and (
            nonzero(base, facts, scope) or all(nonneg(e, facts, scope) for e in exps)
        )
        if combinable:
            rest.append(Pow(base, expand(Add(*exps))))
        else:
            rest.extend(Pow(base, e) for e in exps)
    return Mul(*rest)


def _canon(expr: Expr, depth: int, scope: Scope, facts: Facts) -> Expr:
    if isinstance(expr, (Sum, Product)):
        return _canon_range(expr, depth, scope, facts)
    if isinstance(expr, Limit):
        body, var, point = expr.args[0], expr.args[1], expr.args[2]
        new = _INTEGER[depth]
        inner = (*scope, (new, _least(var), oo))
        return Limit(
            _top(_canon(body.xreplace({var: new}), depth + 1, inner, facts), inner, facts),
            new,
            point,
        )
    if isinstance(expr, Indexed):
        return expr.base[expand(_canon(expr.indices[0], depth, scope, facts))]
    if not expr.args:
        return expr
    return expr.func(*[_canon(arg, depth, scope, facts) for arg in expr.args])


def _canon_range(node: Sum | Product, depth: int, scope: Scope, facts: Facts) -> Expr:
    var, lower, upper, function = outer_limit(node)
    lower = expand(_canon(lower, depth, scope, facts))
    upper = upper if upper == oo else expand(_canon(upper, depth, scope, facts))
    if lower == -oo:  # left alone: the convergence check refuses it
        new = _INTEGER[depth]
        body = _canon(
            function.xreplace({var: new}), depth + 1, (*scope, (new, lower, upper)), facts
        )
        return node.func(body, (new, lower, upper))
    count = oo if upper == oo else expand(upper - lower + 1)
    # Σ_{x=a}^{b} f(x) = Σ_{y=0}^{b−a} f(a + y): y ≥ 0 only when the range is not reversed.
    new = _NONNEG[depth] if (count == oo or nonneg(count, facts, scope)) else _INTEGER[depth]
    top = oo if count == oo else count - 1
    shifted = _subst(function, {var: lower + new})
    if count != oo and count.is_Integer and -MAX_EXPLICIT <= count <= MAX_EXPLICIT:
        return _written_out(node, shifted, new, int(count), depth, scope, facts)
    inner = (*scope, (new, S.Zero, top))
    body = _canon(shifted, depth + 1, inner, facts)
    if isinstance(node, Product):
        return _canon_product(body, new, top, count, inner, scope, facts)
    total = []
    for term in Add.make_args(_expand(body)):
        free, bound = [], []
        for factor in Mul.make_args(_combine_powers(term, inner, facts)):
            if not factor.has(new):
                free.append(factor)
                continue
            kept, out = _split_power(factor, new, inner, facts)
            bound.append(kept)
            free.append(out)
        total.append(Mul(*free) * Sum(Mul(*bound), (new, 0, top)))
    return Add(*total)


def _canon_product(body, new, top, count, inner, scope, facts) -> Expr:
    """Π_{y=0}^{m−1} a·f(y) = a^m · Π_{y=0}^{m−1} f(y) for factors a free of y, when the
    range is shown not to be reversed (m ≥ 0, so a^m is defined)."""
    factored = factor_terms(_top(body, inner, facts))
    if not (new in _NONNEG_SET and nonneg(count, facts, scope)):
        return Product(_top(factored, inner, facts), (new, 0, top))
    outside, kept = [], []
    for factor in Mul.make_args(factored):
        (kept if factor.has(new) else outside).append(factor)
    rest = Product(_top(Mul(*kept), inner, facts), (new, 0, top)) if kept else S.One
    return Mul(*[Pow(a, count) for a in outside]) * rest


def _written_out(node, shifted, new, count, depth, scope, facts) -> Expr:
    """Σ_{y=0}^{count−1} with a numeric count: its terms (Karr: −Σ_{y=count}^{−1} if < 0)."""
    points = range(count) if count >= 0 else range(count, 0)
    terms = [_canon(shifted.xreplace({new: i}), depth, scope, facts) for i in points]
    if isinstance(node, Product):
        value = Mul(*terms)
        return value if count >= 0 else Pow(value, -1)
    value = Add(*terms)
    return value if count >= 0 else -value


def _split_power(factor: Expr, var: Symbol, scope: Scope, facts: Facts) -> tuple[Expr, Expr]:
    """q^{e(y) + c} → (q^{e(y)}, q^c) when q ≠ 0 or e(y), c ≥ 0; else (factor, 1)."""
    base, exp = factor.as_base_exp()
    if base.has(var) or not isinstance(exp, Add):
        return factor, S.One
    moving = Add(*[a for a in exp.args if a.has(var)])
    constant = Add(*[a for a in exp.args if not a.has(var)])
    if constant == 0:
        return factor, S.One
    if nonzero(base, facts, scope) or (
        nonneg(moving, facts, scope) and nonneg(constant, facts, scope)
    ):
        return Pow(base, moving), Pow(base, constant)
    return factor, S.One


# --- 6. absolute convergence ----------------------------------------------------------------


class _NoBound(Exception):
    pass


@dataclass(frozen=True)
class _Growth:
    """|f| ≤ C · poly(vars) · Π_{v decaying} ρ_v^v (ρ_v < 1), for the variables ≥ 0 in scope."""

    decaying: frozenset
    poly: frozenset


_CONSTANT = _Growth(frozenset(), frozenset())


def check_convergence(expr: Expr, facts: Facts, where: str = "the line") -> None:
    """Raise unless every infinite series in ``expr`` converges absolutely under ``facts``:
    the line in canonical form (so every series that linearity creates) and each series
    as written, on its own (so none is excused by cancelling against a twin)."""
    expr = S(expr)
    written = [node for node in expr.atoms(Sum) if _infinite(node)]
    if not written:  # no infinite series, none that canonical forms could create either
        return
    for form in [expr, *written]:
        for node, scope in bound_scopes(canonical(form, facts)):
            if not isinstance(node, Sum):
                continue
            var, lower, upper, body = outer_limit(node)
            if lower == -oo:
                raise KernelError(f"{where}: sums from -oo are not supported")
            if upper == oo:
                outer = [v for v, _, _ in scope if v in _NONNEG_SET]
                try:
                    growth = _growth(body, [*outer, var], facts)
                except _NoBound as reason:
                    raise KernelError(
                        f"{where}: the series {_show(node)} is not shown to converge "
                        f"absolutely: {reason}"
                    ) from None
                if var not in growth.decaying:
                    raise KernelError(
                        f"{where}: the series {_show(node)} is not shown to converge "
                        "absolutely: no geometric weight that the assumptions put below one"
                    )


def _infinite(node: Sum) -> bool:
    return any(b in (oo, -oo) for limit in node.limits for b in limit[1:])


_NONNEG_SET = frozenset(_NONNEG)


def _show(node: Expr) -> str:
    text = str(node)
    for i, dummy in enumerate(_NONNEG):
        text = text.replace(f"_{dummy.name}", f"k{i}")
    return text


def _growth(expr: Expr, variables: Sequence[Symbol], facts: Facts) -> _Growth:
    if not expr.has(*variables):
        if expr.atoms(Limit):
            raise _NoBound("a limit inside the series")
        return _CONSTANT
    if expr in variables:
        return _Growth(frozenset(), frozenset([expr]))
    if isinstance(expr, Indexed):
        label = str(expr.base.label)
        if not facts.bounds(expr.base):
            raise _NoBound(f"needs a bounded {label}: no assumption in force states it")
        return _CONSTANT
    if isinstance(expr, Add):
        parts = [_growth(term, variables, facts) for term in expr.args]
        decaying = frozenset.intersection(*[p.decaying for p in parts])
        return _Growth(decaying, frozenset().union(*[p.poly for p in parts]))
    if isinstance(expr, (Mul, Pow)):
        return _growth_product(Mul.make_args(expr), variables, facts)
    if isinstance(expr, Sum):
        var, lower, upper, body = outer_limit(expr)
        inner = _growth(body, [*variables, var], facts)
        if upper == oo:
            if var not in inner.decaying:
                raise _NoBound(f"the inner series {_show(expr)} has no decaying weight")
            return _Growth(inner.decaying - {var}, inner.poly - {var})
        if var not in _NONNEG_SET or lower != 0:
            raise _NoBound(f"the inner sum {_show(expr)} may have a reversed range")
        if upper.as_poly(*variables) is None and upper.has(*variables):
            raise _NoBound(f"the length of {_show(expr)} is not polynomial")
        return _Growth(
            inner.decaying - {var}, (inner.poly - {var}) | (upper.free_symbols & set(variables))
        )
    raise _NoBound(f"no bound for {type(expr).__name__} {_show(expr)} inside the series")


def _growth_product(factors: Sequence[Expr], variables: Sequence[Symbol], facts: Facts) -> _Growth:
    weights: dict = {}  # var -> list of (base, coefficient)
    others = []
    for factor in factors:
        base, exp = factor.as_base_exp()
        if not exp.has(*variables):
            if base.has(*variables) and exp.is_nonnegative is not True:
                raise _NoBound(f"a negative power {factor} of a moving quantity")
            others.append(factor)
            continue
        if base.has(*variables):
            raise _NoBound(f"{factor}: base and exponent both move")
        polynomial = exp.as_poly(*variables)
        if polynomial is None or polynomial.total_degree() > 1:
            raise _NoBound(f"the exponent of {factor} is not linear")
        for var in variables:
            coefficient = exp.coeff(var)
            if coefficient == 0:
                continue
            if not (isinstance(coefficient, Integer) and coefficient > 0):
                raise _NoBound(f"the exponent of {factor} does not grow with {var}")
            weights.setdefault(var, []).append((base, coefficient))
    decaying, poly = set(), set()
    for var, pairs in weights.items():
        ratio = Mul(*[b**c for b, c in pairs])
        if facts.below_one_in_size(ratio):
            decaying.add(var)
        elif not all(facts.at_most_one_in_size(b) for b, _ in pairs):
            raise _NoBound(f"the weight {ratio}^{var} is not shown to be at most one")
    for factor in others:
        base, exp = factor.as_base_exp()
        inner = _growth(base, variables, facts)
        if not (isinstance(exp, Integer) and exp > 0) and not nonneg(exp - 1, facts):
            # base^k with k only known ≥ 0 may be base^0 = 1: bounded, not decaying
            if inner.poly:
                raise _NoBound(f"{factor}: a polynomial to a power that may be any k >= 0")
            continue
        decaying |= inner.decaying
        poly |= inner.poly
    return _Growth(frozenset(decaying), frozenset(poly))


def vanishes_at_infinity(term: Expr, var: Symbol, facts: Facts) -> str | None:
    """Why |term| → 0 as the integer var → ∞ is not shown (None when it is)."""
    if var.is_nonnegative is not True:
        return f"{var} is not declared nonnegative"
    try:
        growth = _growth(canonical(term, facts), [var], facts)
    except _NoBound as reason:
        return str(reason)
    if var not in growth.decaying:
        return f"{term} has no weight in {var} that the assumptions put below one"
    return None


def limit_value(body: Expr, var: Symbol, facts: Facts) -> Expr:
    """lim_{var→∞} body, term by term, each limit proved (else :class:`KernelError`).

    Terms free of ``var`` stay; c·Σ_{y=0}^{var+k} f (c, f free of var) become the series
    c·Σ_{y=0}^{∞} f, which :func:`check_line` admits only when it converges; every other
    term must vanish (:func:`vanishes_at_infinity`). The limit of the sum is the sum of
    these limits, each of which exists.
    """
    # The limit variable is bound: facts about a free symbol of that name, and the sign it
    # was declared with, say nothing about it. It runs over 1, 2, 3, … towards ∞.
    fresh = Dummy(var.name, integer=True, positive=True)
    body, var = _subst(S(body), {var: fresh}), fresh
    result = []
    for term in Add.make_args(canonical(body, facts)):
        if not term.has(var):
            result.append(term)
            continue
        series = [f for f in Mul.make_args(term) if isinstance(f, Sum)]
        coefficient = Mul(*[f for f in Mul.make_args(term) if not isinstance(f, Sum)])
        if len(series) == 1 and not coefficient.has(var):
            x, lower, upper, summand = outer_limit(series[0])
            grows = expand(upper - var)
            if not summand.has(var) and not lower.has(var) and grows.is_Integer:
                fresh = Dummy("x", integer=True)
                result.append(
                    coefficient * Sum(substitute(summand, {x: fresh}), (fresh, lower, oo))
                )
                continue
        why = vanishes_at_infinity(term, var, facts)
        if why:
            raise KernelError(f"cannot show that {_show(term)} vanishes as {var} -> oo: {why}")
    return Add(*result)


def check_limits(expr: Expr, facts: Facts, where: str = "the line") -> None:
    """Raise unless every lim_{M→∞} in ``expr`` is shown to exist."""
    for node in S(expr).atoms(Limit):
        try:
            # The value's series must converge too: lim Σ_{x<M} 1 is no number.
            check_convergence(limit_value(node.args[0], node.args[1], facts), facts)
        except KernelError as error:
            raise KernelError(
                f"{where}: the limit {_show(node)} is not shown to exist: {error}"
            ) from None


# --- 7. the decision -----------------------------------------------------------------------


def check_line(expr: Expr, facts: Facts, where: str = "the line") -> None:
    """Raise :class:`KernelError` unless ``expr`` may stand in a proof under ``facts``."""
    problem = _line_problem(S(expr), facts)
    if problem is not None:
        raise KernelError(f"{where}{problem}")


@lru_cache(maxsize=4096)
def _line_problem(expr: Expr, facts: Facts) -> str | None:
    """Why ``expr`` may not stand in a proof (the message after "where"), else None."""
    marker = "\x00"
    try:
        check_language(expr, marker)
        check_defined(expr, facts, marker)
        check_convergence(expr, facts, marker)
        check_limits(expr, facts, marker)
    except KernelError as error:
        return str(error).replace(marker, "", 1)
    return None


def is_zero(expr: Expr, facts: Facts | None = None) -> bool:
    """True when ``expr`` is shown to be 0 for every value the facts allow; False means
    "not shown", never "nonzero"."""
    facts = facts or Facts()
    difference = canonical(expr, facts)
    if difference == 0:
        return True
    flat, _ = _opaque_map(difference)
    try:
        check_defined(flat, facts)
    except KernelError:
        return False
    numerator, denominator = together(flat).as_numer_denom()
    for factor in Mul.make_args(denominator):
        base = factor.as_base_exp()[0]
        if not nonzero(base, facts):
            return False
    return expand(numerator) == 0


def equivalent(left: Expr, right: Expr, facts: Facts | None = None) -> bool:
    """True when ``left`` and ``right`` are shown equal under ``facts``."""
    return is_zero(S(left) - S(right), facts)


def within(expr: Expr, interval: Interval, facts: Facts, scope: Scope = ()) -> bool:
    """Every value of ``expr`` the facts and the enclosing ranges allow lies in ``interval``
    (bound variables are read through their ranges, never through a fact about a free
    symbol of the same name)."""
    return any(
        facts.interval(form).within(interval) for form in _offsets(S(expr), tuple(scope), facts)
    )


def replace_where(
    expr: Expr, attempt: Callable[[Expr, Scope], tuple[str, Expr | str] | None]
) -> tuple[Expr, int, str | None]:
    """Walk ``expr`` with the ranges around each node; ``attempt(node, scope)`` returns
    ("new", replacement), ("refuse", why) or None. Returns (result, count, first refusal)."""
    refusal: list = []

    def walk(node: Expr, scope: Scope) -> tuple[Expr, int]:
        answer = attempt(node, scope)
        if answer is not None and answer[0] == "new":
            return answer[1], 1
        if answer is not None:
            refusal.append(answer[1])
        if isinstance(node, (Sum, Product)):
            var, lower, upper, function = outer_limit(node)
            body, count = walk(function, (*scope, (var, lower, upper)))
            return (node.func(body, (var, lower, upper)) if count else node), count
        if isinstance(node, Limit):
            body, var, point = node.args[0], node.args[1], node.args[2]
            inner, count = walk(body, (*scope, (var, _least(var), oo)))
            return (Limit(inner, var, point) if count else node), count
        if not node.args or isinstance(node, Indexed):
            return node, 0
        results = [walk(arg, scope) for arg in node.args]
        total = sum(c for _, c in results)
        return (node.func(*[r for r, _ in results]) if total else node), total

    result, count = walk(S(expr), ())
    return result, count, (refusal[0] if refusal else None)


def use_values(expr: Expr, base, facts: Facts) -> tuple[Expr, int]:
    """``expr`` with each element ``base[e]`` replaced by c where a ``values`` fact says
    base_u = c for lo ≤ u ≤ hi and lo ≤ e ≤ hi is *proved* at that place (from the facts
    and the ranges of the sums and products around it); (result, how many replaced).
    Acts on a copy with fresh bound variables, so a bound index never meets a fact about
    a free symbol of the same name."""
    known = facts.values_of(base)

    def attempt(node: Expr, scope: Scope):
        if not (isinstance(node, Indexed) and node.base == base):
            return None
        index = node.indices[0]
        for lo, hi, value in known:
            if nonneg(index - lo, facts, scope) and nonneg(hi - index, facts, scope):
                return ("new", value)
        return None

    result, count, _ = replace_where(fresh_bound(expr), attempt)
    return result, count


__all__ = [
    "MAX_EXPLICIT",
    "Interval",
    "KernelError",
    "alpha_key",
    "bound_scopes",
    "canonical",
    "check_convergence",
    "check_defined",
    "check_language",
    "check_line",
    "domain_problem",
    "equivalent",
    "evaluated",
    "fresh_bound",
    "is_zero",
    "limit_value",
    "nonneg",
    "nonzero",
    "outer_limit",
    "range_not_reversed",
    "replace_where",
    "substitute",
    "use_values",
    "vanishes_at_infinity",
    "within",
]
