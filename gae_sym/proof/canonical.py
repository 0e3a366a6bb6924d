"""A canonical form for expressions with symbolic sums, and the equality test built on it.

Two expressions are accepted as equal when their canonical forms differ by something
that expands (or, for rational coefficients such as (1 − λ)·λ^l/(1 − λ), cancels) to
zero. The canonical form applies only identities that hold for every value of the
symbols (SymPy's Karr convention makes Σ_{x=a}^{b} linear in its summand for any
bounds):

* every sum and product gets a bound variable named by its nesting depth, so that
  Σ_l γ^l δ_{t+l} and Σ_j γ^j δ_{t+j} are the same object;
* a sum of several terms is split into one sum per term, and factors free of the
  summation variable are pulled out (linearity);
* every summand is expanded with powers split (γ^{l+1} → γ·γ^l, (γλ)^l → γ^l λ^l);
  q^{a+b} = q^a q^b is applied formally (``force=True``): exact for q ≠ 0, and the
  theorems here are polynomial or power-series identities in γ, λ ∈ [0, 1] on index
  ranges where every exponent is nonnegative, so they extend to 0 by continuity.
  (ab)^z = a^z b^z is applied only where SymPy's assumptions make it true (integer z,
  or nonnegative a, b), never forced: √(xy) = √x √y is false for x, y < 0;
* a sum or product with numeric bounds and at most 16 terms is written out (the empty
  sum is 0, the empty product 1).

Nothing here calls ``doit``: no symbolic or infinite sum is ever evaluated, so none of
SymPy's silent wrong answers on such sums (see ``tests/test_sympy_pitfalls.py``) can
leak into an equality test. A ``False`` from :func:`equivalent` means "not shown equal",
never "different".
"""

from __future__ import annotations

from sympy import (
    Add,
    Dummy,
    Expr,
    Indexed,
    Limit,
    Mul,
    Product,
    Sum,
    Symbol,
    cancel,
    expand,
    together,
)

_MAX_EXPLICIT = 16


def expand_all(expr: Expr) -> Expr:
    """Expand products and split powers (γ^{l+1} → γ·γ^l, (γλ)^l → γ^l·λ^l).

    q^{a+b} = q^a·q^b holds for every q ≠ 0 (one branch of the logarithm on both sides),
    so it is forced; (ab)^z = a^z·b^z is not an identity (√(xy) ≠ √x·√y for x, y < 0), so
    SymPy applies it only where the assumptions allow it: integer z, or a, b ≥ 0.
    """
    split_sums = expand(expr, power_exp=True, power_base=False, mul=True, force=True)
    return expand(split_sums, power_exp=True, power_base=True, mul=True, multinomial=True)


def bound_symbol(depth: int) -> Symbol:
    """The canonical name of the variable bound by a sum or product at nesting ``depth``."""
    return Symbol(f"_i{depth}", integer=True)


def canonical(expr: Expr) -> Expr:
    """The canonical form of ``expr`` (see the module docstring); never evaluates a sum."""
    return expand_all(_canon(expr, 0))


def _canon(expr: Expr, depth: int) -> Expr:
    if isinstance(expr, Sum):
        return _canon_sum(expr, depth)
    if isinstance(expr, Product):
        return _canon_product(expr, depth)
    if isinstance(expr, Limit):
        inner, var, point = expr.args[0], expr.args[1], expr.args[2]
        return Limit(canonical(_canon(inner, depth)), var, point)
    if isinstance(expr, Indexed):
        # Indices are integer expressions: expanded, they compare structurally.
        return Indexed(expr.base, *[expand(_canon(i, depth)) for i in expr.indices])
    if not expr.args:
        return expr
    return expr.func(*[_canon(arg, depth) for arg in expr.args])


def _rename_bound(expr: Sum | Product, depth: int) -> tuple[Expr, list[tuple]]:
    """Nest multiple limits and rename the bound variable; returns (summand, [(x, a, b)])."""
    function = expr.function
    limits = list(expr.limits)
    # Σ_{(x1,..),(x2,..)} f = Σ_{x2} Σ_{x1} f: the first limit is the innermost sum.
    if len(limits) > 1:
        inner = expr.func(function, *limits[:-1])
        function, limits = inner, limits[-1:]
    var, lower, upper = limits[0]
    new = bound_symbol(depth)
    return function.xreplace({var: new}), [
        (new, expand(_canon(lower, depth)), expand(_canon(upper, depth)))
    ]


def _numeric_terms(function: Expr, var: Symbol, lower: Expr, upper: Expr) -> list | None:
    """The terms of a sum/product with numeric bounds (at most 16), else None.

    Σ_{x=a}^{a−1} is empty (0; Π is 1); wider reversed ranges follow Karr's convention
    and are left alone.
    """
    count = upper - lower + 1
    if not (count.is_Integer and 0 <= count <= _MAX_EXPLICIT):
        return None
    return [function.xreplace({var: lower + i}) for i in range(int(count))]


def _canon_sum(expr: Sum, depth: int) -> Expr:
    function, ((var, lower, upper),) = _rename_bound(expr, depth)
    terms = _numeric_terms(function, var, lower, upper)
    if terms is not None:
        return _canon(Add(*terms), depth)
    summand = expand_all(_canon(function, depth + 1))
    total = []
    for term in Add.make_args(summand):
        free, bound = [], []
        for factor in Mul.make_args(term):
            (bound if factor.has(var) else free).append(factor)
        total.append(Mul(*free) * Sum(Mul(*bound), (var, lower, upper)))
    return Add(*total)


def _canon_product(expr: Product, depth: int) -> Expr:
    function, ((var, lower, upper),) = _rename_bound(expr, depth)
    terms = _numeric_terms(function, var, lower, upper)
    if terms is not None:
        return _canon(Mul(*terms), depth)
    return Product(expand_all(_canon(function, depth + 1)), (var, lower, upper))


def _opaque(expr: Expr) -> Expr:
    """Replace every sum, product, limit and sequence element by a fresh symbol."""
    found = sorted(expr.atoms(Sum, Product, Limit, Indexed), key=str)
    return expr.xreplace({item: Dummy() for item in found})


def is_zero(expr: Expr) -> bool:
    """True when ``expr`` is shown to be identically zero; False means "not shown"."""
    difference = canonical(expr)
    if difference == 0:
        return True
    # Coefficients may be rational functions of γ and λ that expand does not cancel.
    # Sums and sequence elements become opaque symbols, so cancel() cannot look inside
    # them: it only does exact rational-function arithmetic on their coefficients.
    flat = _opaque(difference)
    if cancel(flat) == 0:
        return True
    return expand(together(flat).as_numer_denom()[0]) == 0


def equivalent(left: Expr, right: Expr) -> bool:
    """True when ``left`` and ``right`` are shown equal (canonical forms agree)."""
    return is_zero(left - right)


__all__ = ["bound_symbol", "canonical", "equivalent", "expand_all", "is_zero"]
