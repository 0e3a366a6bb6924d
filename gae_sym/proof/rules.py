"""The rules a derivation step may cite. SymPy executes each one.

A rule turns the previous expression of a chain into a new one; the engine accepts the
step only when that result and the expression the lecturer wrote have the same
canonical form (:mod:`gae_sym.proof.canonical`). A rule that cannot apply raises
:class:`RuleError` with the reason in words.

Sums follow SymPy's convention (M. Karr, "Summation in finite terms", J. ACM 28, 1981):
Σ_{x=a}^{a−1} f = 0 and Σ_{x=a}^{b} f = −Σ_{x=b+1}^{a−1} f for b < a − 1, under which
splitting off a first or last term and shifting an index are identities for every pair
of finite bounds (products: for ranges that are not reversed, which the rules check).
Rules that touch an infinite sum (splitting its first term, swapping the order of
summation, substituting a value into it, passing to the limit) are valid only for
convergent series: they refuse to run unless the step names the assumption that makes
the series converge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sympy import (
    Add,
    Expr,
    Indexed,
    Limit,
    Mul,
    Piecewise,
    Pow,
    Product,
    Sum,
    Symbol,
    cancel,
    expand,
    oo,
    piecewise_fold,
    refine,
    sympify,
)

from gae_sym.proof.canonical import canonical, equivalent, is_zero

if TYPE_CHECKING:
    from gae_sym.proof.core import Proof

Selector = Callable[[Expr], bool]


class RuleError(Exception):
    """The rule does not apply to the expression it was given; the message says why."""


def involving(*pieces: Expr) -> Selector:
    """Select the sums or products whose body contains every one of ``pieces``."""

    def select(node: Expr) -> bool:
        return all(node.function.has(piece) for piece in pieces)

    return select


def _everything(node: Expr) -> bool:
    return True


def _is_infinite(bound: Expr) -> bool:
    return bool(bound.has(oo, -oo))


def _limit(node: Sum | Product) -> tuple[Symbol, Expr, Expr]:
    """The outermost limit (x, a, b) of a sum or product."""
    return node.limits[-1]


def _body(node: Sum | Product) -> Expr:
    """What the outermost limit sums over: Σ_{(y..),(x..)} f = Σ_x [Σ_y f].

    SymPy flattens a sum of a sum into one ``Sum`` with several limits, the first limit
    innermost; rules act on the outermost variable.
    """
    if len(node.limits) == 1:
        return node.function
    return node.func(node.function, *node.limits[:-1])


def _rewrite(expr: Expr, var: Symbol, select: Selector, change: Callable, kinds=(Sum,)) -> Expr:
    """Apply ``change`` to every sum/product over ``var`` that ``select`` accepts."""
    hits = []

    def matches(node: Expr) -> bool:
        return isinstance(node, kinds) and node.limits[-1][0] == var and select(node)

    def transform(node: Expr) -> Expr:
        hits.append(node)
        return change(node)

    result = expr.replace(matches, transform)
    if not hits:
        raise RuleError(f"no sum over {var} matching the selection in the previous line")
    return result


def _check_product_range(node: Expr, lower: Expr, upper: Expr) -> None:
    """Products split only over ranges known not to be reversed.

    SymPy defines Π_{a}^{b} = 1 / Π_{b+1}^{a−1} for b < a − 1; there splitting off a
    factor that may be 0 is not an identity.
    """
    finite_product = isinstance(node, Product) and not _is_infinite(upper)
    if finite_product and (upper - lower + 1).is_nonnegative is not True:
        raise RuleError(f"cannot show the product range {lower} .. {upper} is not reversed")


@dataclass(frozen=True)
class Rule:
    """Base class: ``apply`` maps the previous expression to the justified next one."""

    name = "rule"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_origin(self, origin: Expr) -> None:
        """Checks a rule needs on the expression the chain started from (default: none)."""

    def normalise(self, expr: Expr) -> Expr:
        """Applied to both the rule's result and the claim before comparing them."""
        return expr

    def assumptions(self) -> tuple[str, ...]:
        """Names of the assumptions this rule's use depends on."""
        return ()


