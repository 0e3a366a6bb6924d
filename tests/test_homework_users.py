"""What fresh users met (issue 13): verdicts of equal forms, counterexamples inside the
question's assumptions and naming what they depend on, hints, notation, CSV safety."""

from __future__ import annotations

import csv
import io
import sys
import time
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gae_sym.homework.build import INDEX_NAMES
from gae_sym.homework.checker import check
from gae_sym.homework.grading import (
    FORMULA_TRIGGERS,
    GradedAnswer,
    StudentReport,
    spreadsheet_safe,
    write_csv,
)
from gae_sym.homework.questions import assumption_holds, question
from gae_sym.homework.screen import MAX_CHARS
from gae_sym.homework.worker import CheckWorker

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INFINITE_QUESTIONS = ("gae", "gae-lambda1", "lambda-return")


def _inside_question(result: dict) -> bool:
    example = result["counterexample"]
    q = question(result["question"])
    g = Fraction(example["gamma"])
    lam = Fraction(example.get("lambda", "1/2"))  # λ not shown: the values do not depend on it
    return all(assumption_holds(a, g, lam) for a in q.forms[0].assumptions)


# --- verdicts -------------------------------------------------------------------------------

WEIGHTED_AVERAGES = [
    r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{k=0}^{n-1}\gamma^k\delta_{t+k}",
    r"\sum_{n=1}^{\infty}(1-\lambda)\lambda^{n-1}\sum_{k=0}^{n-1}\gamma^k\delta_{t+k}",
    r"\sum_{n=1}^{\infty}\lambda^{n-1}(1-\lambda)\sum_{k=0}^{n-1}\gamma^k\delta_{t+k}",
    r"\sum_{n=0}^{\infty}(1-\lambda)\lambda^{n}\sum_{k=0}^{n}\gamma^k\delta_{t+k}",
    r"(1-\lambda)\sum_{n=0}^{\infty}\lambda^{n}\sum_{k=0}^{n}\gamma^k\delta_{t+k}",
    "sum(n=1..inf, (1-lambda)*lambda^(n-1)*sum(k=0..n-1, gamma^k*delta[t+k]))",
]


@pytest.mark.parametrize("answer", WEIGHTED_AVERAGES)
def test_one_minus_lambda_inside_or_outside_the_sum_gets_the_same_verdict(answer):
    result = check(answer, "gae")
    assert result["verdict"] == "correct", result["feedback"]
    assert "0 <= lambda < 1" in result["assumptions"]


def test_the_return_form_with_one_minus_lambda_inside_is_correct_too():
    answer = (
        r"\sum_{n=1}^{\infty}(1-\lambda)\lambda^{n-1}"
        r"\left(\sum_{k=0}^{n-1}\gamma^k r_{t+k} + \gamma^n V(s_{t+n})\right)"
    )
    assert check(answer, "lambda-return")["verdict"] == "correct"


def test_a_long_truncation_is_shown_wrong_inside_the_assumptions():
    result = check(r"\sum_{l=0}^{300} (\gamma\lambda)^l \delta_{t+l}", "gae")
    assert result["verdict"] == "incorrect"
    assert result["mistake"]["id"] == "finite-horizon"
    example = result["counterexample"]
    assert Fraction(example["gamma"]) * Fraction(example["lambda"]) < 1  # 0 <= γλ < 1
    assert "t+301" in example["rewards"] or "t+302" in example["rewards"]
    assert example["answer_value"] != example["reference_value"]


# Wrong answers of every shape the class wrote: known mistakes, truncations, extra terms.
_WRONG_GAE = [
    "sum(l=0..{N}, (gamma*lambda)^l*delta[t+l])",
    "sum(l=0..inf, (gamma*lambda)^l*delta[t+l]) + {c}*delta[t+{k}]",
    "sum(l=0..inf, (gamma*lambda)^l*delta[t+l]) + {c}*r[t+{k}]",
    "sum(l=0..inf, gamma^l*lambda^(l+{k})*delta[t+l])",
    "(1-lambda)*sum(n=1..{N}, lambda^(n-1)*sum(l=0..n-1, gamma^l*delta[t+l]))",
    "sum(l=0..inf, (gamma*lambda)^l*delta[t+l]) + {c}*gamma^{N}*V[t+{k}]",
]
_WRONG_LAMBDA1 = [
    "sum(l=0..{N}, gamma^l*r[t+l]) - V[t]",
    "sum(l=0..inf, gamma^l*r[t+l]) - V[t] + {c}*gamma^{N}*r[t+{k}]",
    "sum(l=0..inf, gamma^(l+{k})*r[t+l]) - V[t]",
]


