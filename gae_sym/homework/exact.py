"""Exact tests of an answer's difference from the reference, where the numeric layer is blind.

The numeric layer's points are public and fixed, and its tolerance is relative: an answer
plus ``(γ − 1/4)(γ − 1/3)… r_t`` (a polynomial that vanishes at every γ the checker uses),
plus ``(n − 1)(n − 2)… (n − 20) r_t``, or plus a term far below 1e-8 agrees at every point.
When the canonical forms of answer and reference differ by an expression with no sum left
(the sums cancelled), that difference is a rational function of γ, λ, n, t, integer powers
such as γ^n, and finitely many trajectory entries, and whether it is zero is decided here:

* :func:`nonzero` evaluates it modulo a 61-bit prime at random residues for γ, λ and every
  entry r_x, V_x, and at random integers n, t far beyond anything an answer can list
  (Schwartz–Zippel: a nonzero difference of moderate degree vanishes at a random point with
  probability below 1e-15; the points are drawn from a hash of the difference, so no answer
  can be written for them in advance);
* :func:`exact_value` evaluates it in exact rationals at a concrete test point, to show a
  counterexample however small the difference is there.

Exponents are bounded by the reader (:func:`gae_sym.homework.build.check_exponents`), so
Fermat's little theorem (γ^{p−1} ≡ 1) cannot make a nonzero difference vanish modulo p.
"""

from __future__ import annotations

import hashlib
import random
from fractions import Fraction

from sympy import Add, Expr, Indexed, Mul, Pow, Symbol

from gae_sym.symbols import gamma, lam, n, t

PRIMES = (2**61 - 1, 2**89 - 1, 2**61 - 1)
"""One trial per prime: two Mersenne primes, whose p − 1 factor differently."""
MAX_EXACT_EXPONENT = 20_000
"""A power above this is not evaluated in exact rationals (its digits would run to MBs)."""


class _Unsupported(Exception):
    """A node this evaluator does not read (a sum, an oo, a fractional power)."""


def nonzero(difference: Expr, fixed: dict[Symbol, int]) -> bool:
    """True when ``difference`` (free of sums) is certainly not identically zero.

    ``fixed`` gives the parameters the question fixes (γ = λ = 1 for llm-terminal).
    False means zero at every trial or not decidable here; the numeric layer then decides.
    """
    seed = hashlib.sha256(str(difference).encode()).digest()
    rng = random.Random(seed)
    try:
        for prime in PRIMES:
            env = {
                gamma: rng.randrange(2, prime - 1),
                lam: rng.randrange(2, prime - 1),
                n: rng.randrange(10**9, 2 * 10**9),
                t: rng.randrange(10**9, 2 * 10**9),
            }
            env.update(fixed)
            entries = random.Random(rng.getrandbits(64))
            table: dict[tuple[str, int], int] = {}

            def entry(name: str, index: int, table=table, entries=entries, prime=prime) -> int:
                if (name, index) not in table:
                    table[name, index] = entries.randrange(1, prime)
                return table[name, index]

            if _mod(difference, env, entry, prime) != 0:
                return True
    except (_Unsupported, ZeroDivisionError, RecursionError):
        return False
    return False


def _mod(expr: Expr, env: dict, entry, prime: int) -> int:
    if expr.is_Rational:
        q = int(expr.q) % prime
        if q == 0:
            raise ZeroDivisionError
        return int(expr.p) * pow(q, -1, prime) % prime
    if isinstance(expr, Symbol):
        if expr not in env:
            raise _Unsupported(expr)
        return env[expr] % prime
    if isinstance(expr, Indexed):
        return entry(str(expr.base.label), _integer(expr.indices[0], env))
    if isinstance(expr, Add):
        return sum(_mod(a, env, entry, prime) for a in expr.args) % prime
    if isinstance(expr, Mul):
        total = 1
        for a in expr.args:
            total = total * _mod(a, env, entry, prime) % prime
        return total
    if isinstance(expr, Pow):
        if expr.base == 0 and expr.exp.has(gamma, lam):
            # 0^{γ}: 0 wherever γ > 0, an open set, which is all an identity test needs.
            return 0
        exponent = _integer(expr.exp, env)
        base = _mod(expr.base, env, entry, prime)
        if base == 0 and exponent < 0:
            raise ZeroDivisionError
        # 0^0 = 1 as in SymPy and numpy, so 0^{n-1} reads as the indicator of n = 1.
        return pow(base, exponent, prime)
    raise _Unsupported(type(expr).__name__)