@dataclass(frozen=True)
class Canonicalise(Rule):
    """Expand, collect powers, cancel rational coefficients: plain algebra."""

    name = "canonicalise"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        return previous


@dataclass(frozen=True)
class Linearity(Canonicalise):
    """Σ(a f + b g) = a Σf + b Σg: split or merge sums with the same bounds."""

    name = "linearity"


def project_definitions() -> dict[Any, tuple[tuple[Callable[[Expr], Expr], str | None], ...]]:
    """The sequences a step may unfold, each with its definitions of gae_sym.estimators
    and the assumption (if any) under which that form is the definition."""
    from gae_sym.estimators import td_error, td_error_flagged
    from gae_sym.symbols import delta

    return {delta: ((td_error, "segment"), (td_error_flagged, None))}


@dataclass(frozen=True)
class Unfold(Rule):
    """Replace a sequence element by its definition, e.g. δ_{t+l} by r_{t+l} + γV − V.

    ``definition(i)`` is the definition at time ``i``; with ``at`` only those times are
    unfolded. The claim is unfolded the same way before comparing, so the rule also
    folds a definition back (reading the step from right to left).

    The definition must be one of the project's (:func:`project_definitions`), or a step
    could unfold δ into anything; the segment form of δ cites the assumption that makes
    it the definition (V(s'_t) = V(s_{t+1}) inside a segment).
    """

    base: Any
    definition: Callable[[Expr], Expr]
    at: tuple = ()
    name = "unfold"

    def _source(self) -> tuple[bool, str | None]:
        """(is a project definition, the assumption it needs)."""
        time = Symbol("_time", integer=True)
        for definition, assumption in project_definitions().get(self.base, ()):
            if equivalent(self.definition(time), definition(time)):
                return True, assumption
        return False, None

    def assumptions(self) -> tuple[str, ...]:
        known, assumption = self._source()
        return (assumption,) if known and assumption else ()

    def _unfold(self, expr: Expr) -> Expr:
        def matches(node: Expr) -> bool:
            if getattr(node, "base", None) != self.base or not hasattr(node, "indices"):
                return False
            return not self.at or any(expand(node.indices[0] - a) == 0 for a in self.at)

        return expr.replace(matches, lambda node: self.definition(node.indices[0]))

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        if not self._source()[0]:
            raise RuleError(f"the definition given for {self.base} is not the project's")
        result = self._unfold(previous)
        if result == previous:
            raise RuleError(f"{self.base} does not occur in the previous line")
        return result

    def normalise(self, expr: Expr) -> Expr:
        return self._unfold(expr)


@dataclass(frozen=True)
class _SumRule(Rule):
    var: Symbol = None
    select: Selector = _everything
    assumption: str | None = None

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()


@dataclass(frozen=True)
class SplitFirst(_SumRule):
    """Σ_{x=a}^{b} f(x) = f(a) + Σ_{x=a+1}^{b} f(x) (Π likewise, as a factor)."""

    name = "split-first"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        def change(node):
            var, lower, upper = _limit(node)
            if _is_infinite(lower):
                raise RuleError("the lower limit is infinite: there is no first term")
            if _is_infinite(upper) and not self.assumption:
                raise RuleError("splitting an infinite sum needs a named convergence assumption")
            _check_product_range(node, lower, upper)
            body = _body(node)
            first = body.subs(var, lower)
            rest = node.func(body, (var, lower + 1, upper))
            return first * rest if isinstance(node, Product) else first + rest

        return _rewrite(previous, self.var, self.select, change, (Sum, Product))


@dataclass(frozen=True)
class SplitLast(_SumRule):
    """Σ_{x=a}^{b} f(x) = Σ_{x=a}^{b−1} f(x) + f(b) (Π likewise, as a factor)."""

    name = "split-last"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        def change(node):
            var, lower, upper = _limit(node)
            if _is_infinite(upper):
                raise RuleError("the upper limit is infinite: there is no last term")
            _check_product_range(node, lower, upper)
            body = _body(node)
            last = body.subs(var, upper)
            rest = node.func(body, (var, lower, upper - 1))
            return rest * last if isinstance(node, Product) else rest + last

        return _rewrite(previous, self.var, self.select, change, (Sum, Product))


