"""`gae-sym notes`: rendering, staleness check, lecture claims, LaTeX that compiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gae_sym.cli import main
from gae_sym.cli import notes as notes_cli
from gae_sym.notes.build import PdfError, build_pdf, stale_files, tex_engine, write_notes
from gae_sym.notes.claims import lecture_claims
from gae_sym.notes.data import NotesData, load_data
from gae_sym.notes.document import (
    github_inline_math,
    heading_tex,
    reasons_as_tags,
    repair_latex,
    tex_text,
)
from gae_sym.notes.figures import lambda_weights
from gae_sym.notes.render import render_notes

# --- test doubles of the derivation API (derivations.ALL) -------------------------------


@dataclass
class FakeAssumption:
    name: str
    text: str
    latex: str


@dataclass
class FakeResult:
    id: str
    status: str
    seconds: float = 0.01
    failed_step: int | None = None
    why: str | None = None
    assumptions: list[str] = field(default_factory=list)


@dataclass
class FakeDerivation:
    """Follows the contract: to_latex gives align* with reasons, no \\section."""

    id: str
    title: str
    summary: str
    status: str = "proved"

    @property
    def assumptions(self):
        return [FakeAssumption("segment", "no episode end inside, so s'_t = s_{t+1}", "d_t = 0")]

    def verify(self):
        failed = None if self.status == "proved" else 2
        why = None if failed is None else "the sides differ at gamma=1/2"
        return FakeResult(self.id, self.status, 0.123, failed, why, ["segment"])

    def to_latex(self):
        return (
            "Assumption: the next state of step t is s_{t+1} (λ^{n−1} weights).\n"
            "\\begin{align*}\n"
            "\\hat{A}^{(2)}_t &= \\delta_t + \\gamma \\delta_{t+1} && \\text{definition} \\\\\n"
            "&= r_t + \\gamma r_{t+1} + \\gamma^2 V(s_{t+2}) - V(s_t) "
            "&& \\text{telescoping of V_{t+1}}\n"
            "\\end{align*}\n"
        )

    def to_markdown(self):
        return "$$\n\\hat{A}^{(2)}_t = \\delta_t + \\gamma \\delta_{t+1}\n$$\n\n1. definition\n"


IDS = (
    "nstep-telescoping",
    "gae-weighted-average",
    "gae-infinite",
    "gae-lambda0",
    "gae-lambda1",
    "gae-recursion",
    "lambda-return",
)


def fake_derivations(status: str = "proved"):
    return tuple(
        FakeDerivation(i, f"Theorem {i}", f"Summary of {i} with $\\gamma$.", status) for i in IDS
    )


@pytest.fixture(scope="module")
def study_document():
    from numeric.study import run_study

    return run_study(samples_per_pair=200, lambdas=(0.0, 0.5, 0.95, 1.0), nsteps=(2,)).to_dict()


def fake_runs() -> list[dict]:
    rng = np.random.default_rng(0)
    runs = []
    for variant in ("lecture", "batched"):
        for seed in range(2):
            returns = [int(x) for x in np.minimum(500, np.arange(20, 520, 5))] + [500] * 100
            runs.append(_run(variant, seed, 3e-3, "default", returns, solved=True))
    for lr in (1e-3, 1e-2):
        for seed in range(2):
            collapsed = lr == 1e-2 and seed == 0
            tail = [int(x) for x in rng.integers(8, 11, 120)] if collapsed else [500] * 100
            runs.append(_run("lecture", seed, lr, "lr-sweep", [27, 40, *tail], not collapsed))
    return runs


def _run(variant, seed, lr, label, returns, solved):
    return {
        "variant": variant,
        "seed": seed,
        "lr": lr,
        "label": label,
        "episodes": len(returns),
        "env_steps": int(sum(returns)),
        "seconds": 1.0,
        "solved": solved,
        "solved_at_episode": len(returns) - 100 if solved else None,
        "solved_at_step": int(sum(returns[:-100])) if solved else None,
        "mean_return_last_100": float(np.mean(returns[-100:])),
        "episode_returns": returns,
        "max_abs_diff": 3e-5,
        "agree": True,
    }


def no_data() -> NotesData:
    return NotesData(None, None, "docs/data/study/study.json", "docs/data/cartpole/runs.json")


def full_data(study) -> NotesData:
    return NotesData(
        study, fake_runs(), "docs/data/study/study.json", "docs/data/cartpole/runs.json"
    )


# --- tests ------------------------------------------------------------------------------------


@settings(max_examples=50)
@given(lam=st.floats(0.0, 1.0), max_n=st.integers(1, 300))
def test_lambda_weights_sum_to_one(lam, max_n):
    w = lambda_weights(lam, max_n)
    assert w.shape == (max_n,)
    assert np.all(w >= 0.0)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_notes_without_data_say_what_is_missing_and_keep_teaching_order():
    notes = render_notes(fake_derivations(), no_data())
    files = notes.files
    assert "CartPole evidence is missing" in files["cartpole.md"]
    assert "study is missing" in files["bias-variance.md"]
    assert "CartPole evidence is missing" in files["lecture-claims.md"]
    tex = files["notes.tex"]
    labels = ["td-error", *IDS, "bias-variance", "cartpole", "lecture-claims"]
    positions = [tex.index(f"\\label{{{label}}}") for label in labels]
    assert positions == sorted(positions)
    for theorem in IDS:
        assert f'<a id="{theorem}"></a>' in files[f"{theorem}.md"]
        assert f"({theorem}.md#{theorem})" in files["index.md"]
        assert "Machine-checked" in files[f"{theorem}.md"]


def test_rendering_is_deterministic(study_document):
    first = render_notes(fake_derivations(), full_data(study_document)).files
    second = render_notes(fake_derivations(), full_data(study_document)).files
    assert first == second
    assert "0.123" not in "".join(first.values())  # no timings in the text


def test_a_failed_proof_is_reported_not_hidden():
    files = render_notes(fake_derivations(status="failed"), no_data()).files
    assert "NOT PROVED" in files["gae-recursion.md"]
    assert "step 2" in files["gae-recursion.md"]


def test_a_crashing_check_is_reported_as_not_proved():
    class Crashing(FakeDerivation):
        def verify(self):
            raise RuntimeError("boom")

    files = render_notes((Crashing("gae-lambda0", "T", "S."),), no_data()).files
    assert (
        "NOT PROVED: checking `gae-lambda0` raised RuntimeError: boom." in files["gae-lambda0.md"]
    )


def test_claims_use_the_evidence(study_document):
    claims = {c.id: c for c in lecture_claims(full_data(study_document))}
    assert claims["claim-910"].verdict.startswith("Wrong: impossible")
    settled = claims["claim-settled"]
    text = json.dumps([getattr(b, "text", "") for b in settled.evidence])
    assert "1 recorded run ended with a 100-episode mean return between" in text
    table = claims["claim-table"]
    assert table.verdict.startswith("Partly wrong")  # 1-step TD has less variance than GAE(0.95)


def test_claims_without_runs_or_study_do_not_guess():
    claims = {c.id: c for c in lecture_claims(no_data())}
    assert claims["claim-table"].verdict == "Not checked"
    assert "missing" in claims["claim-settled"].evidence[-1].text


def test_check_names_stale_and_missing_files(tmp_path):
    notes = render_notes(fake_derivations(), no_data())
    write_notes(notes, tmp_path, draw_figures=False)
    assert stale_files(notes, tmp_path) == []
    (tmp_path / "gae-lambda0.md").write_text("edited by hand\n")
    (tmp_path / "notes.tex").unlink()
    (tmp_path / "old-theorem.md").write_text("renamed since\n")
    assert stale_files(notes, tmp_path) == [
        "gae-lambda0.md",
        "notes.tex (missing)",
        "old-theorem.md (no longer generated: delete it)",
    ]


def test_cli_check_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(notes_cli, "_load_derivations", fake_derivations)
    data = tmp_path / "data"
    data.mkdir()  # a folder with no data files yet (a missing folder is an error)
    out = tmp_path / "notes"
    assert main(["notes", "--out", str(out), "--data", str(data)]) == 0
    assert (out / "figures" / "lambda-weights.png").stat().st_size > 0
    assert main(["notes", "--check", "--out", str(out), "--data", str(data)]) == 0
    # New evidence makes the committed text stale.
    (data / "cartpole").mkdir(parents=True)
    (data / "cartpole" / "runs.json").write_text(json.dumps(fake_runs()))
    capsys.readouterr()
    assert main(["notes", "--check", "--out", str(out), "--data", str(data)]) == 1
    assert "cartpole.md" in capsys.readouterr().out


def test_cli_pdf_without_tex_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(notes_cli, "_load_derivations", fake_derivations)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    (tmp_path / "none").mkdir()
    code = main(["notes", "--pdf", "--out", str(tmp_path), "--data", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 1
    assert "apt-get install texlive-latex-base" in err
    assert len(err.strip().splitlines()) == 1


def test_text_escaping_and_repair():
    assert tex_text("50% of r_t & $x_1$ `a_b`") == (
        r"50\% of r\_t \& $x_1$ \texttt{a\_\allowbreak{}b}"
    )
    assert tex_text("V̂ and λ, Â") == r"$\hat{V}$ and $\lambda$, $\hat{A}$"
    assert tex_text("$E[Â]$ ~910") == r"$E[\hat{A}]$ $\sim$910"
    assert heading_tex("The $\\lambda$-return") == (
        r"\texorpdfstring{The $\lambda$-return}{The λ-return}"
    )
    assert repair_latex(r"state s_{t+1}, cost \$5") == r"state $s_{t+1}$, cost \$5"
    assert repair_latex(r"\[ x_1 \] and $y_2$") == r"\[ x_1 \] and $y_2$"
    assert repair_latex(r"\begin{align*} a && \text{by V_t} \end{align*}") == (
        r"\begin{align*} a && \text{by $V_t$} \end{align*}"
    )


@pytest.mark.skipif(tex_engine() is None, reason="no latexmk/pdflatex installed")
def test_tex_compiles(tmp_path, study_document):
    """The real derivations, every kind of evidence, and the fakes' math-less-$ text."""
    from derivations import ALL

    notes = render_notes((*ALL, *fake_derivations()[:1]), full_data(study_document))
    write_notes(notes, tmp_path)
    pdf = build_pdf(tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in {".aux", ".log"}) == []


