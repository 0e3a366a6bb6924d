"""`gae-sym check`: the command-line contract (flags, JSON fields, exit codes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gae_sym.cli import main

JSON_FIELDS = {"verdict", "parsed_latex", "feedback", "counterexample", "mistake"}


def run_json(capsys, *argv):
    code = main(["check", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_list_prints_every_question_id(capsys):
    assert main(["check", "--list"]) == 0
    out = capsys.readouterr().out
    for qid in (
        "td-error",
        "nstep-K",
        "nstep",
        "gae",
        "gae-lambda0",
        "gae-lambda1",
        "lambda-return",
    ):
        assert qid in out


def test_correct_answer_exits_0_with_the_json_fields(capsys):
    code, doc = run_json(capsys, "--question", "td-error", r"r_t + \gamma V(s_{t+1}) - V(s_t)")
    assert code == 0
    assert set(doc) >= JSON_FIELDS
    assert doc["verdict"] == "correct"
    assert doc["parsed_latex"] == r"r_{t} + \gamma V(s_{t+1}) - V(s_{t})"
    assert doc["counterexample"] is None and doc["mistake"] is None


def test_incorrect_answer_exits_1_with_counterexample_and_hint(capsys):
    code, doc = run_json(
        capsys, "-q", "nstep-2", r"r_t + \gamma r_{t+1} + \gamma V(s_{t+2}) - V(s_t)"
    )
    assert code == 1
    assert doc["verdict"] == "incorrect"
    assert doc["mistake"]["id"] == "bootstrap-gamma-n-minus-1"
    example = doc["counterexample"]
    assert {"gamma", "rewards", "values", "answer_value", "reference_value"} <= set(example)
    assert example["answer_value"] != example["reference_value"]


def test_human_output_echoes_the_answer_and_the_counterexample(capsys):
    assert main(["check", "--question", "td-error", "r[t] + V[t+1] - V[t]"]) == 1
    out = capsys.readouterr().out
    assert "verdict: incorrect" in out
    assert "read as: r_{t} + V(s_{t+1}) - V(s_{t})" in out
    assert "counterexample: gamma = " in out
    assert "mistake: missing-gamma" in out


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("x + r_t", "unknown symbol 'x'"),
        ("r[t] " + "+ r[t] " * 700, "at most 4,000"),
        (r"{r_t", "unbalanced braces"),
        (r"V(s_t) = r_t", "names another quantity"),
        (r"\gamma^{10^{10^{10}}}", "too complex to check"),
    ],
)
def test_refused_input_exits_2_with_a_clear_message(capsys, answer, phrase):
    code, doc = run_json(capsys, "--question", "td-error", answer)
    assert code == 2
    assert doc["verdict"] == "unreadable"
    assert phrase in doc["feedback"]


def test_unknown_question_exits_2(capsys):
    assert main(["check", "--question", "nstep-0", "r[t]"]) == 2
    err = capsys.readouterr().err
    assert "unknown question 'nstep-0'" in err


def test_expected_expression(capsys):
    code, doc = run_json(capsys, "--expected", "r[t] + gamma*r[t+1]", r"\gamma r_{t+1} + r_t")
    assert code == 0 and doc["verdict"] == "correct"
    assert main(["check", "--expected", "r[t] + x", "r[t]"]) == 2
    assert "expected expression cannot be read" in capsys.readouterr().err


def test_missing_target_or_answer_exits_2(capsys):
    assert main(["check", "r[t]"]) == 2
    assert main(["check", "--question", "gae"]) == 2


def test_console_script_cold_run_and_help():
    script = [sys.executable, "-m", "gae_sym", "check"]
    done = subprocess.run(
        [*script, "--question", "gae", r"\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("verdict: correct")
    helped = subprocess.run([*script, "--help"], capture_output=True, text=True, timeout=60)
    assert "gae-sym check --question td-error" in helped.stdout
