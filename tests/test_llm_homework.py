"""Homework questions for the LLM-era theorems (rloo, rloo-group-sum, llm-terminal,
token-gae-gap): correct answers in either notation are correct by the right form, typical
wrong answers are incorrect with a counterexample inside the question's domain and the hint
of the mistake they make; `check --list` shows them and `grade` takes them in a key."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from gae_sym.cli import main
from gae_sym.homework.checker import check
from gae_sym.homework.questions import question, question_list

LLM_QUESTIONS = ("rloo", "rloo-group-sum", "llm-terminal", "token-gae-gap")


@pytest.mark.parametrize(
    "qid, answer, layer, form",
    [
        ("rloo", r"r_t - \frac{1}{n}\sum_{l=1}^{n} r_{t+l}", "structural", "leave-one-out"),
        (
            "rloo",
            r"\frac{n+1}{n}\left(r_t - \frac{1}{n+1}\sum_{l=0}^{n} r_{t+l}\right)",
            "structural",
            "theorem rloo",
        ),
        # the leave-one-out sum written as the whole sum minus r_t: equal, by algebra
        ("rloo", "r[t] - (sum(j=0..n, r[t+j]) - r[t])/n", None, None),
        ("rloo-group-sum", "0", "structural", "theorem rloo"),
        (
            "rloo-group-sum",
            "sum(i=0..n, r[t+i] - 1/n*(sum(l=0..n, r[t+l]) - r[t+i]))",
            None,
            None,
        ),
        # Dr. GRPO's advantages sum to 0 the same way
        ("rloo-group-sum", "sum(i=0..n, r[t+i] - 1/(n+1)*sum(l=0..n, r[t+l]))", None, None),
        (
            "llm-terminal",
            r"\sum_{l=0}^{n} r_{t+l} - V(s_t)",
            "structural",
            "theorem llm-terminal-reward",
        ),
        (
            "llm-terminal",
            "sum(l=0..n-1, r[t+l] + V[t+l+1] - V[t+l]) + r[t+n] - V[t+n]",
            "structural",
            "GAE at γ = λ = 1",
        ),
        (
            "token-gae-gap",
            r"r_t + \gamma V(s_{t+2}) - V(s_t)"
            r" + \sum_{l=1}^{\infty} (\gamma\lambda)^l \delta_{t+l+1}",
            "structural",
            "theorem token-gae-masked",
        ),
        (
            "token-gae-gap",
            "r[t] + gamma*V[t+2] - V[t]"
            " + gamma*lambda*sum(k=0..inf, (gamma*lambda)^k*delta[t+k+2])",
            "structural",
            "theorem token-gae-masked",
        ),
        # the same, with each δ written out in r and V
        (
            "token-gae-gap",
            "r[t] + gamma*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^l*(r[t+l+1] "
            "+ gamma*V[t+l+2] - V[t+l+1]))",
            None,
            None,
        ),
    ],
)
def test_correct_answers_are_correct(qid, answer, layer, form):
    result = check(answer, qid)
    assert result["verdict"] == "correct", result
    assert result["question"] == qid and result["counterexample"] is None
    if layer is not None:
        assert result["layer"] == layer
    if form is not None:
        assert form in result["feedback"]


@pytest.mark.parametrize(
    "qid, answer, mistake",
    [
        # RLOO: divide by K instead of K − 1; forget the factor K/(K − 1); forget a term
        ("rloo", r"r_t - \frac{1}{n+1}\sum_{l=1}^{n} r_{t+l}", "rloo-divide-by-k"),
        ("rloo", "r[t] - 1/(n+1)*sum(l=0..n, r[t+l])", "rloo-baseline-includes-self"),
        ("rloo", "n/(n+1)*(r[t] - 1/(n+1)*sum(l=0..n, r[t+l]))", "rloo-factor-inverted"),
        ("rloo", "r[t] - 1/n*sum(l=1..n-1, r[t+l])", "rloo-forgets-a-term"),
        ("rloo", "r[t] - 1/n*sum(l=0..n, r[t+l])", "rloo-sum-includes-self"),
        # the group sum with the K divisor is r̄, not 0
        (
            "rloo-group-sum",
            "sum(i=0..n, r[t+i] - 1/(n+1)*(sum(l=0..n, r[t+l]) - r[t+i]))",
            "rloo-divide-by-k",
        ),
        ("rloo-group-sum", "sum(l=0..n, r[t+l]) - 1/(n+1)*sum(l=0..n, r[t+l])", None),
        # terminal: bootstrap from the padding after the response; R − V_t with rewards on
        # every token; the last token forgotten
        ("llm-terminal", "sum(l=0..n, r[t+l]) + V[t+n+1] - V[t]", "bootstrap-from-padding"),
        ("llm-terminal", r"r_{t+n} - V(s_t)", "last-reward-only"),
        ("llm-terminal", "sum(l=0..n-1, r[t+l]) - V[t]", "forgets-the-last-token"),
        ("llm-terminal", "sum(l=0..n, r[t+l])", "return-not-advantage"),
        # the skip-masked update cases: value or carry not passed through, chain cut, gap
        # counted as a step
        (
            "token-gae-gap",
            "r[t] + gamma*V[t+1] - V[t] + sum(l=1..inf, (gamma*lambda)^l*delta[t+l+1])",
            "value-not-passed-through",
        ),
        (
            "token-gae-gap",
            r"\sum_{l=0}^{\infty} (\gamma\lambda)^l \delta_{t+l}",
            "carry-not-passed-through",
        ),
        ("token-gae-gap", "r[t] + gamma*V[t+2] - V[t]", "chain-cut-at-mask"),
        (
            "token-gae-gap",
            "r[t] + gamma*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^(l+1)*delta[t+l+1])",
            "gap-counted-as-a-step",
        ),
        (
            "token-gae-gap",
            "r[t] + gamma^2*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^l*delta[t+l+1])",
            "gap-discounted",
        ),
    ],
)
def test_typical_wrong_answers_are_wrong_with_a_counterexample_and_the_mistake(
    qid, answer, mistake
):
    result = check(answer, qid)
    assert result["verdict"] == "incorrect", result
    example = result["counterexample"]
    assert example is not None
    assert example["answer_value"] != example["reference_value"]
    if mistake is None:
        assert result["mistake"] is None or result["mistake"]["id"] != "rloo-divide-by-k"
    else:
        assert result["mistake"] is not None and result["mistake"]["id"] == mistake, result
        assert result["mistake"]["hint"] in result["feedback"]


def test_the_counterexample_of_a_gap_mistake_lies_inside_the_assumptions():
    result = check("r[t] + gamma*V[t+2] - V[t]", "token-gae-gap")
    example = result["counterexample"]
    gamma, lam = (Fraction(example[k]) for k in ("gamma", "lambda"))
    assert 0 <= gamma * lam < 1


def test_a_finite_truncation_of_the_gap_chain_is_refused_as_finite():
    result = check(
        "r[t] + gamma*V[t+2] - V[t] + sum(l=1..300, (gamma*lambda)^l*delta[t+l+1])",
        "token-gae-gap",
    )
    assert result["verdict"] == "incorrect"
    assert result["mistake"]["id"] == "finite-horizon"


def test_the_mean_symbol_is_refused_with_a_reason_not_guessed():
    result = check(r"\frac{n+1}{n}(r_t - \bar{r})", "rloo")
    assert result["verdict"] == "unreadable" and result["reason"] == "unknown-symbol"
    assert "\\bar" in result["feedback"]


def test_the_references_are_the_definitions_of_gae_sym_llm_estimators():
    # RLOO on a group indexed t..t+n is llm_estimators.rloo_advantage of member 0, shifted.
    assert str(question("rloo").forms[0].expr) == "r[t] - Sum(r[l + t], (l, 1, n))/n"
    terminal = question("llm-terminal").forms[0].expr
    assert not terminal.has(*[s for s in terminal.free_symbols if s.name in ("gamma", "lambda")])
    assert question("rloo-group-sum").reference == 0


def test_check_list_shows_the_llm_questions(capsys):
    assert main(["check", "--list"]) == 0
    listed = capsys.readouterr().out
    for qid in LLM_QUESTIONS:
        assert any(line.split()[0] == qid for line in listed.splitlines() if line.strip()), qid
    assert [qid for qid, _ in question_list()][-4:] == list(LLM_QUESTIONS)


def test_grade_takes_the_llm_questions_in_a_key(tmp_path, capsys):
    key = tmp_path / "key.toml"
    key.write_text(
        "".join(
            f'[[question]]\nname = "q{k}"\nquestion = "{qid}"\npoints = 1\n\n'
            for k, qid in enumerate(LLM_QUESTIONS, 1)
        )
    )
    answers = tmp_path / "answers.toml"
    answers.write_text(
        'student = "Ada"\n'
        "q1 = '\\frac{n+1}{n}\\left(r_t - \\frac{1}{n+1}\\sum_{l=0}^{n} r_{t+l}\\right)'\n"
        "q2 = '0'\n"
        "q3 = 'r[t+n] - V[t]'\n"  # R − V_t, but every token carries a reward here
        "q4 = 'r[t] + gamma*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^l*delta[t+l+1])'\n"
    )
    status = main(["grade", str(key), str(answers), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 1
    (student,) = document["students"]
    verdicts = {a["question"]: (a["verdict"], a["mistake"]) for a in student["answers"]}
    assert verdicts == {
        "q1": ("correct", None),
        "q2": ("correct", None),
        "q3": ("incorrect", "last-reward-only"),
        "q4": ("correct", None),
    }
    assert student["total"] == 3.0 and student["max_total"] == 4.0


@pytest.mark.parametrize(
    "answer",
    [
        # δ's γ is the question's γ = 1: the TD errors telescope to Σ r − V(s_t)
        r"\sum_{l=0}^{n-1} \delta_{t+l} + r_{t+n} - V(s_{t+n})",
        # a γ^l written out is 1 at the question's γ
        r"\sum_{l=0}^{n} \gamma^l r_{t+l} - V(s_t)",
    ],
)
def test_llm_terminal_reads_answers_at_the_gamma_and_lambda_it_fixes(answer):
    """The question fixes γ = λ = 1: an answer right there is correct, never refuted at a
    γ the question excludes (a new user's report: 'incorrect … gamma = 0')."""
    result = check(answer, "llm-terminal")
    assert result["verdict"] == "correct", result


def test_llm_terminal_counterexamples_lie_at_the_fixed_parameters():
    result = check(r"\sum_{l=0}^{n}(\gamma\lambda)^l\delta_{t+l}", "llm-terminal")
    assert result["verdict"] == "incorrect"
    example = result["counterexample"]
    assert example["gamma"] == "1" and example.get("lambda", "1") == "1", example
