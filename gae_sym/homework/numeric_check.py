"""Numeric layer: evaluate an answer and a reference at test points on concrete trajectories.

A test point fixes γ, λ, n and a trajectory whose rewards and values are geometric in the
lag, ``r_{t+i} = a ρ^i`` and ``V(s_{t+i}) = b σ^i`` with |ρ|, |σ| < 1, so every
infinite sum of the answer vocabulary converges for γ, λ ∈ [0, 1] (edge points included)
and δ_{t+i} = r_{t+i} + γ V(s_{t+i+1}) − V(s_{t+i}) is geometric too. Three more
points use growing trajectories (|ρ| > 1), where far terms of long finite sums weigh as much
as near ones; there every infinite sum diverges and the point only checks finite answers. Two linear
functionals of a trajectory that differ have different generating functions, so they differ
at almost every (ρ, σ): a handful of points catches any difference in weights.

Sums are evaluated vectorised: the index of the k-th nested sum lives on numpy axis k, a
mask keeps each term inside its (possibly outer-index-dependent) bounds, and an infinite sum
is truncated at ``TRUNCATION`` terms; a sum whose last half of terms still moves the total
is reported as divergent (NaN) at that point rather than silently truncated — this is what
makes (1 − λ) Σ λ^{n−1} A^{(n)} undefined, not 0, at λ = 1. Edge points γ, λ ∈ {0, 1} and
n = 1 come first (random points alone have accepted wrong answers in practice).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
from sympy import Add, Expr, Indexed, Integer, Mul, Number, Pow, Sum, Symbol, oo

from gae_sym.homework.build import AnswerError
from gae_sym.symbols import gamma, lam, n, t

TRUNCATION = 400
"""Terms kept of an infinite sum; tails of the test trajectories are below 1e-30 by then."""
MAX_GRID = 4_000_000
"""Largest number of terms evaluated at once (nested sums multiply their lengths)."""
MAX_FINITE_TERMS = 100_000
RELATIVE_TOLERANCE = 1e-8
TIME_VALUE = 3
"""The value given to t: answers are relative to t, any value works; 0 would hide t·x terms."""


@dataclass(frozen=True)
class Point:
    """One test point: parameters and a geometric trajectory around time t."""

    gamma: Fraction
    lam: Fraction
    n: int
    reward_scale: Fraction
    reward_ratio: Fraction
    value_scale: Fraction
    value_ratio: Fraction
    label: str = field(default="random", compare=False)
    impulse: int | None = None
    """When set: r_{t+impulse} = 1 (or V(s_{t+impulse}) = 1, see ``impulse_in``), all else 0."""
    impulse_in: str = "r"
    time: int = TIME_VALUE
    """The value of t itself (it matters only to answers that use t outside an index)."""

    def reward(self, offset: np.ndarray) -> np.ndarray:
        if self.impulse is not None:
            hit = self.impulse_in == "r"
            return np.where((offset == self.impulse) & hit, 1.0, 0.0)
        return float(self.reward_scale) * np.power(float(self.reward_ratio), offset)

    def value(self, offset: np.ndarray) -> np.ndarray:
        if self.impulse is not None:
            hit = self.impulse_in == "V"
            return np.where((np.asarray(offset) == self.impulse) & hit, 1.0, 0.0)
        return float(self.value_scale) * np.power(float(self.value_ratio), offset)

    def describe(
        self,
        uses_n: bool,
        uses_lambda: bool = True,
        show_time: bool = False,
        uses_gamma: bool = True,
        uses_values: bool = True,
    ) -> dict:
        """The point as a counterexample: parameters, the trajectory rule and its first values.

        ``n``, ``λ`` and ``γ`` are shown when ``uses_n`` / ``uses_lambda`` / ``uses_gamma``
        (free in the answer or the reference; δ uses γ); ``t`` when ``show_time`` (the
        answer's value depends on it) or when it is not the usual value. The values V are
        listed only when ``uses_values`` (RLOO's scores are rewards alone); otherwise the
        ``values`` entry says that V plays no part.
        """
        show_time = show_time or self.time != TIME_VALUE
        out: dict = {}
        if uses_gamma:
            out["gamma"] = str(self.gamma)
        if self.impulse is not None:
            if uses_lambda:
                out["lambda"] = str(self.lam)
            if show_time:
                out["t"] = self.time
            if self.impulse_in == "r":
                out["rewards"] = f"r_(t+{self.impulse}) = 1, every other reward 0"
                out["values"] = "V(s_(t+i)) = 0 for every i"
            else:
                out["rewards"] = "r_(t+i) = 0 for every i"
                out["values"] = f"V(s_(t+{self.impulse})) = 1, every other value 0"
            if not uses_values:
                out["values"] = NO_VALUES
            return out
        rewards = [self.reward_scale * self.reward_ratio**i for i in range(4)]
        values = [self.value_scale * self.value_ratio**i for i in range(4)]
        if uses_lambda:
            out["lambda"] = str(self.lam)
        if uses_n:
            out["n"] = self.n
        if show_time:
            out["t"] = self.time
        out["rewards"] = (
            f"r_(t+i) = {self.reward_scale}*({self.reward_ratio})^i: "
            + ", ".join(str(x) for x in rewards)
            + ", ..."
        )
        out["values"] = (
            f"V(s_(t+i)) = {self.value_scale}*({self.value_ratio})^i: "
            + ", ".join(str(x) for x in values)
            + ", ..."
            if uses_values
            else NO_VALUES
        )
        return out


NO_VALUES = "not used (neither the question nor the answer involves V)"
"""A counterexample's values entry when V plays no part (the CLI leaves the line out)."""


def impulse_point(offset: int, impulse_in: str = "r", inside=None) -> Point:
    """A single reward (or value) 1 at t + offset, every other 0: infinite sums become finite.

    γ = λ = 1 when ``inside`` (a predicate on points: the question's assumptions) allows it;
    otherwise γ = λ = k/(k+1), k = max(offset, 1), the largest simple values below 1 at
    which the impulse still weighs (k/(k+1))^{2k} ≈ e^{-2} in (γλ)^k.
    """
    one, zero = Fraction(1), Fraction(0)
    point = Point(one, one, 1, zero, zero, zero, zero, "impulse", offset, impulse_in)
    if inside is None or inside(point):
        return point
    k = max(abs(offset), 1)
    below = Fraction(k, k + 1)
    return replace(point, gamma=below, lam=below)


def depends_on_time(expr: Expr, point: Point) -> bool:
    """Whether the value of ``expr`` at ``point`` changes when t moves (same trajectory in t+i).

    ``Σ_{k=t}^{∞} (γλ)^k δ_k`` does (it is (γλ)^t times GAE): its counterexample must say t.
    Tried at ``point`` and at a generic one (at γ = 0 that sum is 0 whatever t is, but its
    value still depends on t).
    """
    generic = Point(
        Fraction(3, 5),
        Fraction(5, 7),
        2,
        Fraction(3, 2),
        Fraction(-2, 3),
        Fraction(-1, 2),
        Fraction(3, 4),
        "generic",
    )
    for where in (point, generic):
        here = evaluate(expr, where)
        for shift in (1, 7):
            there = evaluate(expr, replace(where, time=where.time + shift))
            if math.isnan(here) != math.isnan(there):
                return True
            if not math.isnan(here) and not agree(here, there):
                return True
    return False


MAX_PROBED_OFFSET = MAX_FINITE_TERMS
"""Steps as far out as a sum may reach are probed (a tail Σ_{l=2001}^{∞} r_{t+l} is
1e-250 on every decaying trajectory)."""
MAX_IMPULSES = 16


def probe_points(expr: Expr, count: int = 12, seed: int = 1729, inside=None) -> list[Point]:
    """Points the fixed ones cannot stand in for, tried before a numeric-only "correct".

    Fresh parameters on a finer grid (a polynomial in γ or n can vanish at every fixed
    point), other values of t (``+ t - 3`` vanishes at t = 3), and impulses at every step
    the answer reads (a term (γλ)^{300} r_{t+300} is below 1e-30 on a decaying trajectory),
    with γ, λ inside ``inside`` (see :func:`impulse_point`).
    """
    rng = random.Random(seed)
    ratios = [Fraction(k, 10) for k in (-7, -4, 3, 5, 8)]
    points = []
    for _ in range(count):
        g, lmb = Fraction(rng.randint(10, 90), 97), Fraction(rng.randint(10, 90), 97)
        rho, sigma = rng.sample(ratios, 2)
        scale_r, scale_v = Fraction(rng.randint(1, 9), 4), Fraction(-rng.randint(1, 9), 4)
        n_value, time = rng.randint(1, 20), rng.randint(4, 40)
        points.append(Point(g, lmb, n_value, scale_r, rho, scale_v, sigma, "probe", time=time))
    # Far steps are not seen by the decaying trajectories, nor near ones behind a high power
    # of γ < 1 (γ^{70} r_{t+20} where the question excludes γ = 1): an impulse at each.
    far = [offset for offset in sorted(sequence_offsets(expr)) if offset > 1]
    for offset in far[-MAX_IMPULSES:]:
        for where in ("r", "V"):
            points.append(impulse_point(offset, where, inside))
    return points


def sequence_offsets(expr: Expr) -> set[int]:
    """Steps k (0 <= k <= :data:`MAX_PROBED_OFFSET`) where ``expr`` reads r, V or δ at t + k
    (n = 1).

    A sum's index is taken at its lower bound and, when finite, at its upper bound.
    """
    found: set[int] = set()

    def walk(node: Expr, bounds: list[dict]) -> None:
        if isinstance(node, Sum):
            inner = bounds
            for index, lower, upper in node.limits:
                inner = [
                    {**b, index: value.xreplace(b)}
                    for b in inner
                    for value in (lower, upper)
                    if value.xreplace(b).is_finite
                ]
            walk(node.function, inner[:64])
            return
        if isinstance(node, Indexed):
            for b in bounds:
                offset = (node.indices[0] - t).xreplace(b).xreplace({n: Integer(1)})
                if getattr(offset, "is_Integer", False) and 0 <= offset <= MAX_PROBED_OFFSET:
                    found.add(int(offset))
                    found.add(int(offset) + 1)  # δ_{t+k} and γ V(s_{t+k+1}) reach one further
            return
        for arg in node.args:
            if isinstance(arg, Expr):
                walk(arg, bounds)

    walk(expr, [{}])
    return found


def inside_points(points: list[Point], inside) -> list[Point]:
    """``points`` with, for each one outside ``inside`` (the question's assumptions), a twin
    whose γ or λ = 1 is moved to 9/10 when that brings it inside.

    An infinite-horizon question with γ < 1 skips the γ = 1 edge points, and those were the
    points where a term γ^{70} x_{t+20} weighs; the twins keep some of it (0.9^{70} ≈ 6e-4,
    far above the tolerance), and a λ-weighted average still converges within the 400 terms
    kept (at 19/20 it would not: 0.95^{200} ≈ 4e-5).
    """
    near_one = Fraction(9, 10)
    out = list(points)
    for point in points:
        if inside(point):
            continue
        twin = replace(
            point,
            gamma=near_one if point.gamma == 1 else point.gamma,
            lam=near_one if point.lam == 1 else point.lam,
            label=point.label + " (inside)",
        )
        if twin != point and inside(twin):
            out.append(twin)
    return out


def check_points(random_count: int = 8, seed: int = 20160608) -> list[Point]:
    """Edge points (γ, λ ∈ {0, 1}, n = 1) first, then seeded random ones (same for everyone)."""
    rng = random.Random(seed)
    ratios = [Fraction(1, 2), Fraction(1, 3), Fraction(2, 3), Fraction(3, 4), Fraction(-1, 2)]
    ratios += [Fraction(-2, 3), Fraction(1, 4), Fraction(3, 5), Fraction(-1, 3)]
    scales = [Fraction(k) for k in (-3, -2, -1, 1, 2, 3)] + [Fraction(1, 2), Fraction(-3, 2)]
    params = [Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)]
    params += [Fraction(4, 5), Fraction(9, 10)]

    def trajectory() -> tuple[Fraction, Fraction, Fraction, Fraction]:
        rho, sigma = rng.sample(ratios, 2)
        return rng.choice(scales), rho, rng.choice(scales), sigma

    points = []
    edges = [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1), (1, Fraction(1, 2), 3)]
    edges += [(Fraction(1, 2), 1, 2), (Fraction(1, 2), 0, 2)]
    for g, lmb, steps in edges:
        points.append(Point(Fraction(g), Fraction(lmb), steps, *trajectory(), label="edge"))
    for _ in range(random_count):
        g, lmb = rng.choice(params), rng.choice(params)
        points.append(Point(g, lmb, rng.randint(1, 6), *trajectory()))
    # Growing trajectories (|ρ| > 1): a decaying one hides far terms (the 100th term of
    # A^(100) is ~(3/4)^99 ≈ 1e-12); infinite sums diverge here and these points are skipped.
    for g, lmb, steps, rho, sigma in GROWING:
        points.append(
            Point(g, lmb, steps, rng.choice(scales), rho, rng.choice(scales), sigma, "growing")
        )
    return points


