"""The rules a derivation step may cite: each proposes the next line, the kernel decides.

A rule maps the previous line of a chain to a new one; the step is accepted only when
the kernel (:mod:`gae_sym.proof.kernel`) admits both lines and finds the rule's result
equal to the line written. A rule that cannot apply raises :class:`RuleError` with the
reason in words. Each rule checks its own side conditions from the *facts in force*
(``ctx.facts``: typed facts of the assumptions, :mod:`gae_sym.proof.facts`): a condition
is never taken from a parameter. Parameters only say *where* to act (which sum, which
index, which lemma).

Sums follow SymPy's convention (M. Karr, "Summation in finite terms", J. ACM 28, 1981):
Σ_{x=a}^{a−1} f = 0 and Σ_{x=a}^{b} f = −Σ_{x=b+1}^{a−1} f for b < a − 1, under which
splitting off a first or last term and shifting an index hold for every pair of finite
bounds (products: only over ranges shown not to be reversed). Infinite series may be
split, shifted, merged and swapped because the kernel admits a line only when each of
its series converges absolutely under the facts in force. Every rule works on a copy of
the previous line whose bound variables are fresh integers with no sign assumption.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sympy import (
    Add,
    Dummy,
    Expr,
    Indexed,
    IndexedBase,
    Limit,
    Mul,
    Pow,
    Product,
    S,
    Sum,
    Symbol,
    expand,
    oo,
)

from gae_sym.proof.facts import Interval
from gae_sym.proof.kernel import (
    KernelError,
    Scope,
    alpha_key,
    canonical,
    check_line,
    domain_problem,
    equivalent,
    evaluated,
    fresh_bound,
    is_zero,
    limit_value,
    nonneg,
    nonzero,
    outer_limit,
    range_not_reversed,
    replace_where,
    substitute,
    use_values,
    within,
)

if TYPE_CHECKING:
    from gae_sym.proof.core import Context, Proof

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
    return bool(S(bound).has(oo, -oo))


def _rewrite(
    expr: Expr,
    name: str,
    select: Selector,
    change: Callable[[Expr, Scope], Expr],
    kinds: tuple = (Sum,),
) -> Expr:
    """Apply ``change(node, scope)`` to every sum/product over the index called ``name``
    that ``select`` accepts (``select`` sees the node as written in the previous line)."""
    hits: list = []
    original = {}

    def walk(node: Expr, scope: Scope) -> Expr:
        if isinstance(node, (Sum, Product)):
            var, lower, upper, function = outer_limit(node)
            body = walk(function, (*scope, (var, lower, upper)))
            rebuilt = node.func(body, (var, lower, upper))
            if isinstance(node, kinds) and var.name == name and select(original.get(node, node)):
                hits.append(node)
                return change(rebuilt, scope)
            return rebuilt
        if isinstance(node, Limit):
            body, var, point = node.args[0], node.args[1], node.args[2]
            return Limit(walk(body, (*scope, (var, S.One, oo))), var, point)
        if not node.args:
            return node
        return node.func(*[walk(arg, scope) for arg in node.args])

    fresh, back = _fresh_with_names(expr)
    for node in fresh.atoms(Sum, Product):
        original[node] = node.xreplace(back)
    result = walk(fresh, ())
    if not hits:
        raise RuleError(f"no sum over {name} matching the selection in the previous line")
    return result


def _fresh_with_names(expr: Expr) -> tuple[Expr, dict]:
    """``fresh_bound(expr)`` and the map from each fresh variable back to the written one
    (so selectors written against the lecture's symbols still find their sums)."""
    fresh = fresh_bound(expr)
    written = {v for node in S(expr).atoms(Sum, Product) for v, _, _ in node.limits}
    by_name = {v.name: v for v in written}
    back = {}
    for node in fresh.atoms(Sum, Product):
        for var, _, _ in node.limits:
            if var.name in by_name:
                back[var] = by_name[var.name]
    return fresh, back


def _open(node: Sum | Product) -> tuple[Symbol, Expr, Expr, Expr]:
    var, lower, upper, body = outer_limit(node)
    return var, body, lower, upper


@dataclass(frozen=True)
class Rule:
    """Base class: ``apply`` proposes the line that follows ``previous``."""

    name = "rule"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:  # pragma: no cover
        raise NotImplementedError

    def check_origin(self, origin: Expr, ctx: Context) -> None:
        """Checks a rule needs on the expression the chain started from (default: none)."""

    def normalise(self, expr: Expr) -> Expr:
        """Applied to both the rule's result and the claim before comparing them."""
        return expr

    def assumptions(self) -> tuple[str, ...]:
        """Names of the assumptions this rule's use depends on (cited automatically)."""
        return ()


@dataclass(frozen=True)
class Canonicalise(Rule):
    """Expand, collect powers, cancel rational coefficients: plain algebra (the kernel)."""

    name = "canonicalise"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        return previous


@dataclass(frozen=True)
class Linearity(Canonicalise):
    """Σ(a f + b g) = a Σf + b Σg: split or merge sums with the same bounds (the kernel)."""

    name = "linearity"


def project_definitions() -> dict[Any, tuple[tuple[Callable[[Expr], Expr], str | None], ...]]:
    """The sequences a step may unfold: each definition of gae_sym.estimators with the
    definition fact (if any) that must be in force for that form to be the definition."""
    from gae_sym.estimators import td_error, td_error_flagged
    from gae_sym.symbols import delta

    return {delta: ((td_error, "delta-segment"), (td_error_flagged, None))}


def project_recursions() -> dict[Any, tuple[Callable[[Expr], Expr], str, str]]:
    """The sequences defined by a backward recursion: sequence → (recursion R with
    X_t = R(t), the definition fact that must be in force, the assumption granting it).
    Each is 0 once no steps are left (at t + N)."""
    from gae_sym.estimators import gae_recursion
    from gae_sym.masked_scan import skip_advantage_recursion, skip_value_recursion
    from gae_sym.symbols import A, U, W

    return {
        A: (gae_recursion, "A-recursion", "recursion"),
        W: (skip_value_recursion, "skip-scan", "skip-scan"),
        U: (skip_advantage_recursion, "skip-scan", "skip-scan"),
    }


_DEFINITION_ASSUMPTION = {"delta-segment": "segment"}


@dataclass(frozen=True)
class Unfold(Rule):
    """Replace a sequence element by its definition, e.g. δ_{t+l} by r_{t+l} + γV − V.

    ``definition`` picks one of the project's definitions (:func:`project_definitions`);
    the project's own function is what unfolds, never the one passed in. With ``at``
    only those times are unfolded. The claim is unfolded the same way before comparing,
    so the rule also folds a definition back.
    """

    base: Any
    definition: Callable[[Expr], Expr]
    at: tuple = ()
    name = "unfold"

    def _source(self) -> tuple[Callable[[Expr], Expr], str | None] | None:
        probe = Dummy("time", integer=True)
        for definition, fact in project_definitions().get(self.base, ()):
            try:
                if equivalent(self.definition(probe), definition(probe)):
                    return definition, fact
            except Exception:  # a definition that fails on a probe is not the project's
                return None
        return None

    def assumptions(self) -> tuple[str, ...]:
        source = self._source()
        if source is None or source[1] is None:
            return ()
        return (_DEFINITION_ASSUMPTION[source[1]],)

    def _unfold(self, expr: Expr, definition: Callable[[Expr], Expr]) -> Expr:
        def matches(node: Expr) -> bool:
            if getattr(node, "base", None) != self.base or not hasattr(node, "indices"):
                return False
            return not self.at or any(expand(node.indices[0] - a) == 0 for a in self.at)

        return expr.replace(matches, lambda node: definition(node.indices[0]))

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        source = self._source()
        if source is None:
            raise RuleError(f"the definition given for {self.base} is not the project's")
        definition, fact = source
        if fact is not None and fact not in ctx.facts.definitions:
            raise RuleError(f"this form of {self.base} is the definition only under {fact}")
        result = self._unfold(previous, definition)
        if result == previous:
            raise RuleError(f"{self.base} does not occur in the previous line")
        return result

    def normalise(self, expr: Expr) -> Expr:
        source = self._source()
        return expr if source is None else self._unfold(expr, source[0])


@dataclass(frozen=True)
class _SumRule(Rule):
    var: Symbol = None
    select: Selector = _everything
    assumption: str | None = None

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def _name(self) -> str:
        if not isinstance(self.var, Symbol):
            raise RuleError(f"the index to act on must be a symbol, not {self.var!r}")
        return self.var.name


def _check_product_split(node: Expr, lower: Expr, upper: Expr, ctx: Context, scope: Scope):
    """Π_{a}^{b} = f(a) Π_{a+1}^{b} needs a non-empty range (Karr's 1/Π on reversed ones)."""
    if isinstance(node, Product) and not nonneg(upper - lower, ctx.facts, scope):
        raise RuleError(f"cannot show the product range {lower} .. {upper} is not empty")


@dataclass(frozen=True)
class SplitFirst(_SumRule):
    """Σ_{x=a}^{b} f(x) = f(a) + Σ_{x=a+1}^{b} f(x) (Π likewise, as a factor)."""

    name = "split-first"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        def change(node, scope):
            var, body, lower, upper = _open(node)
            if _is_infinite(lower):
                raise RuleError("the lower limit is infinite: there is no first term")
            _check_product_split(node, lower, upper, ctx, scope)
            first = substitute(body, {var: lower})
            rest = node.func(body, (var, lower + 1, upper))
            return first * rest if isinstance(node, Product) else first + rest

        return _rewrite(previous, self._name(), self.select, change, (Sum, Product))


@dataclass(frozen=True)
class SplitLast(_SumRule):
    """Σ_{x=a}^{b} f(x) = Σ_{x=a}^{b−1} f(x) + f(b) (Π likewise, as a factor)."""

    name = "split-last"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        def change(node, scope):
            var, body, lower, upper = _open(node)
            if _is_infinite(upper):
                raise RuleError("the upper limit is infinite: there is no last term")
            _check_product_split(node, lower, upper, ctx, scope)
            last = substitute(body, {var: upper})
            rest = node.func(body, (var, lower, upper - 1))
            return rest * last if isinstance(node, Product) else rest + last

        return _rewrite(previous, self._name(), self.select, change, (Sum, Product))


@dataclass(frozen=True)
class SplitAt(_SumRule):
    """Σ_{x=a}^{b} f = Σ_{x=a}^{m−1} f + Σ_{x=m}^{b} f for any integer m (Karr's sums are
    additive over adjacent ranges for all bounds); Π likewise, as a product, only when
    a ≤ m ≤ b + 1 is shown (a zero factor breaks Karr's quotient on reversed ranges)."""

    at: Any = None
    name = "split-at"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        point = S(self.at)
        if point.is_integer is not True:
            raise RuleError(f"a sum can only be split at an integer, not {point}")

        def change(node, scope):
            var, body, lower, upper = _open(node)
            if _is_infinite(lower):
                raise RuleError("the lower limit is infinite")
            if point.has(var):
                raise RuleError(f"the split point {point} mentions the index")
            if isinstance(node, Product) and not (
                nonneg(point - lower, ctx.facts, scope)
                and (_is_infinite(upper) or nonneg(upper - point + 1, ctx.facts, scope))
            ):
                raise RuleError(f"cannot show {lower} <= {point} <= {upper} + 1 for the product")
            first = node.func(body, (var, lower, point - 1))
            second = node.func(body, (var, point, upper))
            return first * second if isinstance(node, Product) else first + second

        return _rewrite(previous, self._name(), self.select, change, (Sum, Product))


@dataclass(frozen=True)
class ShiftIndex(_SumRule):
    """Σ_{x=a}^{b} f(x) = Σ_{x=a+k}^{b+k} f(x − k) for an integer k (any bounds)."""

    by: int = 0
    name = "shift-index"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        by = S(self.by)
        if by.is_integer is not True:
            raise RuleError(f"an index can only be shifted by an integer, not {by}")

        def change(node, scope):
            var, body, lower, upper = _open(node)
            return node.func(substitute(body, {var: var - by}), (var, lower + by, upper + by))

        return _rewrite(previous, self._name(), self.select, change, (Sum, Product))


@dataclass(frozen=True)
class Induction(Rule):
    """Prove ``previous = claimed`` for every value of ``var`` by induction from ``base``.

    ``base`` must be the least value ``var`` is declared to take (1 for a positive
    integer, 0 for a nonnegative one). Base case: both sides at ``var = base`` agree in
    the kernel. Step: in the case ``var + 1`` every sum whose upper bound grows with
    ``var`` has its new last terms peeled off; minus the case ``var`` (the induction
    hypothesis) the remainder must vanish in the kernel. No fact in force may mention
    ``var`` (it would hold at ``var`` but not necessarily at ``var + 1``).
    """

    var: Symbol = None
    base: int = 1
    name = "induction"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        var = self.var
        if not isinstance(var, Symbol) or var.is_integer is not True:
            raise RuleError(f"induction needs an integer symbol, not {var!r}")
        plain = [
            Symbol("_", integer=True, positive=True),
            Symbol("_", integer=True, nonnegative=True),
        ]
        if var.assumptions0 not in [p.assumptions0 for p in plain]:
            # even=True, prime=True, …: the base case would be a value var cannot take, or
            # the step would use a property the base case lacks
            raise RuleError(
                f"induction needs {var} declared an integer and positive (or nonnegative), "
                "nothing more"
            )
        least = S.One if var.is_positive else (S.Zero if var.is_nonnegative else None)
        if least is None or S(self.base) != least:
            raise RuleError(
                f"base case {var} = {self.base} does not cover exactly the {var} the "
                f"statement is about (its least value is {least})"
            )
        declared = Interval(least, oo)
        for key, interval in ctx.facts.ranges:
            # A fact that says no more than the declaration (n ∈ [1, ∞)) is harmless; any
            # other fact about var holds at var but maybe not at var + 1.
            if key.has(var) and not (key == var and declared.within(interval)):
                raise RuleError(f"a fact in force mentions {var}; induction on it would misuse it")
        if any(S(b).has(var) for _, lo, hi, _ in ctx.facts.values for b in (lo, hi)):
            raise RuleError(
                f"a fact about sequence values mentions {var}; induction would misuse it"
            )
        gap = fresh_bound(previous - claimed)
        if var in hidden_parameters(gap):
            raise RuleError(f"a sequence in the line depends on {var} through its definition")
        if any(_is_infinite(b) for s in gap.atoms(Sum) for limit in s.limits for b in limit[1:]):
            raise RuleError("induction works on finite forms; this line has an infinite sum")
        base_case = substitute(gap, {var: least})
        if not is_zero(base_case, ctx.facts):
            raise RuleError(f"base case {var} = {least} fails: residue {base_case}")
        following = peel_new_terms(substitute(gap, {var: var + 1}), var, ctx)
        if not is_zero(following - gap, ctx.facts):
            residue = canonical(following - gap, ctx.facts)
            raise RuleError(f"induction step {var} -> {var} + 1 fails: residue {residue}")
        return claimed


def peel_new_terms(expr: Expr, var: Symbol, ctx: Context) -> Expr:
    """In ``expr`` at ``var + 1``, write each sum over ``..upper(var+1)`` as the sum up
    to ``upper(var)`` plus the extra last terms, so the case ``var`` appears in it."""

    def matches(node: Expr) -> bool:
        return isinstance(node, (Sum, Product)) and any(
            bound.has(var) for bound in node.limits[-1][1:]
        )

    def peel(node: Expr) -> Expr:
        x, body, lower, upper = _open(node)
        if lower.has(var):
            raise RuleError("induction peels upper limits only; a lower limit moves with it")
        previous_upper = upper.subs(var, var - 1)
        count = expand(upper - previous_upper)
        if not (count.is_Integer and count >= 0):
            raise RuleError(f"the upper limit {upper} does not grow by a fixed number of terms")
        if isinstance(node, Product) and not range_not_reversed(lower, previous_upper, ctx.facts):
            raise RuleError(f"cannot show the product range {lower} .. {previous_upper} is a range")
        terms = [substitute(body, {x: previous_upper + i}) for i in range(1, int(count) + 1)]
        rest = node.func(body, (x, lower, previous_upper))
        return Mul(rest, *terms) if isinstance(node, Product) else Add(rest, *terms)

    return expr.replace(matches, peel)


@dataclass(frozen=True)
class SwapTriangle(Rule):
    """Σ_{n=a}^{B} Σ_{l=c}^{n−s} f = Σ_{l=c}^{B−s} Σ_{n=l+s}^{B} f, for a ∈ {c+s−1, c+s}.

    Both sides run over the triangle {(n, l): a ≤ n ≤ B, c ≤ l ≤ n − s}: a, B and c must
    not mention n or l, the outer range must not be reversed, and for B = ∞ the kernel
    admits the lines only when the double series converges absolutely.
    """

    outer: Symbol = None
    inner: Symbol = None
    assumption: str | None = None
    name = "swap-triangle"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        if not (isinstance(self.outer, Symbol) and isinstance(self.inner, Symbol)):
            raise RuleError("name the outer and the inner index as symbols")
        inner_name = self.inner.name

        def change(node, scope):
            n_var, body, a, big = _open(node)
            inner_sums = [f for f in Mul.make_args(body) if isinstance(f, Sum)]
            if len(inner_sums) != 1 or inner_sums[0].limits[-1][0].name != inner_name:
                raise RuleError(f"the summand is not (factor) × (one sum over {inner_name})")
            inner_sum = inner_sums[0]
            l_var, inner_body, c, top = _open(inner_sum)
            s = expand(n_var - top)
            if not s.is_Integer:
                raise RuleError(f"the inner range is not {inner_name} = c .. {n_var} − s")
            for bound, label in ((a, "lower"), (big, "upper"), (c, "inner lower")):
                if bound.has(n_var) or bound.has(l_var):
                    raise RuleError(f"the {label} limit {bound} mentions a summation index")
            # Rows n < c + s − 1 would be reversed ranges (nonzero under Karr's
            # convention), and the swapped inner sum starts at n = l + s ≥ c + s.
            if expand(c + s - a) not in (0, 1):
                raise RuleError("the triangle does not start at the outer lower limit")
            if not _is_infinite(big) and not range_not_reversed(a, big, ctx.facts, scope):
                raise RuleError(f"cannot show the outer range {a} .. {big} is not reversed")
            factor = Mul(*[f for f in Mul.make_args(body) if f is not inner_sums[0]])
            if factor.has(l_var):
                raise RuleError(f"a factor outside the inner sum mentions {inner_name}")
            new_inner = Sum(factor * inner_body, (n_var, l_var + s, big))
            return Sum(new_inner, (l_var, c, big if _is_infinite(big) else big - s))

        return _rewrite(previous, self.outer.name, _everything, change)


@dataclass(frozen=True)
class GeometricSeries(_SumRule):
    """Σ_{x=a}^{b} C·Π_i q_i^{x+p_i} in closed form, under conditions proved from the facts.

    With y = x − a and e_i = a + p_i ≥ 0 (proved, or q_i ≠ 0), the sum is
    C·Π q_i^{e_i}·Σ_{y=0}^{m−1} Q^y with Q = Π q_i and m = b − a + 1 terms:
    C·Π q_i^{e_i}/(1 − Q) for b = ∞ (needs |Q| < 1), C·Π q_i^{e_i}(1 − Q^m)/(1 − Q) for
    finite b (needs m ≥ 0 and Q ≠ 1). ``condition`` is accepted for old derivations and
    ignored: the conditions come from the facts in force, never from a parameter.
    """

    condition: Any = None
    name = "geometric-series"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        facts = ctx.facts

        def change(node, scope):
            var, body, lower, upper = _open(node)
            if _is_infinite(lower):
                raise RuleError("the lower limit is infinite")
            constant, bases = [], []
            for factor in Mul.make_args(expand(body, power_exp=False)):
                if not factor.has(var):
                    constant.append(factor)
                    continue
                base, exp = factor.as_base_exp()
                if base.has(var) or expand(exp - var).has(var):
                    raise RuleError(f"the summand is not geometric in {var}: factor {factor}")
                bases.append((base, expand(exp - var)))
            if not bases:
                raise RuleError(f"the summand does not depend on {var}")
            leading = []
            for base, shift in bases:
                start = expand(lower + shift)
                if not (nonneg(start, facts, scope) or nonzero(base, facts, scope)):
                    raise RuleError(f"cannot show {base}^({start}) is defined")
                leading.append(base**start)
            ratio = Mul(*[b for b, _ in bases])
            front = Mul(*constant) * Mul(*leading)
            if _is_infinite(upper):
                if not facts.below_one_in_size(ratio):
                    raise RuleError(
                        f"the series converges only for |{ratio}| < 1, which the "
                        "assumptions in force do not give"
                    )
                return front / (1 - ratio)
            count = expand(upper - lower + 1)
            if not nonneg(count, facts, scope):
                raise RuleError(f"cannot show the range {lower} .. {upper} is not reversed")
            if not nonzero(1 - ratio, facts, scope):
                raise RuleError(f"the finite form needs {ratio} != 1, which is not shown")
            return front * (1 - ratio**count) / (1 - ratio)

        return _rewrite(previous, self._name(), self.select, change)


@dataclass(frozen=True)
class Substitute(Rule):
    """Substitute values for parameters (λ = 0, λ = 1).

    Each value must lie in the symbol's declared domain and satisfy every fact in force
    about it; substitution is capture-avoiding and acts on a copy with fresh bound
    variables, so no sign assumption of a written index simplifies 0^k. A power 0^{f(x)}
    left inside an infinite sum over x is refused (SymPy 1.14 sums those wrongly).
    """

    values: Mapping = field(default_factory=dict)
    assumption: str | None = None
    name = "substitute"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        if not self.values:
            raise RuleError("nothing to substitute")
        hidden = hidden_parameters(previous)
        for symbol, value in self.values.items():
            if not isinstance(symbol, Symbol):
                raise RuleError(f"only symbols can be given values, not {symbol}")
            if symbol in hidden:
                raise RuleError(
                    f"a sequence in the line depends on {symbol} through its definition: "
                    f"giving {symbol} a value would change it unseen"
                )
            why = domain_problem(symbol, S(value), ctx.facts)
            if why:
                raise RuleError(why)
            why = ctx.facts.allows(symbol, S(value))
            if why:
                raise RuleError(why)
            if any(S(b).has(symbol) for _, lo, hi, _ in ctx.facts.values for b in (lo, hi)):
                raise RuleError(
                    f"a fact about sequence values has a range that mentions {symbol}: "
                    "it would keep speaking of the symbolic one"
                )
        result = substitute(fresh_bound(previous), dict(self.values))
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


def hidden_parameters(expr: Expr) -> set:
    """Parameters a sequence in ``expr`` depends on through its definition, where no
    substitution can see them: δ on γ (both of its definitions), A on γ, λ and the end
    t + N of its segment (the ``recursion`` assumption), the skip-masked scan's W on t + N
    and U on γ, λ and t + N (``skip-scan``). Giving them values would change what δ_t or
    A_t stands for while the symbol stays the same."""
    from gae_sym.symbols import A, N, U, W, delta, gamma, lam, t

    bases = {element.base for element in S(expr).atoms(Indexed)}
    hidden = set()
    if bases & {delta, A, U}:
        hidden.add(gamma)
    if bases & {A, U}:
        hidden.add(lam)
    if bases & {A, W, U}:
        hidden |= {N, t}
    return hidden


def _symbols_of(statement_side: Expr) -> set:
    """Free symbols that can take values: not sequence labels, not sequence elements."""
    side = S(statement_side)
    labels = {element.base.label for element in side.atoms(Indexed)}
    return {x for x in side.free_symbols if isinstance(x, Symbol) and x not in labels}


@dataclass(frozen=True)
class PartialSums(Rule):
    """Σ_{x=a}^{∞} f = lim_{M→∞} Σ_{x=a}^{M−1} f: the definition of a series' value
    (the kernel admits the line only when the series converges)."""

    var: Symbol = None
    assumption: str | None = None
    name = "partial-sums"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        var = self.var
        if not isinstance(var, Symbol) or not (var.is_integer and var.is_positive):
            raise RuleError("the limit variable must be a positive integer symbol")
        if previous.has(var):
            raise RuleError(f"{var} already occurs in the previous line")

        def matches(node):
            return isinstance(node, Sum) and len(node.limits) == 1 and node.limits[0][2] == oo

        def cut(node):
            x, lower, _ = node.limits[0]
            if _is_infinite(lower):
                raise RuleError("a series from -oo has no partial sums of this form")
            return Sum(node.function, (x, lower, var - 1))

        finite = previous.replace(matches, cut)
        if finite == previous:
            raise RuleError("no infinite sum in the previous line")
        return Limit(finite, var, oo)


@dataclass(frozen=True)
class TakeLimit(Rule):
    """Evaluate lim_{M→∞} of a finite form, term by term, each limit proved.

    Terms free of M stay; c·Σ_{y=0}^{M+k} f (c, f free of M) become the series
    c·Σ_{y=0}^{∞} f (which the kernel admits only when it converges); every other term
    must be shown to vanish: bounded sequences times a weight in M that the facts put
    below one (e.g. |γ^M V(s_{t+M})| ≤ C γ^M → 0 for γ < 1 and bounded V). ``vanishing``
    is accepted for old derivations and not trusted: each such term is proved to vanish.
    """

    vanishing: tuple = ()
    assumption: str | None = None
    name = "take-limit"

    def assumptions(self) -> tuple[str, ...]:
        return (self.assumption,) if self.assumption else ()

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        if not isinstance(previous, Limit) or previous.args[2] != oo:
            raise RuleError("the previous line is not a limit M → ∞")
        body, var = previous.args[0], previous.args[1]
        try:
            return limit_value(body, var, ctx.facts)
        except KernelError as error:
            raise RuleError(str(error)) from None


@dataclass(frozen=True)
class ApplyTheorem(Rule):
    """Replace an instance of a proved statement's left side by its right side.

    ``lemma`` is a :class:`~gae_sym.proof.core.Proof`, verified (once, cached) under the
    same assumption names before use. ``instance`` maps free symbols of the lemma to
    expressions (capture-avoiding); every free symbol's value must lie in its declared
    domain where the lemma is used (inside Σ_{n=a}^{b}, n takes the values a, a+1, …),
    and every fact the lemma was proved under must follow from the facts in force.
    ``reverse`` replaces the right side by the left; ``renamed`` maps the lemma's
    assumption names to the ones this derivation cites (the facts must still follow).
    """

    lemma: Proof = None
    instance: Mapping = field(default_factory=dict)
    reverse: bool = False
    renamed: Mapping = field(default_factory=dict)
    name = "apply-theorem"

    def assumptions(self) -> tuple[str, ...]:
        return tuple(self.renamed.get(a, a) for a in self.lemma.assumption_names())

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        outcome = ctx.lemma_outcome(self.lemma)
        if outcome is not None:
            raise RuleError(f"the cited result '{self.lemma.title}' is not proved: {outcome[1]}")
        statement = self.lemma.statement
        lhs = substitute(statement.lhs, dict(statement.at))
        rhs = substitute(statement.rhs, dict(statement.at))
        free = _symbols_of(lhs) | _symbols_of(rhs)
        for key in self.instance:
            if not isinstance(key, Symbol) or key not in free:
                raise RuleError(f"{key} is not a free symbol of the cited result's statement")
        instance = {k: S(v) for k, v in self.instance.items()}
        hidden = hidden_parameters(statement.lhs) | hidden_parameters(statement.rhs)
        moved = sorted((k for k, v in instance.items() if v != k and k in hidden), key=str)
        if moved:
            raise RuleError(
                f"the cited result holds a sequence defined with {moved[0]}: "
                "an instance may not change it"
            )
        if self.reverse:
            lhs, rhs = rhs, lhs
        needed = ctx.lemma_facts(self.lemma)
        if needed.values:
            # entailment of "x_u = c on a range" at the match point is not implemented
            raise RuleError("a result proved under facts about sequence values cannot be cited")
        cache: dict = {}

        def attempt(node: Expr, scope: Scope):
            # At the match point, the lemma's symbols and the instance's values mean the
            # bound variables of the same name around it (the previous line is a copy with
            # fresh, sign-free bound variables).
            around = {var.name: var for var, _, _ in scope}
            local = {
                k: substitute(v, {x: around[x.name] for x in _symbols_of(v) if x.name in around})
                for k, v in instance.items()
            }
            for symbol in free:
                if symbol not in local and symbol.name in around:
                    local[symbol] = around[symbol.name]
            moved = sorted((k for k, v in local.items() if v != k and k in hidden), key=str)
            if moved:
                return (
                    "refuse",
                    f"the cited result holds a sequence defined with {moved[0]}: "
                    "it may not be used at another value of it",
                )
            key = tuple(sorted(((str(k), v) for k, v in local.items()), key=str))
            if key not in cache:
                old = evaluated(substitute(lhs, local))
                cache[key] = (old, alpha_key(old), substitute(rhs, local))
            old, old_key, new = cache[key]
            if isinstance(node, Symbol) or not node.has(*old.atoms(Indexed, Symbol)):
                return None
            written = evaluated(node)
            if written.func != old.func or alpha_key(written) != old_key:
                return None
            for symbol in sorted(free, key=str):
                problem = domain_problem(symbol, local.get(symbol, symbol), ctx.facts, scope)
                if problem:
                    return ("refuse", problem)
            for fact, interval in needed.ranges:
                value = substitute(fact, local)
                if not within(value, interval, ctx.facts, scope):
                    return ("refuse", f"{value} in {interval}, not shown here")
            return ("new", new)

        fresh, _ = _fresh_with_names(previous)
        result, count, refusal = replace_where(fresh, attempt)
        missing = needed.bounded_labels() - ctx.facts.bounded_labels()
        if missing:
            raise RuleError(f"the cited result needs bounded {', '.join(sorted(missing))}")
        definitions = needed.definitions - ctx.facts.definitions
        if definitions:
            raise RuleError(
                f"the cited result needs the definition {', '.join(sorted(definitions))}"
            )
        if count == 0:
            if refusal:
                raise RuleError(f"the cited result does not apply here: {refusal}")
            raise RuleError(f"the cited result's side {lhs} does not occur in the previous line")
        return result


@dataclass(frozen=True)
class SolveRecursion(Rule):
    """X_t is fixed by a backward recursion of the project and X = 0 when no steps are left.

    The recursions (:func:`project_recursions`): GAE's A (``gae_sym.estimators.gae_recursion``,
    under the ``A-recursion`` definition of the ``recursion`` assumption) and the
    skip-masked scan's W and U (``gae_sym.masked_scan``, under ``skip-scan``); the one
    passed in must be the project's for that sequence. The closed form F is called once,
    at fresh symbols (T, M ≥ 0); its instances are substitutions of that one expression,
    so it is a function of (T, M). If the chain starts from F(t, N), its last line is
    R(F(t+1, N−1)) for symbolic t and N ≥ 1, and F(t, 0) = 0, then F(t, M) = X_t for every
    M ≥ 0 by induction on the number M of steps left: M = 0 is the end condition; for
    M ≥ 1, X_t = R(X_{t+1}) = R(F(t+1, M−1)) = F(t, M). Every equality in that argument is
    checked by the kernel. Other sequences in R (W inside U's) are read as given: the
    recursion holds with whatever values they have.
    """

    sequence: Any = None
    recursion: Callable[[Expr], Expr] = None
    closed_form: Callable[[Expr, Expr], Expr] = None
    time: Symbol = None
    steps: Symbol = None
    name = "solve-recursion"

    def assumptions(self) -> tuple[str, ...]:
        entry = project_recursions().get(self.sequence)
        return (entry[2],) if entry else ("recursion",)

    def _pieces(self, ctx: Context) -> tuple[Expr, Callable[[Expr, Expr], Expr], Any]:
        entry = project_recursions().get(self.sequence)
        if entry is None or not isinstance(self.sequence, IndexedBase):
            raise RuleError(
                "only the project's sequences A (GAE) and W, U (skip-masked scan) have "
                "recursions here"
            )
        project_recursion, definition, granted_by = entry
        if definition not in ctx.facts.definitions:
            raise RuleError(
                f"the recursion defines {self.sequence} only under the {granted_by} "
                f"assumption (definition {definition})"
            )
        probe = Dummy("time", integer=True)
        if not equivalent(self.recursion(probe), project_recursion(probe), ctx.facts):
            raise RuleError(f"the recursion given is not the project's for {self.sequence}")
        from gae_sym.symbols import N, t

        # The recursion assumption defines A on the segment that ends at t + N: the closed
        # form is A_t only at those two symbols (another symbol would move the end unseen).
        if self.time != t or self.steps != N:
            raise RuleError("the recursion defines X_t with t and N of gae_sym.symbols only")
        for key, interval in ctx.facts.ranges:
            # the induction on the steps left needs the chain for every N ≥ 1
            if key.has(N) and not (key == N and Interval(S.One, oo).within(interval)):
                raise RuleError("a fact in force restricts N: the induction on N would misuse it")
            if key.has(t):
                raise RuleError("a fact in force restricts t: the recursion holds for every t")
        if ctx.facts.values:
            # a value known at some positions holds at t but not at every T of the induction
            raise RuleError(
                "facts about sequence values are in force: the induction on N "
                "would use them at positions where they do not hold"
            )
        if not (
            isinstance(self.steps, Symbol) and self.steps.is_integer and self.steps.is_positive
        ):
            raise RuleError("the number of steps left must be a positive integer symbol")
        # F is called once per rule (a closed form that answered differently the second
        # time could pass check_origin with one expression and apply with another).
        cached = self.__dict__.get("_called_once")
        if cached is None:
            time0, steps0 = Dummy("T", integer=True), Dummy("M", integer=True, nonnegative=True)
            cached = (time0, steps0, S(self.closed_form(time0, steps0)))
            object.__setattr__(self, "_called_once", cached)
        time0, steps0, form = cached
        if form.has(t) or form.has(N):
            # F must be a function of (T, M) alone: the chain is checked at M = N only, the
            # induction needs it at every M
            raise RuleError("the closed form F(T, M) mentions t or N itself")

        def at(time: Expr, steps: Expr) -> Expr:
            return substitute(form, {time0: time, steps0: steps})

        return form, at, project_recursion

    def check_origin(self, origin: Expr, ctx: Context) -> None:
        _, at, _ = self._pieces(ctx)
        if not equivalent(origin, at(self.time, self.steps), ctx.facts):
            raise RuleError("the chain does not start from the closed form F(t, M)")

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        _, at, recursion = self._pieces(ctx)
        t, m = self.time, self.steps
        expected = recursion(t).xreplace({self.sequence[t + 1]: at(t + 1, m - 1)})
        if not equivalent(previous, expected, ctx.facts):
            raise RuleError("the previous line is not the recursion applied to the closed form")
        boundary = at(t, 0)
        try:
            check_line(boundary, ctx.facts, "the closed form with no steps left")
        except KernelError as error:
            raise RuleError(str(error)) from None
        if not is_zero(boundary, ctx.facts):
            raise RuleError(f"the closed form with no steps left is {boundary}, not 0")
        return self.sequence[t]


@dataclass(frozen=True)
class UseValues(Rule):
    """x_e = c where a ``values`` fact in force says x_u = c for lo ≤ u ≤ hi (a response
    mask that is 0 on a gap, 1 at a response token) and lo ≤ e ≤ hi is proved where x_e
    stands: from the facts and the ranges of the sums and products around it, so inside
    Σ_{l=0}^{g−1} m_{t+1+l} the whole range must lie in the fact's. The kernel does the
    replacing (:func:`gae_sym.proof.kernel.use_values`); the rule only names the sequence.
    """

    base: Any = None
    name = "use-values"

    def apply(self, previous: Expr, claimed: Expr, ctx: Context) -> Expr:
        if not isinstance(self.base, IndexedBase):
            raise RuleError(f"values are known of sequences (IndexedBase), not {self.base!r}")
        if not ctx.facts.values_of(self.base):
            raise RuleError(f"no fact in force gives values of {self.base}")
        result, count = use_values(previous, self.base, ctx.facts)
        if count == 0:
            raise RuleError(
                f"no element of {self.base} in the previous line is shown to lie in a range "
                "where a fact gives its value"
            )
        return result


ENGINE_RULES = (
    ApplyTheorem,
    Canonicalise,
    GeometricSeries,
    Induction,
    Linearity,
    PartialSums,
    ShiftIndex,
    SolveRecursion,
    SplitAt,
    SplitFirst,
    SplitLast,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
    UseValues,
)
"""The rules a proof may use: exactly these classes (a subclass could propose anything)."""

__all__ = [
    "ENGINE_RULES",
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
    "SplitAt",
    "SplitFirst",
    "SplitLast",
    "Substitute",
    "SwapTriangle",
    "TakeLimit",
    "Unfold",
    "UseValues",
    "hidden_parameters",
    "involving",
    "peel_new_terms",
    "project_definitions",
    "project_recursions",
]
