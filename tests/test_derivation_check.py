"""LaTeX derivations checked line by line: blocks, reasons, verdicts, claims, hostile input,
and the `gae-sym prove FILE` contract (JSON fields, exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gae_sym.cli import main
from gae_sym.derivation_check import FileError, check_isolated, check_text
from gae_sym.derivation_check.blocks import MAX_FILE_CHARS, find_blocks

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "derivations"
LINE_FIELDS = {"source_line", "latex", "status", "rule", "reason", "why", "counterexample"}
BLOCK_FIELDS = {"start_line", "claim", "assumptions", "status", "first_wrong_line", "lines"}

TELESCOPING = r"""
% gae-sym: assume n-ge-1, segment
\begin{align*}
\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^l \delta_{t+l} \label{eq:a} \\
  &= \sum_{l=0}^{n-1} \gamma^l \left(r_{t+l} + \gamma V(s_{t+l+1}) - V(s_{t+l})\right) \nonumber \\
  &= \sum_{l=0}^{n-1} \gamma^l r_{t+l} + \sum_{l=1}^{n} \gamma^l V(s_{t+l})
     - \sum_{l=0}^{n-1} \gamma^l V(s_{t+l}) \\
  &= -V(s_t) + \sum_{l=0}^{n-1} \gamma^l r_{t+l} + \gamma^n V(s_{t+n})
\end{align*}
"""


def _lines(report, block=0):
    return report["blocks"][block]["lines"]


def test_lines_reasons_and_directives_are_split_as_written():
    text = r"""
% gae-sym: assume n-ge-1,segment
% gae-sym: claim nstep-telescoping
\begin{align}
a &= b + c && \text{first reason} \\
  = & d \quad \text{(second reason)} \\
  &= e \tag{3} \\
  &= f % a comment is a reason
     + g \\
  &\qquad - h
\end{align}
"""
    (block,) = find_blocks(text, markdown=False)
    assert block.assumptions == ["n-ge-1", "segment"]
    assert block.claim == "nstep-telescoping"
    assert [line.source_line for line in block.lines] == [5, 6, 7, 8]
    assert [line.rhs for line in block.lines] == ["b + c", "d", "e", "f + g - h"]
    assert block.lines[0].lhs == "a"
    assert [line.reason for line in block.lines] == [
        "first reason",
        "second reason",
        "3",
        "a comment is a reason",
    ]


def test_markdown_displays_and_math_fences_with_html_directives():
    text = (
        "Some prose with $x = 1$ inline.\n\n"
        "<!-- gae-sym: assume segment -->\n"
        "$$\n\\delta_t = r_t + \\gamma V(s_{t+1}) - V(s_t)\n$$\n\n"
        "$$ a = b $$\n\n"
        "```math\nx &= y \\\\\n &= z\n```\n"
    )
    blocks = find_blocks(text, markdown=True)
    # The single equation without a directive is not a derivation block.
    assert [b.start_line for b in blocks] == [4, 10]
    assert blocks[0].assumptions == ["segment"]
    assert [line.rhs for line in blocks[1].lines] == ["y", "z"]


def test_a_correct_derivation_is_proved_and_every_line_names_its_rule():
    report = check_text(TELESCOPING)
    block = report["blocks"][0]
    assert block["status"] == "proved"
    assert block["first_wrong_line"] is None
    assert set(block) >= BLOCK_FIELDS
    for line in block["lines"]:
        assert set(line) >= LINE_FIELDS
        assert line["status"] == "justified"
        assert line["rule"] and line["why"]
    assert _lines(report)[1]["rule"] == "unfold"


def test_a_different_valid_order_of_steps_is_proved_too():
    text = r"""