@FAST
@given(
    st.sampled_from(
        [("gae", w) for w in _WRONG_GAE]
        + [("lambda-return", w + " + V[t]") for w in _WRONG_GAE]
        + [("gae-lambda1", w) for w in _WRONG_LAMBDA1]
    ),
    st.integers(1, 400),
    st.sampled_from(["1", "-2", "1/3", "3/2"]),
    st.integers(1, 60),
)
def test_counterexamples_lie_inside_the_questions_assumptions(case, big, c, k):
    question_id, template = case
    answer = template.format(N=big, c=c, k=k)
    result = check(answer, question_id)
    assert result["verdict"] == "incorrect", (answer, result["feedback"])
    assert result["counterexample"] is not None, answer
    assert _inside_question(result), (answer, result["counterexample"])


def test_counterexamples_of_every_known_mistake_lie_inside_the_assumptions():
    from gae_sym.homework.questions import mistake_expr
    from gae_sym.printing import lecture_latex

    for question_id in INFINITE_QUESTIONS:
        q = question(question_id)
        for mistake in q.mistakes:
            result = check(lecture_latex(mistake_expr(mistake)), question_id)
            assert result["verdict"] == "incorrect", (question_id, mistake.id)
            if result["counterexample"] is not None:
                assert _inside_question(result), (question_id, mistake.id)


def test_counterexample_names_t_when_the_value_depends_on_it():
    result = check(r"\sum_{k=t}^{\infty}(\gamma\lambda)^k\delta_k", "gae")
    assert result["verdict"] == "incorrect"
    assert "t" in result["counterexample"]
    shifted = check(r"\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} + t - 3", "gae")
    assert "t" in shifted["counterexample"]
    # An answer that does not depend on t does not state it.
    plain = check(r"\sum_{l=0}^{\infty}\lambda^l\delta_{t+l}", "gae")
    assert "t" not in plain["counterexample"]


def test_counterexample_never_shows_a_bound_index_as_a_parameter():
    result = check(r"\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{k=0}^{n-1}\gamma^k\delta_{t+k}", "gae")
    assert result["verdict"] == "incorrect"
    assert result["mistake"]["id"] == "missing-one-minus-lambda"
    assert "n" not in result["counterexample"]
    # A free n (the symbolic n-step question) is a parameter, and is shown.
    free = check(r"\sum_{l=0}^{n}\gamma^l\delta_{t+l}", "nstep")
    assert "n" in free["counterexample"]


@pytest.mark.parametrize(
    ("question_id", "answer"),
    [
        ("gae", r"\sum_{l=0}^{\infty}\gamma\lambda^l\delta_{t+l}"),
        ("gae", r"\sum_{l=0}^{\infty}\gamma^l\lambda\delta_{t+l}"),
        ("gae", "sum(l=0..inf, gamma*lambda^l*delta[t+l])"),
        ("lambda-return", r"\sum_{l=0}^{\infty}\gamma\lambda^l\delta_{t+l} + V(s_t)"),
    ],
)
def test_precedence_slip_gamma_lambda_power_has_a_hint(question_id, answer):
    result = check(answer, question_id)
    assert result["verdict"] == "incorrect"
    assert result["mistake"]["id"] == "precedence-gamma-lambda-power"
    assert "(γλ)^l" in result["feedback"]


@pytest.mark.parametrize(
    ("question_id", "answer"),
    [
        ("nstep", r"\sum_{l=1}^{n}\gamma^l\delta_{t+l}"),
        ("nstep", r"\sum_{l=1}^{n-1}\gamma^l\delta_{t+l}"),
        ("nstep-3", r"\sum_{l=1}^{3}\gamma^l\delta_{t+l}"),
        ("nstep-3", r"\sum_{l=1}^{2}\gamma^l\delta_{t+l}"),
        ("nstep-4", "sum(l=1..4, gamma^l*r[t+l]) + gamma^4*V[t+4] - V[t]"),
    ],
)
def test_nstep_sum_starting_at_one_has_a_hint(question_id, answer):
    result = check(answer, question_id)
    assert result["verdict"] == "incorrect"
    assert result["mistake"]["id"] == "sum-starts-at-one"
    assert "starts at l = 0" in result["feedback"]


# --- notation -------------------------------------------------------------------------------


