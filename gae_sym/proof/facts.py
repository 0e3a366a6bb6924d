"""Typed facts: what an assumption says, in a form the kernel can use and nothing else.

A :class:`Facts` value holds four kinds of fact, and rules may use no others:

* ``ranges``: an expression lies in an interval, e.g. λ ∈ [0, 1), γλ ∈ [0, 1);
* ``bounded``: a sequence is bounded, |x_t| ≤ C for every t (by IndexedBase label);
* ``definitions``: a named definition is in force (e.g. ``delta-segment``: inside a segment
  δ_t = r_t + γ V(s_{t+1}) − V(s_t); ``A-recursion``: the backward recursion of GAE);
* ``values``: a free sequence takes one value on an integer range, x_u = c for every
  integer u with lo ≤ u ≤ hi (e.g. a response mask that is 0 on a gap of tool tokens);
  (base, lo, hi, c) tuples, used only by the rule ``UseValues``.

Conditions are *proved* from these by interval arithmetic (:meth:`Facts.interval`), with
open and closed ends tracked exactly; a condition that interval arithmetic cannot show
is refused, never assumed. Symbols' own SymPy assumptions (integer, nonnegative,
positive) are facts too. This module is part of the trusted base (see
``gae_sym/proof/kernel.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sympy import (
    Add,
    Dummy,
    Expr,
    Indexed,
    Integer,
    Limit,
    Mul,
    Number,
    Pow,
    Product,
    S,
    Sum,
    Symbol,
    oo,
)

# δ_t = r_t + γ(1 − term_t) V(s'_t) − V(s_t) is bounded when r, V and V' are: both
# definitions of δ (the flagged one and the segment one) are sums of bounded terms
# (γ ∈ [0, 1], flags in {0, 1}).
DERIVED_BOUNDED = {"delta": ("r", "V", "V'", "term")}


_ALPHA = [Dummy(f"a{i}", integer=True) for i in range(48)]


def alpha_key(expr: Expr) -> Expr:
    """``expr`` with the variables bound by sums, products and limits renamed by nesting
    depth, so that alpha-equivalent expressions (Σ_l f(l) and Σ_j f(j)) compare equal."""
    return rename_by_depth(S(expr), lambda var, depth: _ALPHA[depth])


def rename_by_depth(expr: Expr, name, depth: int = 0) -> Expr:
    """Rename each bound variable to ``name(old, depth)`` by its nesting depth. xreplace is
    safe here: it renames an inner binder of the same variable consistently, and the new
    names are private symbols no user expression contains."""
    if isinstance(expr, (Sum, Product)):
        var, lower, upper = expr.limits[-1]
        body = (
            expr.function if len(expr.limits) == 1 else expr.func(expr.function, *expr.limits[:-1])
        )
        new = name(var, depth)
        inner = rename_by_depth(body.xreplace({var: new}), name, depth + 1)
        return expr.func(
            inner, (new, rename_by_depth(lower, name, depth), rename_by_depth(upper, name, depth))
        )
    if isinstance(expr, Limit):
        body, var, point = expr.args[0], expr.args[1], expr.args[2]
        new = name(var, depth)
        return Limit(rename_by_depth(body.xreplace({var: new}), name, depth + 1), new, point)
    if not expr.args or not expr.has(Sum, Product, Limit):
        return expr
    return expr.func(*[rename_by_depth(arg, name, depth) for arg in expr.args])


@dataclass(frozen=True)
class Interval:
    """A real interval with open or closed ends; ``lo``/``hi`` may be −∞/∞ (always open)."""

    lo: Expr
    hi: Expr
    lo_open: bool = False
    hi_open: bool = False

    @staticmethod
    def point(value: Expr) -> Interval:
        return Interval(value, value)

    @staticmethod
    def everything() -> Interval:
        return Interval(-oo, oo, True, True)

    def __post_init__(self) -> None:
        # Infinite ends are never attained.
        if self.lo == -oo:
            object.__setattr__(self, "lo_open", True)
        if self.hi == oo:
            object.__setattr__(self, "hi_open", True)

    def __str__(self) -> str:
        lo = "(" if self.lo_open else "["
        hi = ")" if self.hi_open else "]"
        return f"{lo}{self.lo}, {self.hi}{hi}"

    def intersect(self, other: Interval) -> Interval:
        if self.lo > other.lo or (self.lo == other.lo and self.lo_open):
            lo, lo_open = self.lo, self.lo_open
        else:
            lo, lo_open = other.lo, other.lo_open
        if self.hi < other.hi or (self.hi == other.hi and self.hi_open):
            hi, hi_open = self.hi, self.hi_open
        else:
            hi, hi_open = other.hi, other.hi_open
        return Interval(lo, hi, lo_open, hi_open)

    def within(self, other: Interval) -> bool:
        """Every point of self lies in other."""
        lo_ok = self.lo > other.lo or (self.lo == other.lo and (self.lo_open or not other.lo_open))
        hi_ok = self.hi < other.hi or (self.hi == other.hi and (self.hi_open or not other.hi_open))
        return bool(lo_ok and hi_ok)

    def excludes_zero(self) -> bool:
        above = self.lo > 0 or (self.lo == 0 and self.lo_open)
        below = self.hi < 0 or (self.hi == 0 and self.hi_open)
        return bool(above or below)

    def nonnegative(self) -> bool:
        return bool(self.lo >= 0)

    def __add__(self, other: Interval) -> Interval:
        return Interval(
            self.lo + other.lo,
            self.hi + other.hi,
            self.lo_open or other.lo_open,
            self.hi_open or other.hi_open,
        )

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo, self.hi_open, self.lo_open)

    def __mul__(self, other: Interval) -> Interval:
        # Every value an interval describes is a finite real (the kernel's language has no
        # infinite values), so the attained point 0 times anything is 0.
        for a in (self, other):
            if a.lo == 0 and a.hi == 0 and not (a.lo_open or a.hi_open):
                return Interval.point(S.Zero)
        if self.nonnegative() and other.nonnegative():
            return _product_nonneg(self, other)
        if self.hi <= 0 and other.nonnegative():
            return -_product_nonneg(-self, other)
        if self.nonnegative() and other.hi <= 0:
            return -_product_nonneg(self, -other)
        if self.hi <= 0 and other.hi <= 0:
            return _product_nonneg(-self, -other)
        # Mixed signs: the endpoint products bound the product; ends taken as closed
        # (a weaker, still true, statement).
        corners = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi) if _finite(a, b)]
        if len(corners) < 4:
            return Interval.everything()
        return Interval(min(corners), max(corners))


def _finite(*values: Expr) -> bool:
    return all(v not in (oo, -oo) for v in values)


def _product_nonneg(a: Interval, b: Interval) -> Interval:
    """[a]·[b] for intervals in [0, ∞): an end of the product is attained only when the
    ends it comes from are (or one of them is an attained 0)."""
    lo = a.lo * b.lo
    lo_attained = (a.lo == 0 and not a.lo_open) or (b.lo == 0 and not b.lo_open)
    lo_attained = lo_attained or (not a.lo_open and not b.lo_open)
    if a.hi == oo or b.hi == oo:
        zero_hi = (a.hi == 0 and not a.hi_open) or (b.hi == 0 and not b.hi_open)
        return Interval(lo, S.Zero if zero_hi else oo, not lo_attained, not zero_hi)
    hi = a.hi * b.hi
    hi_attained = (a.hi == 0 and not a.hi_open) or (b.hi == 0 and not b.hi_open)
    hi_attained = hi_attained or (not a.hi_open and not b.hi_open)
    return Interval(lo, hi, not lo_attained, not hi_attained)


def _declared(symbol: Expr) -> Interval:
    """What a symbol's (or a sequence element's) own SymPy assumptions say about its value."""
    if symbol.is_integer and symbol.is_positive:
        return Interval(S.One, oo)
    if symbol.is_positive:
        return Interval(S.Zero, oo, True, True)
    if symbol.is_nonnegative:
        return Interval(S.Zero, oo)
    if symbol.is_negative:
        return Interval(-oo, S.Zero, True, True)
    if symbol.is_nonpositive:
        return Interval(-oo, S.Zero)
    return Interval.everything()


@dataclass(frozen=True)
class Facts:
    """Typed facts in force (see the module docstring). Combine with ``|``."""

    ranges: tuple[tuple[Expr, Interval], ...] = ()
    bounded: frozenset[str] = frozenset()
    definitions: frozenset[str] = frozenset()
    values: tuple[tuple[Any, Expr, Expr, Expr], ...] = ()

    def __or__(self, other: Facts) -> Facts:
        ranges = self.ranges + tuple(r for r in other.ranges if r not in self.ranges)
        values = self.values + tuple(v for v in other.values if v not in self.values)
        return Facts(
            ranges, self.bounded | other.bounded, self.definitions | other.definitions, values
        )

    def values_of(self, base) -> tuple[tuple[Expr, Expr, Expr], ...]:
        """The (lo, hi, c) facts x_u = c for lo ≤ u ≤ hi about the sequence ``base``."""
        return tuple((lo, hi, c) for b, lo, hi, c in self.values if b == base)

    def bounds(self, base) -> bool:
        """Is the sequence ``base`` (an IndexedBase) bounded? A project sequence (r, V, V',
        δ, flags) is known by its object, never by its label alone: an IndexedBase("delta")
        of someone else's is not the project's δ, and is bounded only if stated by a
        label no project sequence uses."""
        from gae_sym.symbols import PROJECT_SEQUENCES

        label = str(base.label)
        project = PROJECT_SEQUENCES.get(label)
        if project is not None and base != project:
            return False
        return label in self.bounded_labels()

    def bounded_labels(self) -> frozenset[str]:
        """Bounded sequences, with those bounded by their definition (δ from r and V)."""
        labels = set(self.bounded)
        for name, parts in DERIVED_BOUNDED.items():
            if set(parts) <= labels:
                labels.add(name)
        return frozenset(labels)

    def interval(self, expr: Expr, extra: Mapping[Symbol, Interval] | None = None) -> Interval:
        """An interval that contains every value of ``expr`` the facts allow.

        ``extra`` gives intervals for symbols (bound variables in their ranges).
        """
        expr = S(expr)
        found = Interval.everything()
        for key, interval in self.ranges:
            if key == expr or (expr.has(Sum, Product) and alpha_key(key) == alpha_key(expr)):
                found = found.intersect(interval)
        return found.intersect(self._compute(expr, extra or {}))

    def _compute(self, expr: Expr, extra: Mapping[Symbol, Interval]) -> Interval:
        if isinstance(expr, Number):
            if expr.is_finite and expr.is_real:
                return Interval.point(expr)
            return Interval.everything()
        if isinstance(expr, Symbol):
            declared = _declared(expr)
            if expr in extra:
                declared = declared.intersect(extra[expr])
            return declared
        if isinstance(expr, Indexed):
            return _declared(expr)  # x_t of IndexedBase("x", positive=True) is positive
        if isinstance(expr, Add):
            total = Interval.point(S.Zero)
            for term in expr.args:
                total = total + self.interval(term, extra)
            return total
        if isinstance(expr, Mul):
            return self._product(expr, extra)
        if isinstance(expr, Pow) and isinstance(expr.exp, Integer):
            return self._integer_power(self.interval(expr.base, extra), int(expr.exp))
        if isinstance(expr, Pow) and expr.exp.is_integer and expr.exp.is_nonnegative:
            base = self.interval(expr.base, extra)
            # b ∈ [0, 1] ⇒ b^k ∈ [0, 1] for integers k ≥ 0 (0^0 = 1).
            if base.within(Interval(S.Zero, S.One)):
                return Interval(S.Zero, S.One)
            if base.lo >= 1:
                return Interval(S.One, oo)
        return Interval.everything()

    def _product(self, expr: Mul, extra: Mapping[Symbol, Interval]) -> Interval:
        factors = list(expr.args)
        # A fact about a sub-product (γλ < 1 inside γλ·x) is used before splitting it.
        for key, interval in self.ranges:
            if isinstance(key, Mul) and set(key.args) <= set(factors) and key != expr:
                rest = list(factors)
                for f in key.args:
                    rest.remove(f)
                result = interval
                for f in rest:
                    result = result * self.interval(f, extra)
                return result
        result = Interval.point(S.One)
        for f in factors:
            result = result * self.interval(f, extra)
        return result

    @staticmethod
    def _integer_power(base: Interval, k: int) -> Interval:
        if k == 0:
            return Interval.point(S.One)
        if k > 0:
            if base.nonnegative():
                result = Interval.point(S.One)
                for _ in range(k):
                    result = result * base
                return result
            return Interval.everything()
        # Negative powers: only of intervals bounded away from 0 on the positive side.
        if base.lo > 0 and base.hi != oo:
            inverse = Interval(1 / base.hi, 1 / base.lo, base.hi_open, base.lo_open)
            return Facts._integer_power(inverse, -k)
        if base.lo > 0:
            return Facts._integer_power(Interval(S.Zero, 1 / base.lo, True, base.lo_open), -k)
        return Interval.everything()

    # --- conditions rules ask for ---------------------------------------------------------

    def nonzero(self, expr: Expr, extra: Mapping[Symbol, Interval] | None = None) -> bool:
        expr = S(expr)
        if isinstance(expr, Number):
            return bool(expr != 0 and expr.is_finite)
        return self.interval(expr, extra).excludes_zero()

    def nonnegative(self, expr: Expr, extra: Mapping[Symbol, Interval] | None = None) -> bool:
        return self.interval(expr, extra).nonnegative()

    def below_one_in_size(self, expr: Expr) -> bool:
        """|expr| < 1."""
        return self.interval(expr).within(Interval(S.NegativeOne, S.One, True, True))

    def at_most_one_in_size(self, expr: Expr) -> bool:
        """|expr| ≤ 1."""
        return self.interval(expr).within(Interval(S.NegativeOne, S.One))

    def allows(self, symbol: Symbol, value: Expr) -> str | None:
        """Why ``symbol = value`` contradicts a fact in force, else None."""
        for key, interval in self.ranges:
            if not key.has(symbol):
                continue
            instance = key.xreplace({symbol: value})
            if not self.interval(instance).within(interval):
                return f"{symbol} = {value} breaks the fact {_show(key, interval)}"
        return None

    def describe(self) -> list[str]:
        """The facts in words (for reports)."""
        lines = [_show(key, interval) for key, interval in self.ranges]
        lines += [f"|{label}_t| <= C for all t" for label in sorted(self.bounded)]
        lines += [f"definition {name}" for name in sorted(self.definitions)]
        lines += [f"{b.label}_u = {c} for {lo} <= u <= {hi}" for b, lo, hi, c in self.values]
        return lines


def _show(key: Expr, interval: Interval) -> str:
    return f"{key} in {interval}"


def unit_interval(open_above: bool = False) -> Interval:
    """[0, 1] or [0, 1)."""
    return Interval(S.Zero, S.One, False, open_above)


def facts_from(
    ranges: Iterable[tuple[Expr, Interval]] = (),
    bounded: Iterable[str] = (),
    definitions: Iterable[str] = (),
    values: Iterable[tuple[Any, Expr, Expr, Expr]] = (),
) -> Facts:
    values = tuple((base, S(lo), S(hi), S(c)) for base, lo, hi, c in values)
    return Facts(tuple(ranges), frozenset(bounded), frozenset(definitions), values)


@dataclass(frozen=True)
class Assumption:
    """A named hypothesis: an id, the words, its LaTeX, and the typed facts it grants.

    ``ranges`` are (expression, interval) facts, ``bounded`` names bounded sequences
    (IndexedBase labels), ``definitions`` the definitions it puts in force and ``values``
    (sequence, lo, hi, c) facts x_u = c for lo ≤ u ≤ hi. For
    compatibility, ``ratios`` lists expressions the assumption puts in [0, 1) (each
    becomes a range fact). Rules use only these facts, never the words.
    """

    name: str
    text: str
    latex: str
    bounded: tuple[str, ...] = ()
    ratios: tuple[Expr, ...] = ()
    ranges: tuple[tuple[Expr, Interval], ...] = ()
    definitions: tuple[str, ...] = ()
    values: tuple[tuple[Any, Expr, Expr, Expr], ...] = ()
    facts: Facts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ranges = tuple(self.ranges) + tuple((S(r), unit_interval(True)) for r in self.ratios)
        facts = facts_from(ranges, self.bounded, self.definitions, self.values)
        object.__setattr__(self, "facts", facts)

    @property
    def convergence(self) -> bool:
        """True for an assumption that makes some series converge."""
        return bool(self.ratios) or any(iv.hi < 1 or iv.hi_open for _, iv in self.ranges)


__all__ = [
    "DERIVED_BOUNDED",
    "Assumption",
    "Facts",
    "Interval",
    "alpha_key",
    "facts_from",
    "rename_by_depth",
    "unit_interval",
]
