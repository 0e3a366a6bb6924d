"""The numeric layer against brute force, and against the theorems it stands in for."""

from __future__ import annotations

import math

import pytest

from gae_sym import estimators as est
from gae_sym.homework.numeric_check import agree, check_points, evaluate
from gae_sym.homework.reader import read_answer

POINTS = check_points()


def brute(point, kind):
    """Plain-Python sums over the point's geometric trajectory (the oracle)."""
    a, rho = float(point.reward_scale), float(point.reward_ratio)
    b, sigma = float(point.value_scale), float(point.value_ratio)
    g, lam, n = float(point.gamma), float(point.lam), point.n

    def r(i):
        return a * rho**i

    def v(i):
        return b * sigma**i

    def d(i):
        return r(i) + g * v(i + 1) - v(i)

    if kind == "square":
        return sum(r(k + m) for k in range(n + 3) for m in range(n + 3))
    if kind == "triangle":
        return sum(g**k * r(k + 2 * m) for m in range(3) for k in range(m + 1))
    if kind == "nstep":
        return sum(g**i * d(i) for i in range(n))
    if kind == "gae":
        return sum((g * lam) ** i * d(i) for i in range(2000))
    raise ValueError(kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (r"\sum_{l=0}^{n+2}\sum_{k=0}^{n+2} r_{t+k+l}", "square"),
        (r"\sum_{l=0}^{2}\sum_{k=0}^{l} \gamma^k r_{t+k+2l}", "triangle"),
        (r"\sum_{l=0}^{n-1} \gamma^l \delta_{t+l}", "nstep"),
        (r"\sum_{l=0}^{\infty} (\gamma\lambda)^l \delta_{t+l}", "gae"),
    ],
)
def test_evaluator_matches_brute_force_sums(text, kind):
    expr = read_answer(text).expr
    for point in POINTS:
        assert evaluate(expr, point) == pytest.approx(brute(point, kind), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (est.gae_weighted_average(), est.gae()),
        (est.lambda_return_weighted_average(), est.lambda_return()),
        (est.nstep_advantage(), est.nstep_advantage_rv()),
    ],
    ids=["gae-infinite", "lambda-return", "nstep-telescoping"],
)
def test_theorem_forms_agree_wherever_both_are_defined(left, right):
    compared = 0
    for point in POINTS:
        a, b = evaluate(left, point), evaluate(right, point)
        if math.isnan(a) or math.isnan(b):
            assert point.lam == 1  # only the 0 · ∞ weighted average at λ = 1
            continue
        compared += 1
        assert agree(a, b)
    assert compared >= 10


def test_divergent_sum_is_nan_not_a_truncated_number():
    expr = read_answer(r"\sum_{l=0}^{\infty} \gamma^{-l} r_{t+l}").expr
    point = next(p for p in POINTS if p.gamma == 1 and abs(p.reward_ratio) >= 1 / 2)
    assert not math.isnan(evaluate(expr, point))  # γ = 1: an ordinary geometric sum
    small = next(p for p in POINTS if 0 < p.gamma < abs(p.reward_ratio))
    assert math.isnan(evaluate(expr, small))  # |ρ/γ| > 1: diverges
