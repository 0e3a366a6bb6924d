"""Lecture-notation LaTeX: V(s_{t+1}), δ_{t+l}, (γλ)^l, time symbol first, compact indices."""

from __future__ import annotations

from sympy import Add, Mul, Product, Sum, oo

from gae_sym.estimators import gae, nstep_advantage, td_error
from gae_sym.printing import LectureLatexPrinter, lecture_latex
from gae_sym.symbols import N, V, V_next, delta, done, gamma, j, l, lam, n, r, t


def test_value_function_and_td_error_notation():
    assert lecture_latex(V[t + 1]) == "V(s_{t+1})"
    assert lecture_latex(V_next[t]) == "V(s'_{t})"
    assert lecture_latex(delta[t + l]) == r"\delta_{t+l}"
    assert lecture_latex(td_error()) == r"r_{t} + \gamma V(s_{t+1}) - V(s_{t})"


def test_time_symbol_first_and_constant_last_in_indices():
    assert lecture_latex(r[l + t + 1]) == "r_{t+l+1}"
    assert lecture_latex(V[t - 1]) == "V(s_{t-1})"
    assert lecture_latex(done[t + j + 1]) == "d_{t+j+1}"


def test_compact_limits_and_exponents():
    assert lecture_latex(nstep_advantage()) == r"\sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l}"
    assert lecture_latex(gamma ** (l + 1)) == r"\gamma^{l+1}"
    assert lecture_latex(lam ** (N - 1)) == r"\lambda^{N-1}"


def test_gamma_lambda_power():
    assert lecture_latex(gae()) == r"\sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l}"
    assert lecture_latex((gamma * lam) ** (l + 1)) == r"(\gamma\lambda)^{l+1}"


def test_display_order_is_kept_with_order_none():
    written = Add(
        -V[t], Sum(gamma**l * r[t + l], (l, 0, n - 1)), gamma**n * V[t + n], evaluate=False
    )
    assert lecture_latex(written, order="none") == (
        r"- V(s_{t}) + \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n})"
    )


def test_lecture_order_for_evaluated_expressions():
    # rewards before values, subtracted terms last
    expr = -V[t] + gamma**n * V[t + n] + Sum(gamma**l * r[t + l], (l, 0, n - 1))
    assert lecture_latex(expr) == (
        r"\sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_{t})"
    )


def test_products_and_infinite_sums():
    mask = Product(1 - done[t + j], (j, 0, l - 1))
    assert r"\prod_{j=0}^{l-1}" in lecture_latex(mask)
    assert r"\sum_{n=1}^{\infty}" in lecture_latex(Sum(lam ** (n - 1), (n, 1, oo)))


def test_printer_class_is_usable_directly():
    assert (
        LectureLatexPrinter().doprint(Mul(gamma, V[t + 1], evaluate=False)) == r"\gamma V(s_{t+1})"
    )


def test_sum_of_a_sum_prints_as_nested_sums():
    nested = Sum(Sum(lam ** (n - 1) * gamma**l * delta[t + l], (l, 0, n - 1)), (n, 1, oo))
    text = lecture_latex(nested)
    assert text.startswith(r"\sum_{n=1}^{\infty} \sum_{l=0}^{n-1} ")
    assert r"\substack" not in text


def test_a_sum_starting_later_comes_after_the_single_term():
    # δ_t + Σ_{l≥1} ..., as a lecturer splits off the first term
    expr = delta[t] + Sum((gamma * lam) ** l * delta[t + l], (l, 1, oo))
    assert lecture_latex(expr).startswith(r"\delta_{t} + \sum_{l=1}^{\infty}")
