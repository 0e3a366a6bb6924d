"""The answer-case table (tests/data/homework/cases.toml) through the layered checker."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from gae_sym.homework.checker import check

CASES = tomllib.loads(
    (Path(__file__).parent / "data" / "homework" / "cases.toml").read_text(encoding="utf-8")
)["case"]


def test_the_table_covers_every_kind_of_case():
    verdicts = [c["verdict"] for c in CASES]
    assert len(CASES) >= 40
    assert {"correct", "incorrect", "unreadable"} <= set(verdicts)
    mistakes = {c.get("mistake") for c in CASES if c.get("mistake")}
    assert len(mistakes) >= 10
    assert {c["question"] for c in CASES} >= {
        "td-error",
        "nstep-2",
        "nstep",
        "gae",
        "gae-lambda0",
        "gae-lambda1",
        "lambda-return",
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c['question']}:{c['answer'][:40]}" for c in CASES])
def test_answer_case(case):
    result = check(case["answer"], case["question"])
    assert result["verdict"] == case["verdict"], result["feedback"]
    if case["verdict"] == "correct":
        assert result["parsed_latex"]
        assert result["layer"] in ("structural", "algebraic", "numeric")
        assert result["counterexample"] is None
    elif case["verdict"] == "incorrect" and case.get("mistake") == "circular":
        # Written with what is asked (δ_t for the TD error): equal in value, so no
        # counterexample exists; the hint must say what to write instead.
        assert result["counterexample"] is None
        assert result["mistake"]["id"] == "circular"
        assert result["mistake"]["hint"] in result["feedback"]
    elif case["verdict"] == "incorrect":
        example = result["counterexample"]
        assert example is not None
        assert example["answer_value"] != example["reference_value"]
        named = (result["mistake"] or {}).get("id", "")
        assert named == case.get("mistake", ""), result["feedback"]
        if named:
            assert result["mistake"]["hint"] in result["feedback"]
    else:
        assert result["reason"] == case["reason"], result["feedback"]
        assert case["says"] in result["feedback"]
        assert result["parsed_latex"] is None


def test_algebraic_layer_proves_the_telescoped_form():
    result = check(r"\sum_{l=0}^{n-1}\gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_t)", "nstep")
    assert result["layer"] == "structural"  # the r/V form is itself a reference form
    result = check(r"\sum_{j=1}^{n}\gamma^{j-1}\delta_{t+j-1}", "nstep")
    assert result["verdict"] == "correct"
    assert result["layer"] == "algebraic"


def test_weighted_average_form_names_the_theorem_and_its_assumptions():
    result = check(
        r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{l=0}^{n-1}\gamma^l\delta_{t+l}", "gae"
    )
    assert result["verdict"] == "correct"
    assert "theorem gae-infinite" in result["feedback"]
    assert "0 <= lambda < 1" in result["assumptions"]


def test_counterexample_is_real_for_the_td_error():
    # Recompute both sides from the printed trajectory with exact fractions.
    result = check("r[t] + V[t+1] - V[t]", "td-error")
    example = result["counterexample"]
    g = Fraction(example["gamma"])
    rewards = [Fraction(x) for x in example["rewards"].split(": ")[1].split(", ")[:2]]
    values = [Fraction(x) for x in example["values"].split(": ")[1].split(", ")[:2]]
    reference = rewards[0] + g * values[1] - values[0]
    answer = rewards[0] + values[1] - values[0]
    assert answer != reference
    assert float(reference) == pytest.approx(example["reference_value"])
    assert float(answer) == pytest.approx(example["answer_value"])


def test_expected_expression_instead_of_a_question_id():
    expected = "r[t] + gamma*r[t+1] + gamma^2*V[t+2]"
    assert (
        check(r"r_t + \gamma (r_{t+1} + \gamma V_{t+2})", expected=expected)["verdict"] == "correct"
    )
    wrong = check(r"r_t + \gamma r_{t+1} + \gamma V_{t+2}", expected=expected)
    assert wrong["verdict"] == "incorrect"
    assert wrong["mistake"] is None