@pytest.mark.parametrize("letter", sorted(INDEX_NAMES))
def test_any_index_letter(letter):
    answer = rf"\sum_{{{letter}=0}}^{{2}}\gamma^{letter}\delta_{{t+{letter}}}"
    assert check(answer, "nstep-3")["verdict"] == "correct", letter
    text = f"sum({letter}=0..2, gamma^{letter}*delta[t+{letter}])"
    assert check(text, "nstep-3")["verdict"] == "correct", letter


@pytest.mark.parametrize("letter", ["r", "s", "t", "V"])
def test_letters_that_name_something_else_are_not_indices(letter):
    result = check(rf"\sum_{{{letter}=0}}^{{2}}\gamma^{letter}\delta_{{t+{letter}}}", "nstep-3")
    assert result["verdict"] == "unreadable"


@pytest.mark.parametrize(
    ("question_id", "answer"),
    [
        ("gae", r"\sum_{l \geq 0}(\gamma\lambda)^l\delta_{t+l}"),
        ("gae", r"\sum_{l\ge0}(\gamma\lambda)^l\delta_{t+l}"),
        ("gae", r"\sum_{l \geqslant 0}(\gamma\lambda)^l\delta_{t+l}"),
        ("gae", r"\sum_{l > 0}(\gamma\lambda)^{l-1}\delta_{t+l-1}"),
        ("gae", r"\sum_{0 \le l < \infty}(\gamma\lambda)^l\delta_{t+l}"),
        ("gae", r"\sum_{l≥0}(γλ)^l δ_{t+l}"),
        ("gae", r"\displaystyle\sum\limits_{l \geq 0}(\gamma\lambda)^l\delta_{t+l}"),
        ("nstep", r"\sum_{0 \le l \le n-1}\gamma^l\delta_{t+l}"),
        ("nstep", r"\sum_{0 \leq k < n}\gamma^k\delta_{t+k}"),
        ("nstep", r"\sum_{l \geq 0}^{n-1}\gamma^l\delta_{t+l}"),
        ("nstep-3", r"\sum_{0 \le l \le 2}\gamma^l\delta_{t+l}"),
        ("td-error", r"r_t + \gamma \hat{V}(s_{t+1}) - \hat{V}(s_t)"),
        ("td-error", r"r_t + \gamma \widehat{V}(s_{t+1}) - \hat V(s_t)"),
        ("td-error", r"r_t + \gamma V_{s_{t+1}} - V_{s_t}"),
        ("td-error", "r_t + γ V̂(s_{t+1}) − V̂(s_t)"),
        ("td-error", "r_t + \\gamma\u200b V(s_{t+1}) - V(s_t)"),
        ("td-error", "r_t\u2060 + \ufeff\\gamma V(s_{t+1})\u200d - V(s_t)"),
        ("td-error", "rₜ + γV(sₜ₊₁) − V(sₜ)"),
        ("td-error", "r[t] + γ*V[t+1] - V[t]"),
        ("td-error", "𝑟_𝑡 + 𝛾𝑉(𝑠_{𝑡+1}) − 𝑉(𝑠_𝑡)"),
        ("nstep-3", "r_t + γ r_{t+1} + γ² r_{t+2} + γ³ V(s_{t+3}) - V(s_t)"),
        ("nstep-3", "r[t] + γ r[t+1] + γ² r[t+2] + γ³ V[t+3] - V[t]"),
        ("nstep-2", "δₜ + γ δₜ₊₁"),
        ("nstep", "sum(l=0..n-1, γˡ δ[t+l])"),
        ("nstep", r"\sum_{l=0}^{n-1}γˡδ_{t+l}"),
        ("nstep-2", r"Â_t^{(2)} = \delta_t + \gamma\delta_{t+1}"),
        ("nstep-2", "Â⁽²⁾ₜ = δₜ + γδₜ₊₁"),
        ("lambda-return", r"Ĝ^\lambda_t = \sum_{l \ge 0}(\gamma\lambda)^l\delta_{t+l} + V(s_t)"),
    ],
)
def test_notation_a_class_writes(question_id, answer):
    result = check(answer, question_id)
    assert result["verdict"] == "correct", (answer, result["feedback"])


def _written_out(terms: int, latex: bool, weight: str = "gamma") -> str:
    if latex:
        w = r"\gamma" if weight == "gamma" else r"(\gamma\lambda)"
        return " + ".join(f"{w}^{{{k}}}\\delta_{{t+{k}}}" for k in range(terms))
    w = "gamma" if weight == "gamma" else "(gamma*lambda)"
    return " + ".join(f"{w}^{k}*delta[t+{k}]" for k in range(terms))