% gae-sym: assume n-ge-1, segment
% gae-sym: claim nstep-telescoping
\begin{align*}
\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^l \delta_{t+l} \\
  &= \delta_t + \sum_{l=1}^{n-1} \gamma^l \delta_{t+l} \\
  &= r_t + \gamma V(s_{t+1}) - V(s_t) + \sum_{l=1}^{n-1} \gamma^l \delta_{t+l} \\
  &= -V(s_t) + \sum_{l=0}^{n-1} \gamma^l r_{t+l} + \gamma^n V(s_{t+n})
\end{align*}
"""
    block = check_text(text)["blocks"][0]
    assert block["status"] == "proved", block["lines"]
    assert block["claim_established"] is True
    assert "split off the first term l = 0" in block["lines"][1]["why"]


def test_a_wrong_line_is_false_with_a_counterexample_and_the_next_line_too():
    text = TELESCOPING.replace(r"\gamma^n V(s_{t+n})", r"\gamma^{n-1} V(s_{t+n})")
    block = check_text(text)["blocks"][0]
    assert block["status"] == "false"
    assert block["first_wrong_line"] == 8
    wrong = block["lines"][3]
    assert wrong["status"] == "false"
    example = wrong["counterexample"]
    assert set(example["values"]) >= {"n", "gamma", "t"}
    # The entries near t that the sums read are shown, not only the fixed-index ones.
    assert len(example["sequences"]["r"]) >= 3
    assert abs(example["previous"] - example["this_line"]) > 1e-6
    assert "gamma = " in wrong["why"] and "this line is" in wrong["why"]


def test_false_is_under_the_declared_assumptions_only():
    # Without "segment", V(s'_t) need not be V(s_{t+1}): the definition step is false.
    text = TELESCOPING.replace("% gae-sym: assume n-ge-1, segment", "% gae-sym: assume n-ge-1")
    block = check_text(text)["blocks"][0]
    assert block["lines"][1]["status"] == "false"
    assert block["first_wrong_line"] == 5


def test_a_true_line_no_rule_pair_reaches_is_unjustified_not_proved():
    # Three rules at once: telescoping, the weights' geometric series and gae-infinite
    # (the claim keeps the search from citing the lambda-return theorem itself).
    text = r"""
% gae-sym: claim lambda-return
% gae-sym: assume lambda-lt-1, bounded-delta, bounded-r-V, n-ge-1, segment
\begin{align*}
(1-\lambda) \sum_{n=1}^{\infty} \lambda^{n-1} G^{(n)}_t &= G^{\lambda}_t \\
  &= V(s_t) + \sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l}
\end{align*}
"""
    block = check_text(text, budget=0.5)["blocks"][0]
    first = block["lines"][0]
    assert first["status"] == "unjustified"
    assert "not a proof" in first["why"]
    assert first["counterexample"] is None
    assert block["status"] == "unjustified"
    assert block["first_wrong_line"] == 5
    assert block["lines"][1]["status"] == "justified"
    # Without the claim, the proved lambda-return theorem is one rule that justifies it.
    cited = check_text(text.replace("% gae-sym: claim lambda-return\n", ""), budget=0.5)
    assert cited["blocks"][0]["lines"][0]["rule"] == "apply-theorem"


def test_a_claim_must_be_the_theorem_named():
    text = TELESCOPING.replace(
        "% gae-sym: assume", "% gae-sym: claim gae-infinite\n% gae-sym: assume"
    )
    block = check_text(text)["blocks"][0]
    assert all(line["status"] == "justified" for line in block["lines"])
    assert block["claim_established"] is False
    assert block["status"] == "unjustified"
    assert "not its two sides" in block["claim_why"]


def test_a_claim_under_more_assumptions_than_the_theorem_is_not_established():
    text = TELESCOPING.replace(
        "% gae-sym: assume n-ge-1, segment",
        "% gae-sym: claim nstep-telescoping\n% gae-sym: assume n-ge-1, segment, gamma-lt-1",
    )
    block = check_text(text)["blocks"][0]
    assert block["claim_established"] is False
    assert "also assumes gamma-lt-1" in block["claim_why"]


def test_the_claimed_theorem_is_never_cited_in_its_own_block():
    text = r"""