@dataclass(frozen=True)
class ShiftIndex(_SumRule):
    """Σ_{x=a}^{b} f(x) = Σ_{x=a+k}^{b+k} f(x − k), through ``Sum.change_index``."""

    by: int = 0
    name = "shift-index"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        def change(node):
            var, lower, _ = _limit(node)
            shifted = node.func(_body(node), node.limits[-1]).change_index(var, var + self.by)
            # A variable declared nonnegative must not range over negative integers,
            # or SymPy would simplify its powers with a false assumption.
            if (var.is_nonnegative and (lower + self.by).is_nonnegative is not True) or (
                var.is_positive and (lower + self.by).is_positive is not True
            ):
                raise RuleError(f"the shifted range of {var} leaves its declared domain")
            return shifted

        return _rewrite(previous, self.var, self.select, change, (Sum, Product))


@dataclass(frozen=True)
class Induction(Rule):
    """Prove ``previous = claimed`` for all integers ``var ≥ base`` by induction.

    ``base`` must not exceed the least value ``var`` is declared to take (1 for a
    positive symbol). Base case: both sides at ``var = base``, compared in canonical
    form (sums with numeric bounds written out term by term, nothing evaluated by
    ``doit``). Step: in the case ``var + 1`` every sum or product whose bounds
    depend on ``var`` has its new last terms peeled off; after subtracting the case
    ``var`` (the induction hypothesis) the remainder must vanish.
    """

    var: Symbol = None
    base: int = 1
    name = "induction"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        gap = previous - claimed
        if any(_is_infinite(b) for s in gap.atoms(Sum) for limit in s.limits for b in limit[1:]):
            raise RuleError("induction works on finite forms; this line has an infinite sum")
        # The claim is for every value the variable is declared to take (n ≥ 1 for a
        # positive n): a base case above that would leave the first values unproved.
        if (self.var - self.base).is_nonnegative is not True:
            raise RuleError(
                f"base case {self.var} = {self.base} does not cover every {self.var} "
                "the statement is about (declare the variable's domain or lower the base)"
            )
        # No doit(): the canonical form writes out sums with numeric bounds term by term,
        # and leaves any other sum alone instead of trusting SymPy to evaluate it.
        base_case = gap.subs(self.var, self.base)
        if not is_zero(base_case):
            raise RuleError(f"base case {self.var} = {self.base} fails: residue {base_case}")
        following = peel_new_terms(gap.subs(self.var, self.var + 1), self.var)
        if not is_zero(following - gap):
            residue = canonical(following - gap)
            raise RuleError(f"induction step {self.var} -> {self.var} + 1 fails: residue {residue}")
        return claimed


def peel_new_terms(expr: Expr, var: Symbol) -> Expr:
    """In ``expr`` at ``var + 1``, write each sum over ``..upper(var+1)`` as the sum up
    to ``upper(var)`` plus the extra last terms, so the case ``var`` appears in it."""

    def matches(node: Expr) -> bool:
        return isinstance(node, (Sum, Product)) and any(
            bound.has(var) for bound in node.limits[-1][1:]
        )

    def peel(node: Expr) -> Expr:
        x, lower, upper = _limit(node)
        body = _body(node)
        if lower.has(var):
            raise RuleError("induction peels upper limits only; a lower limit moves with it")
        previous_upper = upper.subs(var, var - 1)
        count = expand(upper - previous_upper)
        if not (count.is_Integer and count >= 0):
            raise RuleError(f"the upper limit {upper} does not grow by a fixed number of terms")
        terms = [body.subs(x, previous_upper + i) for i in range(1, int(count) + 1)]
        rest = node.func(body, (x, lower, previous_upper))
        return Mul(rest, *terms) if isinstance(node, Product) else Add(rest, *terms)

    return expr.replace(matches, peel)