def _integer(expr: Expr, env: dict) -> int:
    """``expr`` (an index or an exponent) as an exact integer with n and t substituted.

    Python's integers are exact at any size; the reader bounds how large they can get (an
    answer is at most 4,000 characters, powers in exponents at most cubes).
    """
    if expr.is_Integer:
        return int(expr)
    if isinstance(expr, Symbol) and expr in (n, t):
        return env[expr]
    if isinstance(expr, Add):
        return sum(_integer(a, env) for a in expr.args)
    if isinstance(expr, Mul):
        value = 1
        for a in expr.args:
            value *= _integer(a, env)
        return value
    if isinstance(expr, Pow) and expr.exp.is_Integer and 0 <= expr.exp <= 3:
        return _integer(expr.base, env) ** int(expr.exp)
    raise _Unsupported(type(expr).__name__)


def exact_value(difference: Expr, point) -> Fraction | None:
    """``difference`` in exact rationals at the test ``point`` (None when not evaluable)."""
    env = {
        gamma: Fraction(point.gamma),
        lam: Fraction(point.lam),
        n: Fraction(point.n),
        t: Fraction(point.time),
    }
    try:
        return _rational(difference, env, point)
    except (_Unsupported, ZeroDivisionError, RecursionError, OverflowError):
        return None


def _rational(expr: Expr, env: dict, point) -> Fraction:
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    if isinstance(expr, Symbol):
        if expr not in env:
            raise _Unsupported(expr)
        return env[expr]
    if isinstance(expr, Indexed):
        index = _rational(expr.indices[0], env, point)
        if index.denominator != 1:
            raise _Unsupported("index")
        return _entry(str(expr.base.label), int(index) - point.time, point)
    if isinstance(expr, Add):
        return sum((_rational(a, env, point) for a in expr.args), Fraction(0))
    if isinstance(expr, Mul):
        total = Fraction(1)
        for a in expr.args:
            total *= _rational(a, env, point)
        return total
    if isinstance(expr, Pow):
        exponent = _rational(expr.exp, env, point)
        if exponent.denominator != 1 or abs(exponent) > MAX_EXACT_EXPONENT:
            raise _Unsupported("exponent")
        base = _rational(expr.base, env, point)
        if base == 0 and exponent < 0:
            raise ZeroDivisionError
        return base ** int(exponent)
    raise _Unsupported(type(expr).__name__)


def _entry(name: str, offset: int, point) -> Fraction:
    """r, V or δ at t + ``offset`` on the point's trajectory, exactly."""

    def reward(i: int) -> Fraction:
        if point.impulse is not None:
            return Fraction(int(i == point.impulse and point.impulse_in == "r"))
        return Fraction(point.reward_scale) * Fraction(point.reward_ratio) ** i

    def value(i: int) -> Fraction:
        if point.impulse is not None:
            return Fraction(int(i == point.impulse and point.impulse_in == "V"))
        return Fraction(point.value_scale) * Fraction(point.value_ratio) ** i

    if abs(offset) > MAX_EXACT_EXPONENT:
        raise _Unsupported("offset")
    if name == "r":
        return reward(offset)
    if name == "V":
        return value(offset)
    if name == "delta":
        return reward(offset) + Fraction(point.gamma) * value(offset + 1) - value(offset)
    raise _Unsupported(name)


__all__ = ["exact_value", "nonzero"]
