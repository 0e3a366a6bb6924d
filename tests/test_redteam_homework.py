"""Red-team answers for the homework checker: wrong answers built to pass the numeric points,
right answers a student writes, and input that used to crash it.

Each test asserts on the reason the checker gives, not only on the verdict.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gae_sym.homework.checker import check
from gae_sym.homework.numeric_check import check_points, probe_points
from gae_sym.homework.worker import CheckWorker
from gae_sym.symbols import t

GAE = "sum(l=0..inf, (gamma*lam)^l*delta[t+l])"
TD = "r[t] + gamma*V[t+1] - V[t]"


def _roots(attribute: str) -> list[Fraction]:
    """Every value of one parameter that the fixed points and the probes use."""
    points = check_points() + probe_points(t)
    values = {Fraction(getattr(p, attribute)) for p in points}
    # The twins moved inside (γ = 9/10) and pulled inside (1 − ε) are used too.
    values |= {Fraction(9, 10), Fraction(99, 100), Fraction(999, 1000), Fraction(9999, 10000)}
    return sorted(v for v in values if v != 0)


def _vanishing(name: str, attribute: str) -> str:
    """A plain-text polynomial in ``name`` that is 0 at every value the checker samples."""
    return "".join(f"({name}-{v.numerator}/{v.denominator})" for v in _roots(attribute))


def _wrong_but_zero_at_the_points(result: dict) -> None:
    assert result["verdict"] == "incorrect", result["feedback"]
    assert "minus the reference is not zero" in result["feedback"]
    assert result["layer"] == "algebraic"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("td-error", f"{TD} + gamma*{_vanishing('gamma', 'gamma')}*r[t]"),
        ("gae", f"{GAE} + gamma*{_vanishing('gamma', 'gamma')}*r[t]"),
        ("gae", f"{GAE} + lam*{_vanishing('lam', 'lam')}*r[t+1]"),
    ],
    ids=["td-error-gamma", "gae-gamma", "gae-lambda"],
)
def test_a_polynomial_with_a_root_at_every_sampled_parameter_is_wrong(question, answer):
    result = check(answer, question)
    _wrong_but_zero_at_the_points(result)
    example = result["counterexample"]
    # The values differ as printed, or the exact difference (when short enough) is given.
    assert example is not None
    assert example["answer_value"] != example["reference_value"] or (
        Fraction(example["difference"]) != 0
    )


def test_a_polynomial_in_n_is_wrong_and_the_counterexample_is_past_its_roots():
    roots = "".join(f"(n-{k})" for k in range(1, 21))
    result = check(f"sum(l=0..n-1, gamma^l*delta[t+l]) + {roots}*r[t]", "nstep")
    _wrong_but_zero_at_the_points(result)
    assert result["counterexample"]["n"] > 20


def test_the_step_count_n_in_an_answer_to_the_td_error_is_not_ignored():
    # n means nothing in δ_t; at every n the checker used the extra term was 0.
    roots = "".join(f"(n-{k})" for k in range(1, 21))
    result = check(rf"r_t + \gamma V(s_{{t+1}}) - V(s_t) + {roots} r_t", "td-error")
    _wrong_but_zero_at_the_points(result)


def test_a_polynomial_in_t_is_wrong():
    times = sorted({p.time for p in check_points() + probe_points(t)})
    roots = "".join(f"(t-{k})" for k in times)
    _wrong_but_zero_at_the_points(check(f"{TD} + {roots}*r[t]", "td-error"))


def test_a_term_below_the_numeric_tolerance_is_wrong():
    # 1e-10 γ r_t: below the relative tolerance 1e-8 at every point; not a constant offset.
    result = check(
        r"r_t + \gamma V(s_{t+1}) - V(s_t) + \frac{\frac{\gamma r_t}{99999}}{99999}", "td-error"
    )
    _wrong_but_zero_at_the_points(result)
    assert Fraction(result["counterexample"]["difference"]) != 0


@pytest.mark.parametrize(
    "answer",
    [
        r"r_t + \gamma V(s_{t+1}) - V(s_t) + 0^{(\gamma - \frac{1}{7})^2} r_t",
        "r[t] + gamma*V[t+1] - V[t] + (1 - 0^(gamma*(gamma-1/4)))*r[t]",
        r"r_t + \gamma V(s_{t+1}) - V(s_t) + 2^{\gamma} r_t - 2^{\gamma} r_t + 2^{\lambda}",
    ],
    ids=["indicator-latex", "indicator-text", "exponential"],
)
def test_gamma_or_lambda_in_an_exponent_is_refused(answer):
    # 0^{(γ − a)^2} is 1 at γ = a and 0 elsewhere: indicators of the sampled points.
    result = check(answer, "td-error")
    assert result["verdict"] == "unreadable"
    assert "an exponent cannot contain γ or λ" in result["feedback"]


def test_zero_to_the_gamma_is_still_read_and_told_apart_at_gamma_zero():
    result = check(r"r_t + \gamma V(s_{t+1}) - V(s_t) + 0^{\gamma}", "td-error")
    assert result["verdict"] == "incorrect"
    assert result["counterexample"]["gamma"] == "0"


def test_merged_powers_past_the_exponent_limit_are_refused():
    answer = r"\sum_{l=0}^{\infty}\gamma^l r_{t+l} - V(s_t) + (\gamma^{1000})^{1000} r_{t+1}"
    result = check(answer, "gae-lambda1")
    assert result["verdict"] == "unreadable"
    assert result["reason"] == "too-complex"
    assert "exponent 1000000 is too large" in result["feedback"]


def test_a_tail_sum_past_step_2000_is_seen():
    # Σ_{l ≥ 2001} r_{t+l} is ~1e-250 on every decaying trajectory; the impulse finds it.
    answer = rf"{GAE} + sum(l=2001..inf, r[t+l])"
    result = check(answer, "gae")
    assert result["verdict"] == "incorrect"
    assert "r_(t+2001) = 1" in result["counterexample"]["rewards"]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("gae", r"\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} + \sum_{l=0}^{\infty} 0"),
        ("td-error", r"r_t + \gamma V(s_{t+1}) - V(s_t) + \sum_{l=0}^{\infty} (\gamma - \gamma)"),
    ],
)
def test_an_infinite_sum_of_zeros_gets_a_verdict_not_a_crash(question, answer):
    # Its canonical form does not exist (Σ 0 · 1 over infinitely many terms); that escaped.
    result = check(answer, question)
    assert result["verdict"] == "correct"
    assert result["layer"] == "numeric"


def test_an_infinite_sum_of_zeros_through_the_worker():
    with CheckWorker() as worker:
        status, result = worker.check(
            r"r_t + \gamma V(s_{t+1}) - V(s_t) + \sum_{l=0}^{\infty} 0", "td-error"
        )
    assert status == "ok", result
    assert result["verdict"] == "correct"


def test_rloo_counterexample_names_no_gamma_and_lists_no_values():
    result = check(r"r_t - \frac{1}{n+1}\sum_{l=1}^{n} r_{t+l}", "rloo")
    example = result["counterexample"]
    assert result["mistake"]["id"] == "rloo-divide-by-k"
    assert "gamma" not in example and "lambda" not in example
    assert example["n"] == 1
    assert example["values"].startswith("not used")
    assert example["rewards"].startswith("r_(t+i) = ")


def test_rloo_counterexample_names_gamma_when_the_answer_uses_it():
    result = check(r"r_t - \frac{\gamma}{n}\sum_{l=1}^{n} r_{t+l}", "rloo")
    assert result["verdict"] == "incorrect"
    assert "gamma" in result["counterexample"]


def test_td_error_counterexample_still_names_gamma_and_values():
    result = check("r[t] + V[t+1] - V[t]", "td-error")
    assert result["counterexample"]["gamma"] == "0"
    assert result["counterexample"]["values"].startswith("V(s_(t+i)) = ")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("rloo", r"\frac{n+1}{n}\left(r_t - \frac{1}{n+1}\sum_{l=0}^{n} r_{t+l}\right)"),
        ("rloo", r"r_t - \frac{\sum_{l=0}^{n} r_{t+l} - r_t}{n}"),
        ("nstep", r"-V(s_t) + \gamma^{n}V(s_{t+n}) + \sum_{i=t}^{t+n-1}\gamma^{i-t}r_i"),
        ("gae", r"\sum_{k=t}^{\infty}(\gamma\lambda)^{k-t}\delta_{k}"),
        ("td-error", r"r_t + \gamma V(s_{t+1}) - V(s_t) + 0^{n} r_t"),
        ("nstep-3", r"\delta_t+\gamma\delta_{t+1}+\gamma^2\delta_{t+2} + (n-n) r_t"),
    ],
)
def test_equivalent_forms_stay_correct(question, answer):
    # The exact test must not turn a right answer wrong (0^n = 0 for every n >= 1).
    result = check(answer, question)
    assert result["verdict"] == "correct", result["feedback"]


# --- the web page: messages with math in them -------------------------------------------


def _no_latex_source(parts: list[dict]) -> None:
    for part in parts:
        assert "\\frac" not in part["text"] and "_{" not in part["text"], part
        assert "$" not in part["text"], part


def test_message_parts_typeset_dollar_math_and_plain_text_has_no_braces():
    from gae_sym.web.mathml import message_parts

    parts = message_parts(r"the answer is written with $\frac{\sum_{l=1}^{n} r_{t+l}}{n+1}$.")
    _no_latex_source(parts)
    math = [p for p in parts if "mathml" in p]
    assert len(math) == 1 and "<mfrac>" in math[0]["mathml"]
    assert math[0]["text"] == "(Σ_(l=1)^n r_(t+l))/(n+1)"
    assert "".join(p["text"] for p in parts).startswith("the answer is written with (Σ")


def test_message_parts_leave_plain_quoted_words_alone():
    from gae_sym.web.mathml import message_parts

    text = "unknown symbol 'x' (free symbols allowed: t, n, gamma, lambda)"
    assert message_parts(text) == [{"text": text}]


@pytest.fixture(scope="module")
def server():
    from web_server import Server

    running = Server("--workers", "1", "--queue", "4")
    yield running
    running.stop()


def test_api_check_gives_the_circular_feedback_and_a_hint_as_readable_parts(server):
    reply = server.client.post(
        "/api/check",
        json={"question": "td-error", "answer": r"\delta_t", "render": True, "readable": True},
    ).json()
    assert reply["mistake"]["id"] == "circular"
    assert "$\\delta_{t}$" in reply["feedback"]  # the JSON contract keeps the source
    feedback = reply["readable"]["feedback"]
    _no_latex_source(feedback)
    assert any(p.get("mathml") and p["text"] == "δ_t" for p in feedback)
    hint = reply["readable"]["hint"]
    _no_latex_source(hint)
    assert any(p.get("mathml") and p["text"] == "V(s_(t+1))" for p in hint)


def test_api_check_precedence_hint_shows_no_backslash_commands(server):
    answer = r"\sum_{l=0}^{\infty}\gamma\lambda^l\delta_{t+l}"
    reply = server.client.post(
        "/api/check", json={"question": "gae", "answer": answer, "render": True, "readable": True}
    ).json()
    assert reply["mistake"]["id"] == "precedence-gamma-lambda-power"
    assert "\\gamma\\lambda^l" in reply["mistake"]["hint"]
    hint = reply["readable"]["hint"]
    assert not any("\\gamma" in p["text"] for p in hint)
    assert any(p.get("mathml") and p["text"] == "(γλ)^l" for p in hint)


def test_api_preview_error_quoting_latex_is_typeset(server):
    reply = server.client.post("/api/preview", json={"answer": r"\hat{A}_t^{(3)} = r_t"}).json()
    assert reply["error"] is None  # the preview reads; the question is not known here
    reply = server.client.post(
        "/api/check",
        json={
            "question": "nstep-2",
            "answer": r"\hat{A}_t^{(3)} = r_t",
            "render": True,
            "readable": True,
        },
    ).json()
    assert reply["verdict"] == "unreadable"
    feedback = reply["readable"]["feedback"]
    assert any(p.get("mathml") and p["text"] == "'A_t^(3)'" for p in feedback)


def test_api_derivation_gives_one_readable_why_per_line(server):
    derivation = (
        r"\delta_t &= r_t + \gamma V(s_{t+1}) - V(s_t) \\ &= r_t - V(s_t) + \gamma V(s_{t+1})"
    )
    reply = server.client.post(
        "/api/check",
        json={"question": "td-error", "derivation": derivation, "render": True, "readable": True},
    ).json()
    lines = reply["derivation"]["lines"]
    assert len(reply["readable"]["lines"]) == len(lines) == 2
    assert "".join(p["text"] for p in reply["readable"]["lines"][0]) == lines[0]["why"]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("gae", r"\sum_{l=0}^{\infty}(\gamma\lambda)^{l}\delta^{V}_{t+l}"),
        ("gae", r"\sum_{l=0}^{\infty}(\gamma\lambda)^{l}\delta_{t+l}^V"),
        ("td-error", r"\delta^{V}_t = r_t + \gamma V^{\pi}(s_{t+1}) - V^\pi(s_t)"),
        ("td-error", r"r_t + \gamma V_{\phi}(s_{t+1}) - V_\phi(s_t)"),
        ("td-error", r"r_t + \gamma \hat{V}_{\theta}(s_{t+1}) - \hat{V}_{\theta}(s_t)"),
    ],
    ids=["delta-V-before", "delta-V-after", "V-pi", "V-phi", "V-hat-theta"],
)
def test_the_gae_papers_delta_of_v_v_of_pi_and_a_critic_v_phi_are_read(question, answer):
    # δ^V_{t+l} is how Schulman et al. write the TD error; it was "'delta' needs a time index".
    result = check(answer, question)
    assert result["verdict"] == "correct", result["feedback"]
    assert result["layer"] == "structural"
    assert "^" not in result["parsed_latex"].replace("^{l}", "").replace("^{\\infty}", "")


# --- derivations ------------------------------------------------------------------------

GAE_LAMBDA1_DERIVATION = r"""\begin{align*}
\hat{A}^{\mathrm{GAE}}_t &= \sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} \\
&= \sum_{l=0}^{\infty}\gamma^l\delta_{t+l} \\
&= \sum_{l=0}^{\infty}\gamma^l r_{t+l} + \sum_{l=0}^{\infty}\gamma^{l+1}V(s_{t+l+1})
   - \sum_{l=0}^{\infty}\gamma^l V(s_{t+l}) \\
