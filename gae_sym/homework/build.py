"""Guarded constructors shared by the answer readers: every node of a parsed answer is built here.

An answer is untrusted text. The readers never call ``eval``/``sympify``/``parse_expr``; they
build SymPy objects through these functions, which admit only the trajectory vocabulary of
:mod:`gae_sym.symbols` and refuse numbers that would make SymPy's integer arithmetic run for
minutes (``10^{10^{10}}`` is refused here, before anything evaluates it).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar

from sympy import (
    Add,
    Expr,
    Indexed,
    Integer,
    Limit,
    Mul,
    Number,
    Pow,
    Product,
    Rational,
    Sum,
    Symbol,
    oo,
)

from gae_sym.symbols import A, V, delta, done, gamma, lam, n, r, t

MAX_INTEGER_DIGITS = 6
"""Integer literals longer than this are refused (no answer needs a million)."""
MAX_EXPONENT = 1000
"""A numeric exponent above this is refused: powers are for γ^l, not for bigints."""
MAX_EXPANDABLE_POWER = 12
"""(a + b)^k with k above this is refused: expanding it is the canonical layer's job."""
MAX_RESULT_DIGITS = 100
"""Exact numbers an answer computes (999999^{999}) are refused past this many digits."""
MAX_SUM_DEPTH = 3
"""Sums nested deeper than this are refused (the weighted-average form needs two)."""


