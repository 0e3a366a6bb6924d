"""Untrusted input: no evaluation as Python, refusals with reasons, a hard time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import sympy.parsing.sympy_parser as sympy_parser

from gae_sym.homework import AnswerError, check_answer
from gae_sym.homework.checker import check
from gae_sym.homework.numeric_check import check_points, evaluate
from gae_sym.homework.reader import read_answer
from gae_sym.homework.screen import MAX_CHARS
from gae_sym.homework.worker import CheckWorker
from gae_sym.symbols import delta, t

# 24 triple sums of ~3.5 million terms each, at every test point: passes every screen and
# guard, and only the worker's hard time limit stops it.
SLOW_BOMB = "+".join(
    rf"\sum_{{l=0}}^{{n+{150 - i}}}\sum_{{k=0}}^{{n+{150 - i}}}\sum_{{j=0}}^{{n+{150 - i}}} "
    r"r_{t+j+k+l}"
    for i in range(24)
)
# Expanding this product would take SymPy minutes; the algebraic layer steps aside instead.
EXPANSION_BOMB = (
    "(gamma+lambda+r[t]+V[t]+r[t+1]+V[t+1]+r[t+2])^12"
    "*(gamma+lambda+r[t+3]+V[t+3]+r[t+4]+V[t+4]+r[t+5])^12"
    "*(gamma+r[t+6]+V[t+7]+r[t+8]+V[t+9])^12"
)


@pytest.fixture(scope="module")
def worker():
    with CheckWorker(timeout=3.0, warm=True) as w:
        yield w


def test_answers_are_never_evaluated_as_python(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("parse_expr/sympify on answer text")

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    monkeypatch.setattr("builtins.eval", refuse)
    for answer in (
        r"r_t + \gamma V(s_{t+1}) - V(s_t)",
        "r[t] + gamma*V[t+1] - V[t]",
        "sum(l=0..n-1, gamma^l*delta[t+l])",
        r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{l=0}^{n-1}\gamma^l\delta_{t+l}",
        '__import__("os").system("echo pwned")',
        "lambda: 0",
    ):
        check(answer, "gae")


@pytest.mark.parametrize(
    ("answer", "reason", "phrase"),
    [
        ("r[t] + " * 700 + "r[t]", "unreadable", "at most 4,000"),
        ("(" * 100 + "r[t]" + ")" * 100, "too-complex", "too complex to check"),
        ("-" * 500 + "r[t]", "too-complex", "too complex to check"),
        (r"\gamma^{2^{3^{4}}}", "too-complex", "too complex to check"),
        ("r[t]**(10**7)", "too-complex", "too complex to check"),
        (r"r_t + \gamma V(s_{t+1}) - V(s_t)}", "unreadable", "unbalanced braces"),
        ("r[t] + gamma*V[t+1)", "unreadable", "unbalanced"),
        (r"\hat{A}_t", "unknown-symbol", r"\hat"),
        ("", "unreadable", "empty"),
        ("r[t] \x00", "unreadable", "control characters"),
    ],
)
def test_hostile_and_malformed_inputs_are_refused_with_a_reason(answer, reason, phrase):
    result = check(answer, "td-error")
    assert result["verdict"] == "unreadable"
    assert result["reason"] == reason
    assert phrase in result["feedback"]


def test_reader_maps_lecture_notation_to_trajectory_symbols():
    expr = read_answer(r"\gamma(r_{t+1}(1-\lambda)) + V(s_{t+2}) + \delta_{t}").expr
    assert expr.has(delta[t])
    assert {str(s) for s in expr.free_symbols} >= {"gamma", "lambda", "t"}


def test_worker_kills_a_check_past_the_limit_and_recovers(worker):
    started = time.monotonic()
    assert len(SLOW_BOMB) <= MAX_CHARS
    status, (message, kind) = worker.check(SLOW_BOMB, "td-error")
    elapsed = time.monotonic() - started
    assert status == "error"
    assert kind == "too-complex"
    assert "too complex to check" in message
    assert elapsed < worker.timeout + 2.0
    restarts = worker.restarts
    status, result = worker.check(r"r_t + \gamma V(s_{t+1}) - V(s_t)", "td-error")
    assert status == "ok"
    assert result["verdict"] == "correct"
    assert worker.restarts == restarts


def test_check_answer_reports_too_complex_as_unreadable():
    result = check_answer(SLOW_BOMB, "td-error", timeout=1.0)
    assert result["verdict"] == "unreadable"
    assert result["reason"] == "too-complex"


def test_explosive_expansion_is_left_to_the_numeric_layer():
    started = time.monotonic()
    result = check(EXPANSION_BOMB, "td-error")
    assert result["verdict"] == "incorrect"
    assert time.monotonic() - started < 5


def test_unknown_question_is_an_error():
    with pytest.raises(AnswerError, match="unknown question"):
        check_answer("r[t]", "gae-lambda2")


def test_weighted_average_at_lambda_zero_is_not_sympys_zero():
    # SymPy 1.14 sums Σ_{n≥1} 0^{n-1} x_n to 0; the evaluator must give the n = 1 term.
    answer = read_answer(
        r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{l=0}^{n-1}\gamma^l\delta_{t+l}"
    ).expr
    td = read_answer(r"\delta_t").expr
    for point in check_points():
        if point.lam == 0:
            assert evaluate(answer, point) == pytest.approx(evaluate(td, point))


def test_weighted_average_at_lambda_one_is_undefined_not_zero():
    answer = read_answer(
        r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{l=0}^{n-1}\gamma^l\delta_{t+l}"
    ).expr
    values = [evaluate(answer, p) for p in check_points() if p.lam == 1]
    assert values and all(v != v for v in values)  # NaN: 0 · (divergent sum)


def test_worker_gives_the_same_verdicts_as_the_table():
    """The whole case table through one warm worker process (the path `grade` takes).

    The verdicts are what is compared, not the speed: a limit far above any of these
    answers keeps a machine running other jobs from turning one into "too complex".
    """
    table = Path(__file__).parent / "data" / "homework" / "cases.toml"
    cases = tomllib.loads(table.read_text(encoding="utf-8"))["case"]
    with CheckWorker(timeout=30.0, warm=True) as worker:
        for case in cases:
            status, result = worker.check(case["answer"], case["question"])
            verdict = result["verdict"] if status == "ok" else "unreadable"
            assert verdict == case["verdict"], (case["answer"], result)