@dataclass(frozen=True)
class SwapTriangle(Rule):
    """Σ_{n=a}^{B} Σ_{l=c}^{n−s} f = Σ_{l=c}^{B−s} Σ_{n=l+s}^{B} f, for a ∈ {c+s−1, c+s}.

    Both sides run over the same triangle {(n, l): a ≤ n ≤ B, c ≤ l ≤ n − s}. For B = ∞
    the swap needs absolute convergence, which the step must name as an assumption.
    """

    outer: Symbol = None
    inner: Symbol = None
    assumption: str | None = None
    name = "swap-triangle"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        def change(node):
            n_var, a, big = _limit(node)
            if _is_infinite(big) and not self.assumption:
                raise RuleError(
                    "swapping infinite sums needs a named absolute-convergence assumption"
                )
            body = _body(node)
            inner_sums = [f for f in Mul.make_args(body) if isinstance(f, Sum)]
            # SymPy flattens Σ_n Σ_l Σ_k into one Sum with three limits: the inner sum's
            # outermost limit must be the one swapped, and its own inner sums must stay.
            if len(inner_sums) != 1 or _limit(inner_sums[0])[0] != self.inner:
                raise RuleError(f"the summand is not (factor) × (one sum over {self.inner})")
            inner_sum = inner_sums[0]
            l_var, c, top = _limit(inner_sum)
            s = expand(n_var - top)
            if c.has(n_var) or not s.is_Integer:
                raise RuleError(f"the inner range is not {self.inner} = c .. {n_var} − s")
            # Rows n < c + s − 1 would be reversed ranges (nonzero under Karr's
            # convention), and the swapped inner sum starts at n = l + s ≥ c + s.
            if expand(c + s - a) not in (0, 1):
                raise RuleError("the triangle does not start at the outer lower limit")
            factor = Mul(*[f for f in Mul.make_args(body) if f is not inner_sum])
            if factor.has(l_var):
                raise RuleError(f"a factor outside the inner sum mentions {l_var}")
            body = factor * _body(inner_sum)
            new_inner = Sum(body, (n_var, l_var + s, big))
            return Sum(new_inner, (l_var, c, big - s if not _is_infinite(big) else big))

        return _rewrite(previous, self.outer, _everything, change)


@dataclass(frozen=True)
class GeometricSeries(_SumRule):
    """Σ_{x=a}^{b} c·q^{x+p} in closed form (SymPy's summation), with its ``Piecewise``
    resolved by ``refine(piecewise_fold(·), condition)`` under the named assumption.

    Applies only to sums whose summand depends on ``x`` through powers q^{αx+β} with a
    symbolic base: a numeric base such as 0^{x−1}, or a sequence element indexed by x,
    is refused (SymPy 1.14 sums those wrongly, see tests/test_sympy_pitfalls.py).
    """

    condition: Any = None
    name = "geometric-series"

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        def change(node):
            var, _, upper = _limit(node)
            for factor in Mul.make_args(_body(node)):
                if not factor.has(var):
                    continue
                if not (isinstance(factor, Pow) and not factor.base.has(var)):
                    raise RuleError(f"the summand is not geometric in {var}: factor {factor}")
                if factor.base.is_Number:
                    raise RuleError(f"numeric base {factor.base}: peel terms instead of summing")
                if expand(factor.exp).as_poly(var) is None or factor.exp.as_poly(var).degree() > 1:
                    raise RuleError(f"exponent {factor.exp} is not linear in {var}")
            if _is_infinite(upper) and self.condition is None:
                raise RuleError("an infinite geometric series needs a stated condition (|q| < 1)")
            closed = piecewise_fold(node.doit())
            if self.condition is not None:
                closed = refine(closed, self.condition)
            if closed.has(Piecewise) or closed.has(Sum):
                raise RuleError(f"SymPy leaves the series conditional: {closed}")
            return closed

        return _rewrite(previous, self.var, self.select, change)