@pytest.mark.parametrize("latex", [True, False])
def test_a_hundred_terms_written_out_are_read_and_checked(latex):
    answer = _written_out(100, latex)
    assert len(answer) <= MAX_CHARS
    started = time.monotonic()
    assert check(answer, "nstep-100")["verdict"] == "correct"
    wrong = answer.replace("^{57}", "^{58}") if latex else answer.replace("^57*", "^58*")
    assert check(wrong, "nstep-100")["verdict"] == "incorrect"
    assert time.monotonic() - started < 10  # in-process, both checks, loaded CI machine


def test_the_guide_states_the_limits_the_code_applies():
    guide = (Path(__file__).parent.parent / "docs" / "guide" / "student-grader.md").read_text()
    guide = " ".join(guide.split())
    assert f"more than {MAX_CHARS:,} characters" in guide
    assert "2,000 characters" not in guide


# --- hostile input through the new notation ---------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("r_t + \u202e\\gamma V(s_{t+1}) - V(s_t)", "text-direction"),
        ("r_t + \u2067\\gamma V(s_{t+1}) - V(s_t)", "text-direction"),
        ("r_t + γᵃ V(s_{t+1}) - V(s_t)", "superscript"),
        ("r_t + \\gamma V(s_{t+1}) - V(s_t) + гamma", "unexpected"),  # Cyrillic г
        ("\ufdfa" * 300, "at most 4,000"),  # NFKC lengthens each to 18 characters
        ("γ⁹⁹⁹⁹⁹⁹⁹", "too large"),
        ("γ^{2^{3⁴}}", "too complex"),
        ("r_t" + "\u200b" * 4100, "at most 4,000"),  # the raw text is limited too
        (r"\sum_{l \leq 5}\gamma^l\delta_{t+l}", "cannot read the sum's range"),
        (r"\sum_{0 \le l \le 2}^{5}\gamma^l\delta_{t+l}", "given twice"),
        (r"\sum_{l \geq \gamma}\gamma^l\delta_{t+l}", "bounds"),
        (r"\hat{A}_t", "\\hat"),
    ],
)
def test_unicode_and_notation_tricks_are_refused_with_a_reason(answer, phrase):
    result = check(answer, "td-error")
    assert result["verdict"] == "unreadable", answer
    assert phrase in result["feedback"], result["feedback"]


def test_the_nfkc_expansion_is_really_longer():
    assert len(unicodedata.normalize("NFKC", "\ufdfa")) > 10


def test_a_long_sum_near_the_limit_never_hangs_the_worker():
    # 4,000 characters of distinct far terms, LaTeX and text: a verdict or "too complex",
    # always within the worker's hard limit.
    latex = ""
    k = 1
    while len(latex) < MAX_CHARS - 40:
        latex += f"+\\gamma^{{{k % 900}}} r_{{t+{k}}}"
        k += 1
    text = "+".join(f"gamma^{k % 900}*r[t+{k}]" for k in range(1, 400))[: MAX_CHARS - 10]
    text = text.rsplit("+", 1)[0]
    with CheckWorker(timeout=5.0, warm=True) as worker:
        for answer in (latex.lstrip("+"), text):
            started = time.monotonic()
            status, payload = worker.check(answer, "gae")
            assert time.monotonic() - started < worker.timeout + 2.0
            if status == "ok":
                assert payload["verdict"] in ("incorrect", "unreadable")
            else:
                assert payload[1] in ("too-complex", "unreadable")


# --- CSV injection ---------------------------------------------------------------------------


def _report(name: str, question_name: str = "q1", hint: str = "") -> StudentReport:
    return StudentReport(name, [GradedAnswer(question_name, "incorrect", 0.0, 1.0, hint)])


def _cells(reports) -> list[str]:
    out = io.StringIO()
    write_csv(reports, out)
    return [cell for row in csv.reader(io.StringIO(out.getvalue())) for cell in row]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