&= \sum_{l=0}^{\infty}\gamma^l r_{t+l} - V(s_t)
\end{align*}"""


def _derivation(text: str, question_id: str) -> dict:
    from gae_sym.derivation_check.homework import check_derivation

    return check_derivation(text, question_id)


def test_a_derivation_for_gae_at_lambda_one_may_set_lambda_to_one():
    # The question is GAE at λ = 1: setting λ = 1 was "false at lambda = 0.6".
    result = _derivation(GAE_LAMBDA1_DERIVATION, "gae-lambda1")
    assert result["verdict"] == "correct", result["feedback"]
    setting = result["derivation"]["lines"][1]
    assert setting["status"] == "justified" and "lambda = 1" in setting["why"]


def test_setting_lambda_one_does_not_let_a_wrong_last_line_through():
    text = GAE_LAMBDA1_DERIVATION.replace(r"&= \sum_{l=0}^{\infty}\gamma^l r_{t+l} - V(s_t)", "")
    text = text.replace(r"- \sum_{l=0}^{\infty}\gamma^l V(s_{t+l}) \\", "")
    result = _derivation(text, "gae-lambda1")
    assert result["verdict"] == "incorrect"
    # λ is set for gae-lambda1 only: GAE itself keeps λ free.
    assert _derivation(GAE_LAMBDA1_DERIVATION, "gae")["verdict"] == "incorrect"


def test_a_derivation_ending_in_an_index_shifted_gae_is_the_answer():
    # δ_t + γλ Σ_l (γλ)^l δ_{t+l+1} is GAE (the answer checker proves it); the derivation
    # check said "the last line is not shown to equal the reference".
    text = r"""\begin{align*}