@dataclass(frozen=True)
class Substitute(Rule):
    """Substitute values for parameters (λ = 0, λ = 1).

    Into a finite expression this is plain substitution. A series whose summand
    contains a substituted symbol must converge at the new value (the step names that
    assumption); and substituting must not leave a power 0^{f(x)} inside an infinite
    sum over x, the path on which SymPy 1.14 returns wrong answers.
    """

    values: Mapping = field(default_factory=dict)
    assumption: str | None = None
    name = "substitute"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        symbols = set(self.values)
        for node in previous.atoms(Sum):
            infinite = any(_is_infinite(b) for limit in node.limits for b in limit[1:])
            if infinite and node.function.free_symbols & symbols and not self.assumption:
                raise RuleError(
                    "substituting into an infinite sum needs a named assumption that it "
                    "converges at the substituted value"
                )
        result = previous.xreplace(dict(self.values))
        for node in result.atoms(Sum):
            bound = {limit[0] for limit in node.limits}
            infinite = any(_is_infinite(b) for limit in node.limits for b in limit[1:])
            zero_powers = [
                p for p in node.function.atoms(Pow) if p.base == 0 and p.exp.free_symbols & bound
            ]
            if infinite and zero_powers:
                raise RuleError(
                    f"substitution leaves {zero_powers[0]} inside an infinite sum; peel the "
                    "terms where the exponent vanishes first"
                )
        return result


@dataclass(frozen=True)
class PartialSums(Rule):
    """Σ_{x=a}^{∞} f = lim_{M→∞} Σ_{x=a}^{M−1} f: the definition of a series' value."""

    var: Symbol = None
    assumption: str | None = None
    name = "partial-sums"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        if previous.has(self.var):
            raise RuleError(f"{self.var} already occurs in the previous line")

        def matches(node):
            return isinstance(node, Sum) and len(node.limits) == 1 and node.limits[0][2] == oo

        def cut(node):
            x, lower, _ = node.limits[0]
            return Sum(node.function, (x, lower, self.var - 1))

        finite = previous.replace(matches, cut)
        if finite == previous:
            raise RuleError("no infinite sum in the previous line")
        return Limit(finite, self.var, oo)


@dataclass(frozen=True)
class TakeLimit(Rule):
    """Evaluate lim_{M→∞} of a finite form, term by term.

    Terms free of M stay; c·Σ_{x=a}^{M−k} f (c, a, f free of M) become the series
    c·Σ_{x=a}^{∞} f; a term listed in ``vanishing`` goes to 0 by the named assumption
    (e.g. γ^M V(s_{t+M}) → 0 for γ < 1 and bounded V). Anything else is refused.
    """

    vanishing: tuple = ()
    assumption: str | None = None
    name = "take-limit"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        if not isinstance(previous, Limit) or previous.args[2] != oo:
            raise RuleError("the previous line is not a limit M → ∞")
        body, var = previous.args[0], previous.args[1]
        if self.vanishing and not self.assumption:
            raise RuleError("dropping terms in the limit needs a named assumption")
        vanishing = [canonical(v) for v in self.vanishing]
        result = []
        for term in Add.make_args(canonical(body)):
            if not term.has(var):
                result.append(term)
                continue
            if any(_proportional(term, v, var) for v in vanishing):
                continue
            series = [f for f in Mul.make_args(term) if isinstance(f, Sum)]
            coefficient = Mul(*[f for f in Mul.make_args(term) if not isinstance(f, Sum)])
            if len(series) == 1 and not coefficient.has(var):
                x, lower, upper = series[0].limits[0]
                if (
                    not series[0].function.has(var)
                    and not lower.has(var)
                    and expand(upper - var).is_Integer
                ):
                    result.append(coefficient * Sum(series[0].function, (x, lower, oo)))
                    continue
            raise RuleError(f"no limit rule for the term {term}")
        return Add(*result)


def _proportional(term: Expr, target: Expr, var: Symbol) -> bool:
    """``term`` is a constant multiple (free of ``var`` and of any sequence) of ``target``."""
    ratio = cancel(term / target)
    return not ratio.has(var) and not ratio.atoms(Sum, Product, Indexed)


