"""Exact tests of an answer's difference from the reference, where the numeric layer is blind.

The numeric layer's points are public and fixed, and its tolerance is relative: an answer
plus ``(γ − 1/4)(γ − 1/3)… r_t`` (a polynomial that vanishes at every γ the checker uses),
plus ``(n − 1)(n − 2)… (n − 20) r_t``, or plus a term far below 1e-8 agrees at every point.
When the canonical forms of answer and reference differ, the difference is a rational
function of γ, λ, n, t, integer powers such as γ^n, trajectory entries and sums whose
summands are (mostly) geometric in their index, and whether it is zero is decided here:

* :func:`nonzero` evaluates it modulo a 61-bit and an 89-bit prime at random residues for
  γ, λ and a geometric trajectory (sums in closed form), and at random integers n, t far
  beyond anything an answer can list
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

from sympy import Add, Expr, Indexed, Mul, Pow, Sum, Symbol, oo

from gae_sym.symbols import gamma, lam, n, t

PRIMES = (2**61 - 1, 2**89 - 1, 2**61 - 1)
"""One trial per prime: two Mersenne primes, whose p − 1 factor differently."""
MAX_EXACT_EXPONENT = 20_000
"""A power above this is not evaluated in exact rationals (its digits would run to MBs)."""


class _Unsupported(Exception):
    """A node this evaluator does not read (a sum, an oo, a fractional power)."""


def nonzero(difference: Expr, fixed: dict[Symbol, int]) -> bool:
    """True when ``difference`` is certainly not identically zero.

    ``fixed`` gives the parameters the question fixes (γ = λ = 1 for llm-terminal). The
    trajectory is geometric, r_{t+i} = a ρ^i and V(s_{t+i}) = b σ^i with a, ρ, b, σ random
    residues: two linear functionals of a trajectory that agree on every geometric one are
    equal (their generating functions agree), and on it a sum whose summand is geometric in
    its index, Σ_{l=a}^{b} C q^l, has the closed form C (q^a − q^{b+1}) / (1 − q) (an
    infinite one C q^a / (1 − q), the identity of rational functions that holds wherever it
    converges), so sums that did not cancel are decided too. False means zero at every trial
    or not decidable here (a nested sum whose inner bounds move with the outer index, a
    power of the index); the numeric layer then decides.
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
            trajectory = {
                name: (rng.randrange(2, prime - 1), rng.randrange(2, prime - 1))
                for name in ("r", "V")
            }
            if _Field(prime, trajectory).value(difference, env) != 0:
                return True
    except (_Unsupported, ZeroDivisionError, RecursionError, ValueError):
        return False
    return False


class _Field:
    """Evaluation modulo ``prime`` on a geometric trajectory (see :func:`nonzero`)."""

    def __init__(self, prime: int, trajectory: dict[str, tuple[int, int]]) -> None:
        self.prime = prime
        self.trajectory = trajectory

    def inverse(self, value: int) -> int:
        if value % self.prime == 0:
            raise ZeroDivisionError
        return pow(value, -1, self.prime)

    def entry(self, name: str, offset: int, env: dict) -> int:
        p = self.prime
        if name == "delta":
            g = env[gamma] % p
            return (
                self.entry("r", offset, env)
                + g * self.entry("V", offset + 1, env)
                - self.entry("V", offset, env)
            ) % p
        if name not in self.trajectory:
            raise _Unsupported(name)
        scale, ratio = self.trajectory[name]
        return scale * pow(ratio, offset, p) % p

    def value(self, expr: Expr, env: dict) -> int:
        p = self.prime
        if expr.is_Rational:
            return int(expr.p) * self.inverse(int(expr.q)) % p
        if isinstance(expr, Symbol):
            if expr not in env:
                raise _Unsupported(expr)
            return env[expr] % p
        if isinstance(expr, Indexed):
            offset = _integer(expr.indices[0], env) - env[t]
            return self.entry(str(expr.base.label), offset, env)
        if isinstance(expr, Add):
            return sum(self.value(a, env) for a in expr.args) % p
        if isinstance(expr, Mul):
            total = 1
            for a in expr.args:
                total = total * self.value(a, env) % p
            return total
        if isinstance(expr, Pow):
            if expr.base == 0 and expr.exp.has(gamma, lam):
                # 0^{γ}: 0 wherever γ > 0, an open set, which is all an identity test needs.
                return 0
            exponent = _integer(expr.exp, env)
            base = self.value(expr.base, env)
            if base == 0 and exponent < 0:
                raise ZeroDivisionError
            # 0^0 = 1 as in SymPy and numpy, so 0^{n-1} reads as the indicator of n = 1.
            return pow(base, exponent, p)
        if isinstance(expr, Sum):
            return self.summation(expr, env)
        raise _Unsupported(type(expr).__name__)

    def summation(self, expr: Sum, env: dict) -> int:
        p = self.prime
        body, limits = expr.function, list(expr.limits)
        if len(limits) > 1:
            body = Sum(body, *limits[:-1])
        index, lower, upper = limits[-1]
        total = 0
        for term in Add.make_args(body):
            ratio = self.ratio(term, index, env)
            start = _integer(lower, env)
            first = self.value(term, {**env, index: start})
            if upper == oo:
                if ratio == 1:
                    raise _Unsupported("a divergent sum")
                total += first * self.inverse(1 - ratio)
                continue
            count = _integer(upper, env) - start + 1
            if count <= 0:
                raise _Unsupported("an empty or reversed sum")  # conventions differ there
            if ratio == 1:
                total += first * count
            else:
                total += first * (1 - pow(ratio, count, p)) * self.inverse(1 - ratio)
        return total % p

    def ratio(self, term: Expr, index: Symbol, env: dict) -> int:
        """q when ``term`` is C q^index (each factor geometric in the index), else refused."""
        p = self.prime
        q = 1
        for factor in Mul.make_args(term):
            if not factor.has(index):
                continue
            if isinstance(factor, Pow) and not factor.base.has(index):
                step = _slope(factor.exp, index)
                q = q * pow(self.value(factor.base, env), step, p) % p
            elif isinstance(factor, Indexed):
                step = _slope(factor.indices[0], index)
                name = str(factor.base.label)
                if name not in self.trajectory:
                    raise _Unsupported(name)  # δ is not geometric: r + γV' − V
                q = q * pow(self.trajectory[name][1], step, p) % p
            else:
                raise _Unsupported("not geometric in the index")
        return q


def _slope(expr: Expr, index: Symbol) -> int:
    """The integer c when ``expr`` is c·index + (terms free of it), else refused."""
    from sympy import Poly, PolynomialError

    try:
        poly = Poly(expr, index)
    except PolynomialError:
        raise _Unsupported("not linear in the index") from None
    if poly.degree() != 1:
        raise _Unsupported("not linear in the index")
    slope = poly.coeff_monomial(index)
    if not slope.is_Integer:
        raise _Unsupported("not an integer slope")
    return int(slope)


def _integer(expr: Expr, env: dict) -> int:
    """``expr`` (an index, an exponent or a bound) as an exact integer, its integer symbols
    (n, t, a sum's index at a bound) taken from ``env``.

    Python's integers are exact at any size; the reader bounds how large they can get (an
    answer is at most 4,000 characters, powers in exponents at most cubes).
    """
    if expr.is_Integer:
        return int(expr)
    if isinstance(expr, Symbol) and expr.is_integer and expr in env:
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