GROWING = [
    (Fraction(1), Fraction(1, 2), 12, Fraction(11, 10), Fraction(-6, 5)),
    (Fraction(9, 10), Fraction(3, 4), 7, Fraction(-11, 10), Fraction(21, 20)),
    (Fraction(1, 2), Fraction(1), 5, Fraction(5, 4), Fraction(-5, 4)),
]


def evaluate(expr: Expr, point: Point) -> float:
    """The value of ``expr`` at ``point`` (NaN when undefined or divergent there)."""
    env = {
        gamma: np.float64(point.gamma),
        lam: np.float64(point.lam),
        n: np.float64(point.n),
        t: np.float64(point.time),
    }
    with np.errstate(all="ignore"):
        value = _Evaluator(point).run(expr, env, 0)
    value = np.asarray(value, dtype=float)
    if value.size != 1:
        raise AnswerError("the answer does not reduce to one number per test point")
    result = float(value.reshape(()))
    return result if np.isfinite(result) else float("nan")


def agree(a: float, b: float) -> bool:
    return abs(a - b) <= RELATIVE_TOLERANCE * (1.0 + abs(a) + abs(b))


class _Evaluator:
    def __init__(self, point: Point) -> None:
        self.point = point
        # An impulse far out must sit in the first half of the kept terms, where the
        # convergence test does not look.
        far = 0 if point.impulse is None else 2 * (abs(point.impulse) + 2)
        self.truncation = max(TRUNCATION, far)

    def run(self, expr: Expr, env: dict, depth: int) -> np.ndarray:
        if isinstance(expr, Number):
            return np.float64(float(expr))
        if expr is oo:
            return np.float64(np.inf)
        if isinstance(expr, Symbol):
            if expr not in env:
                raise AnswerError(f"unknown symbol '{expr}'", "unknown-symbol")
            return env[expr]
        if isinstance(expr, Indexed):
            return self.sequence(expr, env, depth)
        if isinstance(expr, Add):
            total = np.float64(0.0)
            for arg in expr.args:
                total = total + self.run(arg, env, depth)
            return total
        if isinstance(expr, Mul):
            total = np.float64(1.0)
            for arg in expr.args:
                total = total * self.run(arg, env, depth)
            return total
        if isinstance(expr, Pow):
            return np.power(self.run(expr.base, env, depth), self.run(expr.exp, env, depth))
        if isinstance(expr, Sum):
            return self.summation(expr, env, depth)
        raise AnswerError(f"cannot evaluate {type(expr).__name__}")

    def sequence(self, expr: Indexed, env: dict, depth: int) -> np.ndarray:
        offset = self.run(expr.indices[0], env, depth) - self.point.time
        name = str(expr.base.label)
        if name == "r":
            return self.point.reward(offset)
        if name == "V":
            return self.point.value(offset)
        if name == "delta":
            g = float(self.point.gamma)
            return (
                self.point.reward(offset)
                + g * self.point.value(offset + 1)
                - self.point.value(offset)
            )
        raise AnswerError(f"unknown sequence '{name}'", "unknown-symbol")

    def summation(self, expr: Sum, env: dict, depth: int) -> np.ndarray:
        body = expr.function
        limits = list(expr.limits)
        if len(limits) > 1:
            # Σ_{inner} Σ_{outer}: the last limit is the outermost sum.
            body = Sum(body, *limits[:-1])
        index, lower_expr, upper_expr = limits[-1]
        lower = np.asarray(self.run(lower_expr, env, depth), dtype=float)
        upper = np.asarray(self.run(upper_expr, env, depth), dtype=float)
        if not np.all(np.isfinite(lower)):
            return np.float64(np.nan)
        start = int(np.floor(np.min(lower)))
        infinite = np.isinf(upper) & (upper > 0)
        if np.any(infinite):
            count = self.truncation
        else:
            count = int(np.max(upper)) - start + 1 if np.all(np.isfinite(upper)) else 0
            if count > MAX_FINITE_TERMS:
                raise AnswerError(
                    "a sum with this many terms is too complex to check", "too-complex"
                )
        if count <= 0:
            return np.zeros(np.broadcast_shapes(lower.shape, upper.shape))
        shape = (1,) * depth + (count,)
        ks = np.arange(start, start + count, dtype=float).reshape(shape)
        lower_p = _pad(lower, depth + 1)
        upper_p = _pad(upper, depth + 1)
        mask = (ks >= lower_p) & (ks <= upper_p)
        if mask.size > MAX_GRID:
            raise AnswerError("nested sums this long are too complex to check", "too-complex")
        # Outer indices get a trailing unit axis so numpy aligns them with their own axis.
        inner_env = {key: _pad(value, depth + 1) for key, value in env.items()}
        inner_env[index] = ks
        # Refused before the body is evaluated on the grid (three nested infinite sums
        # would be 400^3 terms at every point).
        grid = np.broadcast_shapes(mask.shape, *(np.shape(v) for v in inner_env.values()))
        if int(np.prod(grid)) > MAX_GRID:
            raise AnswerError("nested sums this long are too complex to check", "too-complex")
        values = np.asarray(self.run(body, inner_env, depth + 1), dtype=float)
        values = _pad(values, depth + 1)
        full_shape = np.broadcast_shapes(values.shape, mask.shape)
        if int(np.prod(full_shape)) > MAX_GRID:
            raise AnswerError("nested sums this long are too complex to check", "too-complex")
        terms = np.where(mask, values, 0.0)
        terms = np.broadcast_to(terms, full_shape)
        total = terms.sum(axis=depth)
        if np.any(infinite):
            half = np.take(terms, np.arange(count // 2), axis=depth).sum(axis=depth)
            moving = np.abs(total - half) > 1e-7 * (1.0 + np.abs(total))
            divergent = moving & _pad(infinite, depth)
            total = np.where(divergent, np.nan, total)
        return total


def _pad(array: np.ndarray, ndim: int) -> np.ndarray:
    """Append unit axes so that an outer-index array broadcasts against inner ones."""
    array = np.asarray(array)
    if array.ndim > ndim:
        # Only leading (outer) axes can be present; inner axes were summed away.
        raise AnswerError("cannot evaluate a sum bound that depends on an inner index")
    return array.reshape(array.shape + (1,) * (ndim - array.ndim))