@pytest.mark.parametrize("lead", ["", " ", "  \n"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(trigger, lead):
    payload = f'{lead}{trigger}HYPERLINK("http://evil.example","click")'
    cells = _cells([_report(payload, payload, payload)])
    for cell in cells:
        if cell.lstrip(" \n\r\t").startswith(FORMULA_TRIGGERS) or cell.startswith(FORMULA_TRIGGERS):
            raise AssertionError(f"formula reaches the spreadsheet: {cell!r}")
    dangerous = payload.startswith(FORMULA_TRIGGERS) or payload.lstrip(" \n\r\t").startswith(
        FORMULA_TRIGGERS
    )
    expected = "'" + payload if dangerous else payload
    assert sum(cell == expected for cell in cells) >= 3  # name (twice), question, hint


@given(st.text(min_size=0, max_size=30))
def test_spreadsheet_safe_never_leaves_a_formula_and_changes_only_formulas(text):
    safe = spreadsheet_safe(text)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert not safe.lstrip(" \n\r\t").startswith(FORMULA_TRIGGERS)
    if safe != text:
        assert safe == "'" + text


def test_grade_report_csv_end_to_end(tmp_path):
    from gae_sym.cli import main

    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nname = "q1"\nquestion = "td-error"\npoints = 1\n')
    names = ['=HYPERLINK("http://x","y")', "+SUM(1,2)", "-2+3", "@cmd", "\tx", "\r=1", "Ada"]
    answers = tmp_path / "class.csv"
    with answers.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        for name in names:
            writer.writerow([name, "q1", "r_t + \\gamma V(s_{t+1}) - V(s_t)"])
    report = tmp_path / "report.csv"
    assert main(["grade", str(key), str(answers), "--out", str(report)]) == 0
    rows = list(csv.DictReader(report.open(encoding="utf-8", newline="")))
    students = {row["student"] for row in rows}
    # Names are read stripped ("\tx" is x); what a spreadsheet would run gets a quote.
    assert students == {"'" + n.strip() for n in names if n.strip()[0] in "=+-@"} | {"x", "Ada"}


def test_the_workers_start_up_is_not_counted_in_an_answers_time_limit(monkeypatch):
    import gae_sym.homework.latex_reader as latex_reader

    slow_start = latex_reader.warm_up

    def warm_up_slowly():  # a busy machine: the parser takes 1.5 s to load
        time.sleep(1.5)
        slow_start()

    monkeypatch.setattr(latex_reader, "warm_up", warm_up_slowly)
    with CheckWorker(timeout=1.0) as worker:  # the fork inherits the slow warm-up
        assert not worker._connection.poll(0)  # its "ready" was read before any answer
        status, result = worker.check(r"r_t + \gamma V(s_{t+1}) - V(s_t)", "td-error")
    assert status == "ok" and result["verdict"] == "correct"


# --- properties: notation a class writes never changes a verdict ------------------------------

_CASES = tomllib.loads(
    (Path(__file__).parent / "data" / "homework" / "cases.toml").read_text(encoding="utf-8")
)["case"]
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@FAST
@given(
    st.sampled_from([c for c in _CASES if c["verdict"] != "unreadable"]),
    st.lists(st.tuples(st.floats(0, 1), st.sampled_from(_INVISIBLE)), min_size=1, max_size=6),
)
def test_zero_width_characters_anywhere_change_no_verdict(case, insertions):
    answer = case["answer"]
    for where, mark in insertions:
        at = int(where * len(answer))
        answer = answer[:at] + mark + answer[at:]
    assert check(answer, case["question"])["verdict"] == case["verdict"], answer


_RANGES = [
    "_{{{i}=0}}^{{\\infty}}",
    "_{{{i} \\geq 0}}",
    "_{{{i}\\ge0}}",
    "_{{{i} ≥ 0}}",
    "_{{0 \\le {i} < \\infty}}",
    "\\limits_{{{i}=0}}^{{\\infty}}",
]
_WEIGHTS = ["(\\gamma\\lambda)^{{{i}}}", "\\gamma^{{{i}}}\\lambda^{{{i}}}", "(γλ)^{i} "]
_DELTAS = [
    "\\delta_{{t+{i}}}",
    "δ_{{t+{i}}}",
    "\\left(r_{{t+{i}}} + \\gamma V(s_{{t+{i}+1}}) - V(s_{{t+{i}}})\\right)",
]


@FAST
@given(
    st.sampled_from(sorted(INDEX_NAMES - {"n"})),
    st.sampled_from(_RANGES),
    st.sampled_from(_WEIGHTS),
    st.sampled_from(_DELTAS),
)
def test_gae_in_any_index_range_and_weight_notation_is_correct(letter, limits, weight, term):
    answer = "\\sum" + limits.format(i=letter) + weight.format(i=letter) + term.format(i=letter)
    result = check(answer, "gae")
    assert result["verdict"] == "correct", (answer, result["feedback"])