@dataclass(frozen=True)
class ApplyTheorem(Rule):
    """Replace an instance of a proved statement's left side by its right side.

    ``lemma`` is a :class:`~gae_sym.proof.core.Proof`; it is verified (once, cached)
    before use. ``instance`` maps the lemma's free symbols to this step's expressions;
    ``reverse`` replaces the right side by the left side; ``renamed`` maps the lemma's
    assumption names to this derivation's.
    """

    lemma: Proof = None
    instance: Mapping = field(default_factory=dict)
    reverse: bool = False
    renamed: Mapping = field(default_factory=dict)
    name = "apply-theorem"

    def assumptions(self) -> tuple[str, ...]:
        """The lemma's assumptions, renamed where the instance turns them into others
        (n ≥ 1 becomes N ≥ 1 for the instance n = N)."""
        return tuple(self.renamed.get(a, a) for a in self.lemma.assumption_names())

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        outcome = self.lemma.check()
        if outcome is not None:
            raise RuleError(f"the cited result '{self.lemma.title}' is not proved: {outcome[1]}")
        _check_instance_domain(self.instance)
        # A lemma stated at fixed parameter values (λ = 0) proves lhs = rhs only there.
        specialised = dict(self.lemma.statement.at)
        old = self.lemma.statement.lhs.xreplace(specialised).xreplace(dict(self.instance))
        new = self.lemma.statement.rhs.xreplace(specialised).xreplace(dict(self.instance))
        if self.reverse:
            old, new = new, old
        # Inside Σ_{n=a}^{b} the lemma is used at n = a, a + 1, ...: a must be in its domain.
        for node in previous.atoms(Sum, Product):
            _check_instance_domain({x: a for x, a, _ in node.limits if x in old.free_symbols})
        result = previous.xreplace({old: new})
        if result == previous:
            result = previous.subs(old, new)
        if result == previous:
            raise RuleError(f"the cited result's side {old} does not occur in the previous line")
        return result


_DOMAIN_PROPERTIES = ("integer", "positive", "nonnegative", "real")


def _check_instance_domain(instance: Mapping) -> None:
    """A lemma proved for a symbol declared (say) a positive integer holds only for
    values SymPy can show to be positive integers."""
    for symbol, value in instance.items():
        value = sympify(value)
        for prop in _DOMAIN_PROPERTIES:
            if getattr(symbol, f"is_{prop}") and getattr(value, f"is_{prop}") is not True:
                raise RuleError(f"cannot show that {symbol} = {value} is {prop}, as the lemma says")


@dataclass(frozen=True)
class SolveRecursion(Rule):
    """A_t is fixed by a backward recursion A_t = R(A_{t+1}) and A_{t+M} = 0 at the end.

    If the previous line shows F(t, M) = R(F(t+1, M−1)) for a closed form F (the chain
    above it proves this for symbolic t and M) and F(t, 0) = 0 (the empty sum, checked
    here), then by induction on the number M of steps left, F(t, M) = A_t.
    """

    sequence: Any = None
    recursion: Callable[[Expr], Expr] = None
    closed_form: Callable[[Expr, Expr], Expr] = None
    time: Symbol = None
    steps: Symbol = None
    name = "solve-recursion"

    def check_origin(self, origin: Expr) -> None:
        if not equivalent(origin, self.closed_form(self.time, self.steps)):
            raise RuleError("the chain does not start from the closed form F(t, M)")

    def apply(self, previous: Expr, claimed: Expr) -> Expr:
        t, m = self.time, self.steps
        expected = self.recursion(t).xreplace(
            {self.sequence[t + 1]: self.closed_form(t + 1, m - 1)}
        )
        if not equivalent(previous, expected):
            raise RuleError("the previous line is not the recursion applied to the closed form")
        boundary = self.closed_form(t, 0)
        if not is_zero(boundary):
            raise RuleError(f"the closed form with no steps left is {boundary}, not 0")
        return self.sequence[t]


__all__ = [
    "ApplyTheorem",
    "Canonicalise",
    "GeometricSeries",
    "Induction",
    "Linearity",
    "PartialSums",
    "Rule",
    "RuleError",
    "ShiftIndex",
    "SolveRecursion",
    "SplitFirst",
    "SplitLast",
    "Substitute",
    "SwapTriangle",
    "TakeLimit",
    "Unfold",
    "involving",
    "peel_new_terms",
    "project_definitions",
]