% gae-sym: assume n-ge-1, segment
% gae-sym: claim nstep-telescoping
\begin{align*}
\hat{A}^{(n)}_t &= -V(s_t) + \sum_{l=0}^{n-1} \gamma^l r_{t+l} + \gamma^n V(s_{t+n})
\end{align*}
"""
    line = check_text(text)["blocks"][0]["lines"][0]
    assert "n-step telescoping" not in (line["why"] or "")


def test_a_parameter_is_set_only_to_a_value_the_claimed_theorem_sets():
    text = r"""
% gae-sym: assume horizon-ge-1, segment
\begin{align*}
\hat{A}^{\mathrm{GAE},N}_t &= \sum_{l=0}^{N-1} (\gamma\lambda)^{l} \delta_{t+l} \\
  &= \delta_t + \gamma\lambda \sum_{l=0}^{N-2} (\gamma\lambda)^{l} \delta_{t+l+1} \\
  &= \delta_t
\end{align*}
"""
    block = check_text(text)["blocks"][0]
    assert block["lines"][2]["status"] == "false"
    claimed = text.replace("% gae-sym: assume", "% gae-sym: claim gae-lambda0\n% gae-sym: assume")
    claimed = claimed.replace(
        r"&= \delta_t" + "\n", r"&= \delta_t \\ &= r_t + \gamma V(s_{t+1}) - V(s_t)" + "\n"
    )
    block = check_text(claimed)["blocks"][0]
    assert block["lines"][2]["why"] == "set lambda = 0"
    assert block["status"] == "proved" and block["claim_established"] is True


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (r"&= \alpha_t", "unrecognised notation"),
        (r"&= \input{/etc/passwd}", "unrecognised notation"),
        (r"&= __import__('os').system('true')", ""),
        (r"&= x_t + 1", "unknown symbol"),
        (r"&= \hat{B}^{(n)}_t", ""),
        ("&= " + "(" * 40 + "r_t" + ")" * 40, "nest"),
        (r"&= 10^{10^{10}}", "too"),
    ],
)
def test_hostile_or_unknown_notation_is_unreadable_with_reason_and_column(line, reason):
    text = "\\begin{align*}\nr_t &= r_t \\\\\n  " + line + "\n\\end{align*}\n"
    block = check_text(text)["blocks"][0]
    bad = block["lines"][1]
    assert bad["status"] == "unreadable"
    assert bad["source_line"] == 3 and bad["column"] == 3
    assert reason in bad["why"]
    if "\\alpha" in line:
        assert (bad["error_line"], bad["error_column"]) == (3, 6)
    assert block["status"] == "unreadable"
    assert block["first_wrong_line"] == 3


def test_unknown_ids_and_broken_chains_are_unreadable():
    unknown = check_text("% gae-sym: assume no-such-id\n\\begin{align*}a &= b\n\\end{align*}")
    assert unknown["blocks"][0]["status"] == "unreadable"
    assert "no-such-id" in unknown["blocks"][0]["why"]
    chain = check_text("\\begin{align*}\nr_t &= r_t \\\\\nr_t &= r_t\n\\end{align*}")
    assert chain["blocks"][0]["lines"][1]["status"] == "unreadable"
    assert "no new left side" in chain["blocks"][0]["lines"][1]["why"]


def test_size_limits_refuse_before_anything_is_parsed():
    with pytest.raises(FileError, match="characters"):
        check_text("x" * (MAX_FILE_CHARS + 1))
    rows = " \\\\\n".join(["&= r_t"] * 50)
    report = check_text("\\begin{align*}\nr_t " + rows + "\n\\end{align*}")
    assert report["blocks"][0]["status"] == "unreadable"
    assert "at most" in report["blocks"][0]["why"]


def test_the_worker_is_killed_past_its_time_limit(tmp_path):
    path = tmp_path / "slow.tex"
    path.write_text(TELESCOPING)
    # 1 ms: less than a forked worker takes to start and answer, however fast the machine
    # (0.05 s was enough for a warm worker to check the file on a fast day in CI).
    status, message = check_isolated(path, timeout=0.001)
    assert status == "error" and "too complex to check" in message


def test_prove_file_json_contract_and_exit_codes(capsys, tmp_path):
    good = tmp_path / "good.tex"
    good.write_text(TELESCOPING)
    assert main(["prove", str(good), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (entry,) = doc["files"]
    assert entry["file"] == str(good)
    assert set(entry["blocks"][0]) >= BLOCK_FIELDS
    homework = EXAMPLES / "homework" / "student_nstep.tex"
    assert main(["prove", str(homework), "--json"]) == 1
    block = json.loads(capsys.readouterr().out)["files"][0]["blocks"][0]
    assert block["status"] == "false" and block["first_wrong_line"] == 18
    assert main(["prove", str(tmp_path / "missing.tex"), "--json"]) == 2
    missing = json.loads(capsys.readouterr().out)["files"][0]
    assert missing["status"] == "unreadable" and "no such file" in missing["error"]
    assert main(["prove", str(good), "--only", "gae-recursion"]) == 2
    capsys.readouterr()


def test_prove_file_text_report_names_the_first_wrong_line(capsys):
    homework = EXAMPLES / "homework" / "student_nstep.tex"
    assert main(["prove", str(homework)]) == 1
    out = capsys.readouterr().out
    assert "line   18  FALSE" in out and "first wrong line: 18" in out


STUDENT_CORRECT = r"""
\begin{align*}
\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l} \\
  &= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \sum_{l=1}^{n} \gamma^{l} V(s_{t+l})
     - \sum_{l=0}^{n-1} \gamma^{l} V(s_{t+l}) && \text{definition of } \delta \\
  &= \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_t)