\hat{A}^{\mathrm{GAE}}_t &= \sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} \\
&= \delta_t + \sum_{l=1}^{\infty}(\gamma\lambda)^l\delta_{t+l} \\
&= \delta_t + \gamma\lambda\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l+1}
\end{align*}"""
    result = _derivation(text, "gae")
    assert result["verdict"] == "correct", result["feedback"]
    wrong_end = text.replace(r"\delta_{t+l+1}", r"\delta_{t+l+2}")
    wrong = _derivation(wrong_end, "gae")
    assert wrong["verdict"] == "incorrect"


def test_hat_a_without_a_superscript_is_named_as_the_recursion_sequence():
    text = r"""\begin{align*}
\hat{A}_t &= \sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} \\
&= \delta_t + \sum_{l=1}^{\infty}(\gamma\lambda)^l\delta_{t+l}
\end{align*}"""
    result = _derivation(text, "gae")
    assert result["verdict"] == "incorrect"
    assert "nothing in this derivation defines" in result["feedback"]
    assert r"\hat{A}^{\mathrm{GAE}}_t" in result["feedback"]


def test_a_line_off_by_a_polynomial_with_roots_at_the_instances_is_false():
    # Each instance the kernel tried is a root of the extra term, so the line was only
    # "unjustified: equal at every instance tried"; it is false, and now says so.
    roots = "".join(f"(\\gamma-\\frac{{{k}}}{{{d}}})" for k, d in ((1, 2), (1, 4), (3, 5), (1, 5)))
    text = (
        "\\begin{align*}\n"
        "\\delta_t &= r_t + \\gamma V(s_{t+1}) - V(s_t) \\\\\n"
        f"&= r_t + \\gamma V(s_{{t+1}}) - V(s_t) + \\gamma{roots}(\\gamma-1) r_t\n"
        "\\end{align*}"
    )
    result = _derivation(text, "td-error")
    assert result["verdict"] == "incorrect"
    line = result["derivation"]["lines"][1]
    assert line["status"] == "false", line
    assert "minus this line is not zero" in line["why"]


def test_message_parts_of_hostile_quoted_text_carry_no_markup():
    from gae_sym.web.mathml import message_parts, sanitise

    message = (
        r"the left-hand side '\hat{<img src=x onerror=alert(1)>}_t' x $\text{</math><script>}$"
    )
    for part in message_parts(message):
        if "mathml" in part:
            assert sanitise(part["mathml"]) == part["mathml"]
            assert "<img" not in part["mathml"] and "<script" not in part["mathml"]


@pytest.mark.parametrize(
    "answer",
    [
        # |γ − 1/10| − (γ − 1/10) is 0 at every γ >= 1/10 the checker samples, not below.
        r"r_t + \gamma V(s_{t+1}) - V(s_t)"
        r" + \gamma(((\gamma-\frac{1}{10})^2)^{\frac{1}{2}} - \gamma + \frac{1}{10}) r_t",
        "r[t] + gamma*V[t+1] - V[t] + gamma^0.5*(gamma^0.5 - gamma^0.5)",
    ],
    ids=["abs-by-square-root", "decimal-exponent"],
)
def test_a_fractional_exponent_is_refused_with_the_reason(answer):
    # It used to read (γ − 1/10)^2)^{1/2} as Abs and fail with "cannot evaluate Abs".
    result = check(answer, "td-error")
    assert result["verdict"] == "unreadable"
    assert "is not an integer: exponents are integers" in result["feedback"]


def test_a_vanishing_polynomial_inside_a_sum_that_does_not_cancel_is_wrong():
    # γ P(γ) Σ (γλ)^l r_{t+l+1}: the sums stay in answer − reference, each geometric in l,
    # and the exact test reads them in closed form on a geometric trajectory.
    poly = _vanishing("gamma", "gamma")
    answer = f"{GAE} + sum(l=0..inf, gamma*{poly}*(gamma*lam)^l*r[t+l+1])"
    _wrong_but_zero_at_the_points(check(answer, "gae"))


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "gae",
            "sum(k=0..inf, sum(l=0..inf, gamma^k*lam^l*(gamma*lam)^(k+l)*r[t+k+l]))*0 + " + GAE,
        ),
        ("gae-lambda1", "r[t] + gamma*sum(l=0..inf, gamma^l*r[t+l+1]) - V[t]"),
        ("gae-lambda1", "sum(l=0..inf, gamma^l*r[t+l]) - V[t] + sum(l=0..inf, 0^(l+1)*r[t+l])"),
        ("nstep", "sum(l=1..n, gamma^(l-1)*r[t+l-1]) + gamma^n*V[t+n] - V[t]"),
    ],
    ids=["double-sum-times-zero", "shifted-sums", "zero-power-sum", "sum-from-one"],
)
def test_sums_that_equal_the_reference_stay_correct(question, answer):
    result = check(answer, question)
    assert result["verdict"] == "correct", result["feedback"]


def test_a_line_off_by_a_vanishing_polynomial_times_a_sum_is_false():
    roots = "".join(f"(\\gamma-\\frac{{{k}}}{{{d}}})" for k, d in ((1, 2), (1, 4), (3, 5), (1, 5)))
    gae = r"\sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l}"
    text = (
        "\\begin{align*}\n"
        f"\\hat{{A}}^{{\\mathrm{{GAE}}}}_t &= {gae} \\\\\n"
        f"&= {gae} + \\gamma{roots}(\\gamma-1)"
        "\\sum_{l=0}^{\\infty}(\\gamma\\lambda)^l r_{t+l}\n"
        "\\end{align*}"
    )
    result = _derivation(text, "gae")
    assert result["verdict"] == "incorrect"
    line = result["derivation"]["lines"][1]
    assert line["status"] == "false", line
    assert "minus this line is not zero" in line["why"]


def test_splitting_gae_into_reward_and_value_sums_is_justified():
    # Each part converges for bounded r and V (the answer checker assumes as much); the
    # homework default assumptions did not say so: "unjustified: needs a bounded V".
    text = r"""\begin{align*}