def test_reasons_become_tags_and_long_ones_wrap():
    short = "a &= b && \\text{by $x_{t}$ {y}} \\\\\n&= c && \\text{linearity}"
    assert reasons_as_tags(short) == (
        "a &= b \\tag*{\\small by $x_{t}$ {y}} \\\\\n&= c \\tag*{\\small linearity}"
    )
    long_reason = "word " * 30
    assert "\\parbox" in reasons_as_tags(f"a &= b && \\text{{{long_reason}}}")


@pytest.mark.skipif(tex_engine() is None, reason="no latexmk/pdflatex installed")
def test_broken_tex_is_reported(tmp_path):
    (tmp_path / "notes.tex").write_text(
        "\\documentclass{article}\\begin{document}$x\\end{document}"
    )
    with pytest.raises(PdfError, match="LaTeX failed"):
        build_pdf(tmp_path)


def test_committed_data_loads():
    data = load_data()
    if data.study is not None:
        assert {"rows", "checks", "config"} <= data.study.keys()
    if data.runs is not None:
        assert isinstance(data.runs, list)
    assert Path(data.study_path).name == "study.json"


def test_notes_engine_imports_neither_numeric_nor_torch():
    code = (
        "import sys, gae_sym.notes.render, gae_sym.notes.build, gae_sym.notes.figures;"
        "print(','.join(m for m in ('numeric', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_latex_quotes_open_and_close():
    # TeX sets ' as a closing quote: an opening one must be written `.
    assert tex_text("the 'exact' critic's error") == "the `exact' critic's error"
    assert tex_text("('noise') and $V̂$'s") == r"(`noise') and $\hat{V}$'s"
    assert tex_text("'a $x$' b") == "`a $x$' b"
    assert tex_text("`it's`") == r"\texttt{it's}"


def test_markdown_inline_math_keeps_its_braces_on_github():
    """GitHub drops the backslash of \\{ in inline math (the braces vanish); display keeps it."""
    from derivations import ALL

    assert github_inline_math(r"$N \in \{1, 2\}$ and $\{x\}$") == (
        r"$N \in \lbrace1, 2\rbrace$ and $\lbrace x\rbrace$"
    )
    # A combining accent (V + U+0302) is set beside the letter by MathJax: use \hat.
    assert github_inline_math("$V̂ = V^π$, text V̂") == r"$\hat{V} = V^\pi$, text V̂"
    display = "$$\n\\{a\\}\n$$"
    assert github_inline_math(display) == display
    notes = render_notes(ALL, no_data())
    pages = [text for name, text in notes.files.items() if name.endswith(".md")]
    assert any(r"\lbrace" in page for page in pages)
    for page in pages:
        display = False
        for line in page.split("\n"):
            if line.strip() == "$$":
                display = not display
            elif not display:
                assert "\\{" not in line and "\\}" not in line, line
                assert "\u0302" not in "".join(re.findall(r"\$[^$]+\$", line)), line


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex installed")
def test_no_derivation_line_runs_into_the_margin(tmp_path, study_document):
    """Every align* line of the real derivations fits the text width (pdflatex's log)."""
    from derivations import ALL

    write_notes(render_notes(ALL, full_data(study_document)), tmp_path, draw_figures=False)
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-draftmode", "notes.tex"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    log = (tmp_path / "notes.log").read_text(errors="replace")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 5.0, overfull


def test_notes_data_folder_is_read_by_every_data_section(tmp_path):
    """--data DIR is where the sweep and LLM sections read too, not this tree's docs/data."""
    from gae_sym.notes.data import load_data
    from gae_sym.notes.render import build_sections

    data = load_data(tmp_path)  # empty: no study, no runs, no sweep, no LLM runs
    assert data.folder == tmp_path
    sections, _ = build_sections([], data, check=False)
    text = {s.id: " ".join(str(b) for b in s.blocks) for s in sections}
    assert "sweep is missing" in text["lambda-learning"]


EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "derivations"


def test_extra_adds_a_checked_derivation_as_its_own_page(tmp_path, capsys):
    assert (
        main(["notes", "--out", str(tmp_path), "--extra", str(EXAMPLES / "gae_infinite.tex")]) == 0
    )
    page = (tmp_path / "extra-gae-infinite.md").read_text()
    assert "# Your derivations: gae_infinite.tex" in page
    assert "Verdict: **proved**. Claim `gae-infinite`: established." in page
    assert "| 17 | justified | geometric series: the sum over n = l + 1" in page


def test_extra_refuses_a_file_with_no_derivation_and_one_with_a_wrong_line(tmp_path, capsys):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    assert main(["notes", "--out", str(tmp_path / "a"), "--extra", str(readme)]) == 2
    assert "--extra " + str(readme) + ": holds no derivation block" in capsys.readouterr().err
    wrong = tmp_path / "wrong.tex"
    wrong.write_text(
        "\\begin{align*}\n"
        "\\delta_t &= r_t + \\gamma V(s_{t+1}) - V(s_t) \\\\\n"
        "&= r_t + V(s_{t+1}) - V(s_t)\n"
        "\\end{align*}\n"
    )
    assert main(["notes", "--out", str(tmp_path / "b"), "--extra", str(wrong)]) == 1
    assert f"{wrong}:3: false: false under the declared assumptions" in capsys.readouterr().out