\end{align*}
"""


def test_check_derivation_correct_incorrect_and_unreadable(capsys, tmp_path):
    good = tmp_path / "good.tex"
    good.write_text(STUDENT_CORRECT)
    assert main(["check", "--question", "nstep", "--derivation", str(good), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "correct" and doc["first_wrong_line"] is None
    wrong = EXAMPLES / "homework" / "student_nstep.tex"
    assert main(["check", "--question", "nstep", "--derivation", str(wrong), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "incorrect" and doc["first_wrong_line"] == 18
    assert doc["counterexample"] is not None
    assert doc["mistake"]["id"] == "bootstrap-gamma-n-minus-1"
    # Every line justified, but the derivation answers another question.
    assert main(["check", "--question", "td-error", "--derivation", str(good), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert "the last line is not the answer" in doc["feedback"]
    bad = tmp_path / "bad.tex"
    bad.write_text("\\begin{align*}\nr_t &= r_t \\\\\n &= \\alpha\n\\end{align*}\n")
    assert main(["check", "--question", "nstep", "--derivation", str(bad), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["verdict"] == "unreadable"
    assert main(["check", "--question", "no-such", "--derivation", str(good)]) == 2
    assert main(["check", "--derivation", str(good)]) == 2
    capsys.readouterr()


def test_the_derivation_vocabulary_never_reaches_homework_answers():
    from gae_sym.homework.build import AnswerError
    from gae_sym.homework.reader import read_answer

    for answer in (
        r"\prod_{j=0}^{2} r_{t+j}",
        r"\delta_t + \gamma\lambda A_{t+1}",
        r"d_t",
        r"\lim_{N \to \infty} \gamma^{N} r_t",
    ):
        with pytest.raises(AnswerError):
            read_answer(answer)


def test_notes_extra_section_shows_every_line_with_its_justification_and_failures():
    from gae_sym.cli.notes import _extra_sections
    from gae_sym.notes.document import to_latex_section, to_markdown

    homework = EXAMPLES / "homework" / "student_nstep.tex"
    (section,), failing = _extra_sections([str(homework)])
    assert section.id == "extra-student-nstep"
    markdown = to_markdown(section)
    assert "| 14 | justified | definition of δ (inside a segment) |" in markdown
    assert "| 18 | **false** |" in markdown
    assert "\\gamma^{n-1} V(s_{t+n})" in markdown
    assert "seconds" not in markdown  # the same file gives the same notes
    assert "Your derivations" in to_latex_section(section)
    assert len(failing) == 1 and failing[0].startswith(f"{homework}:18: false")


def test_grade_accepts_derivation_answers_and_a_key_can_require_one(capsys, tmp_path):
    key = tmp_path / "key.toml"
    key.write_text(
        '[[question]]\nname = "q1"\nquestion = "nstep"\nderivation = true\npoints = 3\n'
        '[[question]]\nname = "q2"\nquestion = "nstep"\npoints = 1\n'
    )
    answers = tmp_path / "ada.toml"
    answers.write_text(
        f"student = \"Ada\"\nq1 = '''{STUDENT_CORRECT}'''\n"
        "q2 = '''\\sum_{l=0}^{n-1} \\gamma^{l} \\delta_{t+l}'''\n"
    )
    assert main(["grade", str(key), str(answers), "--json"]) == 0
    capsys.readouterr()
    # A one-line answer where the key requires a derivation scores 0, with the reason.
    answers.write_text("q1 = '''\\sum_{l=0}^{n-1} \\gamma^{l} \\delta_{t+l}'''\nq2 = 'r_t'\n")
    assert main(["grade", str(key), str(answers)]) == 1
    out = capsys.readouterr().out
    assert "asks for a derivation" in out
    bad_key = tmp_path / "bad.toml"
    bad_key.write_text('[[question]]\nname = "q1"\nexpected = "r_t"\nderivation = true\n')
    assert main(["grade", str(bad_key), str(answers)]) == 2
    capsys.readouterr()


def test_two_rules_in_one_line_are_found_and_named_in_order():
    text = r"""