\hat{A}^{\mathrm{GAE}}_t &= \sum_{l=0}^{\infty}(\gamma\lambda)^l\delta_{t+l} \\
&= \sum_{l=0}^{\infty}(\gamma\lambda)^l r_{t+l}
   + \sum_{l=0}^{\infty}(\gamma\lambda)^l(\gamma V(s_{t+l+1}) - V(s_{t+l})) \\
&= \sum_{l=0}^{\infty}(\gamma\lambda)^l r_{t+l}
   + \gamma\sum_{l=0}^{\infty}(\gamma\lambda)^l V(s_{t+l+1})
   - \sum_{l=0}^{\infty}(\gamma\lambda)^l V(s_{t+l})
\end{align*}"""
    result = _derivation(text, "gae")
    assert result["verdict"] == "correct", result["feedback"]
    assert "bounded-r-V" in result["derivation"]["assumptions"]


# --- a student's own assumptions -------------------------------------------------------

_TWO_STEP = (
    "\\begin{align*}\n"
    "\\hat{A}^{(2)}_t &= \\delta_t + \\gamma \\delta_{t+1} \\\\\n"
    "&= r_t + \\gamma r_{t+1} + \\gamma^2 V(s_{t+2}) - V(s_t)\n"
    "\\end{align*}\n"
)


@pytest.mark.parametrize("extra", ["gamma-lt-1", "lambda-lt-1", "bounded-delta", "recursion"])
def test_an_assumption_the_question_does_not_grant_is_refused_with_its_name(extra):
    from gae_sym.derivation_check.homework import check_derivation

    text = f"% gae-sym: assume segment, {extra}\n" + _TWO_STEP
    result = check_derivation(text, "nstep-2")
    assert result["verdict"] == "incorrect"
    assert result["feedback"].startswith(
        f"the derivation assumes {extra}, which question nstep-2 does not grant (it grants segment)"
    )


def test_restating_the_questions_assumptions_is_allowed():
    from gae_sym.derivation_check.homework import check_derivation

    assert check_derivation(_TWO_STEP, "nstep-2")["verdict"] == "correct"
    restated = "% gae-sym: assume segment\n" + _TWO_STEP
    assert check_derivation(restated, "nstep-2")["verdict"] == "correct"


# --- files a student or a lecturer points at by mistake --------------------------------


def test_a_folder_or_a_binary_file_is_named_in_words(tmp_path, capsys):
    from gae_sym.cli import main

    assert main(["check", "--question", "nstep", "--derivation", str(tmp_path)]) == 2
    assert f"{tmp_path}: is a folder; give a .tex or .md file" in capsys.readouterr().err
    binary = tmp_path / "a.tex"
    binary.write_bytes(bytes([0, 255, 254, 250]))
    assert main(["check", "--question", "nstep", "--derivation", str(binary)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8 text" in err and "Error" not in err
    assert main(["prove", str(tmp_path)]) == 2
    assert capsys.readouterr().out.strip() == f"{tmp_path}: is a folder; give a .tex or .md file"


def test_a_worker_ignores_ctrl_c_so_only_the_parent_reports_it():
    import os
    import signal as signals
    import time

    with CheckWorker() as worker:
        pid = worker._process.pid
        os.kill(pid, signals.SIGINT)  # what Ctrl-C sends to every process of the group
        time.sleep(0.3)
        assert worker._process.is_alive()
        status, result = worker.check("r_t + \\gamma V(s_{t+1}) - V(s_t)", "td-error")
    assert status == "ok" and result["verdict"] == "correct"