class AnswerError(ValueError):
    """The answer cannot be read: ``kind`` is "unreadable", "unknown-symbol" or "too-complex"."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind


SEQUENCES = {"r": r, "V": V, "delta": delta}
"""Trajectory sequences an answer may index: rewards, values, TD errors."""
DERIVATION_SEQUENCES = {"A": A, "d": done}
DERIVATION_COMMANDS = frozenset({"prod", "lim", "to"})
"""Read only inside :func:`derivation_vocabulary` (the LaTeX derivation checker): the GAE
sequence of the backward recursion and the done flags, products over a range and
lim_{N→∞} (:data:`DERIVATION_COMMANDS`)."""
_DERIVATION = ContextVar("derivation_vocabulary", default=False)


@contextmanager
def derivation_vocabulary():
    """Within this block the readers also accept A_t, d_t and \\prod (never in answers)."""
    token = _DERIVATION.set(True)
    try:
        yield
    finally:
        _DERIVATION.reset(token)


def sequences() -> dict:
    """The sequences that may be indexed here (:data:`SEQUENCES`, plus the derivation ones)."""
    return {**SEQUENCES, **DERIVATION_SEQUENCES} if _DERIVATION.get() else SEQUENCES


def in_derivation() -> bool:
    return _DERIVATION.get()


PARAMETERS = {"gamma": gamma, "lambda": lam}
FREE_INDEX_SYMBOLS = {"t": t, "n": n}
"""Integer symbols that may appear free: the time step t and the step count n."""
RESERVED_LETTERS = frozenset("rstVAGRQ")
"""Letters that name something else (rewards, states, time, values, the quantities asked)."""
INDEX_NAMES = frozenset(
    ch
    for ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if ch not in RESERVED_LETTERS
)
"""Single letters accepted as summation indices: any letter but :data:`RESERVED_LETTERS`
(``n`` is also free, as the step count)."""


def number(text: str) -> Expr:
    """An integer or decimal literal as an exact rational."""
    digits = text.replace(".", "")
    if len(digits.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise AnswerError(
            f"the number {text[:20]} is too large: too complex to check", "too-complex"
        )
    if "." in text:
        return Rational(text)
    return Integer(int(text))


_QUANTITY_NAMES = {"A": "an advantage", "G": "a return", "R": "a return", "Q": "an action value"}


def unknown_symbol(name: str, context: str = "") -> AnswerError:
    """The refusal for a name outside the vocabulary, with a pointer where one helps."""
    where = f" (in {context})" if context and context != name else ""
    message = f"unknown symbol '{name}'{where}"
    if name in _QUANTITY_NAMES:
        message += (
            f": {name} is {_QUANTITY_NAMES[name]}; write the answer in r, V, δ, γ and λ "
            "(a recursion such as δ_t + γλA_{t+1} is not an answer to check)"
        )
    return AnswerError(message, "unknown-symbol")


def index_symbol(name: str) -> Symbol:
    """The integer symbol for ``t``, ``n`` or a summation index such as ``l`` or ``k``."""
    if name in FREE_INDEX_SYMBOLS:
        return FREE_INDEX_SYMBOLS[name]
    if name in INDEX_NAMES:
        return Symbol(name, integer=True)
    raise unknown_symbol(name)


def name_symbol(name: str) -> Expr:
    """A bare name: γ, λ, t, n or a summation index; anything else is an unknown symbol."""
    if name in PARAMETERS:
        return PARAMETERS[name]
    if name in SEQUENCES:
        raise AnswerError(
            f"'{name}' needs a time index, e.g. {name}_t or {name}[t]", "unknown-symbol"
        )
    return index_symbol(name)


def sequence(name: str, index: Expr) -> Indexed:
    """r[index], V[index] or delta[index]; the index must be an integer expression."""
    if name not in sequences():
        raise unknown_symbol(name)
    if not isinstance(index, Expr) or index.has(gamma, lam, oo) or index.atoms(Indexed):
        raise AnswerError(f"the index of {name} must be a time step such as t+1, not {index}")
    for atom in index.atoms():
        if atom.is_Number and not atom.is_Integer:
            raise AnswerError(f"the index of {name} must be an integer, not {index}")
    return sequences()[name][index]


def power(base: Expr, exponent: Expr) -> Expr:
    """base^exponent, refusing towers and bigints before SymPy evaluates them."""
    if exponent.is_Number:
        if not exponent.is_Rational:
            raise AnswerError("exponents must be exact numbers or symbols")
        if not exponent.is_Integer:
            # ((γ − 1/2)^2)^{1/2} is |γ − 1/2|, and √γ no polynomial the exact test reads.
            raise AnswerError(
                f"the exponent {exponent} is not an integer: exponents are integers such as "
                "2, l or n"
            )
        if abs(exponent) > MAX_EXPONENT:
            raise AnswerError(
                f"the exponent {exponent} is too large: too complex to check", "too-complex"
            )
        if base.has(Add, Sum) and abs(exponent) > MAX_EXPANDABLE_POWER:
            # (γλ)^{300} is harmless; (a + b)^{300} would expand to 301 terms and more.
            raise AnswerError(f"a power {exponent} of a sum is too complex to check", "too-complex")
    elif exponent.has(Pow) and any(p.exp.is_Number and abs(p.exp) > 3 for p in exponent.atoms(Pow)):
        raise AnswerError("powers inside exponents are too complex to check", "too-complex")
    if exponent.has(Pow) and any(p.exp.has(Pow) for p in exponent.atoms(Pow)):
        raise AnswerError("power towers are too complex to check", "too-complex")
    if base.is_Rational and exponent.is_Number and base != 0:
        size = math.log10(max(abs(base.p), abs(base.q)))
        if abs(base) > 10**6 or size * abs(exponent) > MAX_RESULT_DIGITS:
            raise AnswerError("the number is too large: too complex to check", "too-complex")
    return Pow(base, exponent)


def _digits(value: Rational) -> int:
    """Decimal digits of the larger of numerator and denominator."""
    return len(str(max(abs(value.p), abs(value.q))))


def product(factors: list[Expr]) -> Expr:
    """The product; refuses exact numbers too long to print (SymPy stops at 4,300 digits)."""
    result = Mul(*factors)
    coefficient = result.as_coeff_Mul()[0]
    if coefficient.is_Rational and _digits(coefficient) > MAX_RESULT_DIGITS:
        raise AnswerError("the number is too large: too complex to check", "too-complex")
    return result


def summation(body: Expr, index: Symbol, lower: Expr, upper: Expr) -> Expr:
    """Σ_{index=lower}^{upper} body, with bounds that are integers, t, n or ∞."""
    if not isinstance(index, Symbol) or index in (t,) or index.name not in INDEX_NAMES:
        raise AnswerError(
            f"the summation index must be one letter other than r, s, t, V, A, G, R, Q "
            f"(such as l or k), not {index}"
        )
    for bound in (lower, upper):
        if bound.has(gamma, lam):
            raise AnswerError("summation bounds must be integers, n or \\infty")
    if lower == oo or lower == -oo:
        raise AnswerError("a sum must start at a finite index")
    if upper == -oo:
        raise AnswerError("a sum must end at a finite index or at +\\infty")
    if sum_depth(body) + 1 > MAX_SUM_DEPTH:
        raise AnswerError("sums nested this deep are too complex to check", "too-complex")
    return Sum(body, (index, lower, upper))


def product_range(body: Expr, index: Symbol, lower: Expr, upper: Expr) -> Expr:
    """Π_{index=lower}^{upper} body, finite bounds only; read inside derivations only."""
    if not _DERIVATION.get():
        raise AnswerError("unrecognised notation '\\prod'", "unknown-symbol")
    if upper == oo or lower == -oo or upper == -oo or lower == oo:
        raise AnswerError("a product must run over a finite range")
    return Product(summation(body, index, lower, upper).function, (index, lower, upper))


def limit(body: Expr, variable: Symbol, point: Expr) -> Expr:
    """lim_{variable → ∞} body, the variable a positive integer; read inside derivations only."""
    if not _DERIVATION.get():
        raise AnswerError("unrecognised notation '\\lim'", "unknown-symbol")
    if point != oo or not isinstance(variable, Symbol) or variable.name not in INDEX_NAMES:
        raise AnswerError("a limit must be lim_{N \\to \\infty} over a one-letter integer")
    steps = Symbol(variable.name, integer=True, positive=True)
    return Limit(body.xreplace({variable: steps}), steps, oo)


def sum_depth(expr: Expr) -> int:
    """How many sums are nested in ``expr``."""
    if isinstance(expr, Sum):
        return 1 + sum_depth(expr.function)
    if not getattr(expr, "args", ()):
        return 0
    return max((sum_depth(a) for a in expr.args if isinstance(a, Expr)), default=0)


def _monomial(exponent: Expr) -> bool:
    """γ, λ, γλ, 2γ^2 …: positive wherever γ, λ > 0, so 0^{exponent} only says "γ = 0"."""
    return (
        not exponent.has(Add)
        and exponent.free_symbols <= {gamma, lam}
        and exponent.is_positive is not False
    )


def check_exponents(expr: Expr) -> None:
    r"""Refuse exponents no answer needs, once SymPy has merged powers (γ^{1000} γ^{1000}).

    An exponent is an integer expression in t, n and summation indices. Refused: γ or λ in
    an exponent (``0^{(\gamma - 1/7)^2}`` is 1 at one γ and 0 elsewhere, ``2^{\gamma}`` is
    no polynomial the exact test can evaluate), except 0^{γ}-like indicators of γ = 0, which
    the edge points test; and numbers in an
    exponent beyond :data:`MAX_EXPONENT` (γ^{10^{18}}, which would also let γ^{p − 1} ≡ 1
    fool the exact test modulo p) are refused.
    """
    for power_node in expr.atoms(Pow):
        exponent = power_node.exp
        if exponent.has(gamma, lam) and not (power_node.base == 0 and _monomial(exponent)):
            raise AnswerError(
                "an exponent cannot contain γ or λ: exponents are integers such as 2, l or n"
            )
        for atom in exponent.atoms(Number):
            if not atom.is_Integer:
                raise AnswerError(
                    f"the exponent {exponent} is not an integer: exponents are integers "
                    "such as 2, l or n"
                )
            if abs(atom) > MAX_EXPONENT:
                raise AnswerError(
                    f"the exponent {exponent} is too large: too complex to check", "too-complex"
                )


def check_free_symbols(expr: Expr) -> None:
    """Refuse summation indices used outside their sum (e.g. ``r_k`` with no Σ over k)."""
    allowed = {t, n, gamma, lam} | {base.label for base in SEQUENCES.values()}
    stray = sorted(str(s) for s in expr.free_symbols if isinstance(s, Symbol) and s not in allowed)
    if stray:
        raise AnswerError(
            ("unknown symbol " if len(stray) == 1 else "unknown symbols ")
            + ", ".join(f"'{s}'" for s in stray)
            + " (free symbols "
            "allowed: t, n, gamma, lambda; any other letter only as the index of a sum over it)",
            "unknown-symbol",
        )