% gae-sym: assume n-ge-1, segment
\begin{align*}
\hat{A}^{(n)}_t &= \sum_{l=0}^{n-1} \gamma^l \delta_{t+l} \\
  &= r_t + \gamma V(s_{t+1}) - V(s_t) + \sum_{l=1}^{n-1} \gamma^l \delta_{t+l}
     && \text{split off } l = 0 \text{ and write out } \delta_t
\end{align*}
"""
    line = check_text(text)["blocks"][0]["lines"][1]
    assert line["status"] == "justified" and line["search"] == "two"
    assert line["rule"] == "split-first + unfold"
    assert line["why"].startswith("split off the first term l = 0")


def test_the_markdown_example_is_proved_and_code_spans_are_not_math(capsys):
    example = EXAMPLES / "td_error_lambda0.md"
    assert main(["prove", str(example), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["files"]
    assert [b["start_line"] for b in entry["blocks"]] == [10]
    assert entry["blocks"][0]["claim_established"] is True


def test_a_line_the_instances_cannot_refute_is_never_justified_without_a_proof():
    # Wrong only for n >= 6: no rule may prove it; the instances refute it only if they
    # try some n >= 6 (otherwise it is unjustified: true where tried, not a proof).
    text = r"""
% gae-sym: assume n-ge-1, segment
\begin{align*}
\sum_{l=0}^{n-1} \gamma^l \delta_{t+l}
  &= \sum_{l=0}^{n-1} \gamma^l \delta_{t+l} + (n-1)(n-2)(n-3)(n-4)(n-5) r_t
\end{align*}
"""
    line = check_text(text, budget=0.5)["blocks"][0]["lines"][0]
    assert line["rule"] is None
    if line["status"] == "false":  # the instances reached n >= 6
        assert line["counterexample"]["values"]["n"] >= 6
    else:
        assert line["status"] == "unjustified"
        assert "not a proof" in line["why"]


def test_a_cited_theorem_needs_its_assumptions_in_force():
    # gae-infinite needs lambda < 1; with only bounded TD errors the series on the left
    # is not shown to converge, so neither the theorem nor algebra may justify the line.
    text = r"""
% gae-sym: assume bounded-delta
\begin{align*}
(1-\lambda) \sum_{n=1}^{\infty} \lambda^{n-1} \hat{A}^{(n)}_t
  &= \sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l}
\end{align*}
"""
    line = check_text(text, budget=0.5)["blocks"][0]["lines"][0]
    assert line["status"] != "justified"
    assert line["rule"] is None


def test_long_lines_within_the_limit_are_read_and_longer_ones_refused():
    # 16 terms written out (the kernel writes out sums of at most 16 terms), broken over
    # source lines: one derivation line.
    terms = " \n     + ".join(f"\\gamma^{{{i}}} \\delta_{{t+{i}}}" for i in range(16))
    text = (
        "% gae-sym: assume segment\n\\begin{align*}\n"
        f"\\sum_{{l=0}}^{{15}} \\gamma^{{l}} \\delta_{{t+l}} &= {terms}\n\\end{{align*}}\n"
    )
    line = check_text(text)["blocks"][0]["lines"][0]
    assert line["status"] == "justified", line["why"]
    huge = " + ".join(["r_t"] * 1200)
    text = f"\\begin{{align*}}\nr_t &= r_t \\\\\n &= {huge}\n\\end{{align*}}\n"
    line = check_text(text)["blocks"][0]["lines"][1]
    assert line["status"] == "unreadable" and "characters" in line["why"]


def test_a_long_run_of_spacing_is_read_in_linear_time():
    """A reason is a spacing run then \\text{…}; a 16 KB run of ``~`` without one took 11 s
    with a single regex (retried at every position of the run). A hard 5 s alarm guards
    the fix; the linear scan takes milliseconds."""
    import signal

    from gae_sym.derivation_check.blocks import _reason_split

    def too_slow(signum, frame):
        raise AssertionError("reading a long spacing run took more than 5 s (quadratic?)")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(5)
    try:
        for run in ("~" * 16_000, r"\quad" * 3_000, r"\, " * 5_000):
            math, reason = _reason_split("x &= y" + run + "z")
            assert reason is None and math.endswith("z")
        math, reason = _reason_split("x &= y" + "~" * 16_000 + r"\text{by definition}")
        assert reason == "by definition" and math == "x &= y"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_prove_on_a_file_without_a_derivation_block_is_not_a_pass(tmp_path, capsys):
    """One equation in an align* is not a derivation: prove says why and exits 2, never 0
    with nothing checked (a new user's report)."""
    from gae_sym.cli import main

    path = tmp_path / "one.tex"
    path.write_text(
        "\\begin{align*}\n\\delta_t &= r_t + \\gamma V(s_{t+1}) - V(s_t)\n\\end{align*}\n"
    )
    assert main(["prove", str(path)]) == 2
    out = capsys.readouterr().out
    assert "no derivation block" in out and "at least two lines" in out


def test_a_counterexample_shows_every_sequence_entry_the_lines_read():
    """With n = 8 the lines read r_{t+8}: the table of values must hold it, or a student
    cannot recompute the two numbers (a new user's report: r_10 was missing at t = 2)."""
    from sympy import Sum

    from gae_sym.derivation_check.engine import _counterexample
    from gae_sym.proof import context_for
    from gae_sym.proof.refute import counterexample
    from gae_sym.symbols import l, n, r, t

    before, after = Sum(r[t + l], (l, 0, n)), Sum(r[t + l], (l, 0, n - 1))
    example = _counterexample(before, after, context_for(["n-ge-1"]), counterexample)
    assert example is not None
    start, steps = int(example["values"]["t"]), int(example["values"]["n"])
    assert steps > 6  # the case the old window of 6 cut short
    shown = example["sequences"]["r"]
    assert all(start + k in shown for k in range(steps + 1)), (example["values"], shown)
