"""`gae-sym gradescope`: the autograder zip, run against a fake /autograder tree."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gae_sym.gradescope.build import REQUIREMENTS
from gae_sym.gradescope.submission import parse_submission, strip_math

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = ROOT / "docs" / "examples" / "homework"
NAMES = ["q1-td-error", "q2-two-step", "q3-gae", "q4-lambda-zero", "q5-three-step-return"]

# Gradescope's documented results.json fields (Autograder specifications) and their types.
TOP_LEVEL = {
    "score": (int, float),
    "execution_time": (int, float),
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
TEST_FIELDS = {
    "score": (int, float),
    "max_score": (int, float),
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def validate_results(document: dict) -> None:
    """Fail unless ``document`` uses only Gradescope's fields, with their types and values."""
    assert isinstance(document, dict)
    assert set(document) <= set(TOP_LEVEL), set(document) - set(TOP_LEVEL)
    for name, kind in TOP_LEVEL.items():
        if name in document:
            assert isinstance(document[name], kind) and not isinstance(document[name], bool), name
    assert "tests" in document
    for name in ("visibility", "stdout_visibility"):
        if name in document:
            assert document[name] in VISIBILITIES
    # Without a top-level score every test needs one; with one it overrides their sum.
    assert "score" in document or all("score" in t for t in document["tests"])
    for test in document["tests"]:
        assert set(test) <= set(TEST_FIELDS), set(test) - set(TEST_FIELDS)
        for name, kind in TEST_FIELDS.items():
            if name in test:
                assert isinstance(test[name], kind) and not isinstance(test[name], bool), name
        assert {"name", "score", "max_score", "output"} <= set(test)
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in {"passed", "failed"}
        assert test.get("visibility", "visible") in VISIBILITIES
    if "score" in document and document["tests"]:
        assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


def gae_sym_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gae_sym", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = gae_sym_cli("gradescope", str(HOMEWORK / "key.toml"), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["max_score"] == 9 and len(summary["questions"]) == 5
    return out


def fake_autograder(tmp_path: Path, zip_path: Path, files: dict[str, str]) -> Path:
    """A Gradescope tree: the zip in ROOT/source, ``files`` in ROOT/submission."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for name, text in files.items():
        (root / "submission" / name).write_text(text, encoding="utf-8")
    return root


def bundle_env(root: Path) -> dict:
    """Run Python as on Gradescope: gae-sym only from the zip's copy, plus REQUIREMENTS.

    ``python -S`` skips site-packages' .pth files, so this checkout's editable gae-sym is
    invisible; site-packages itself is on PYTHONPATH for sympy, numpy and the ANTLR runtime.
    """
    import sysconfig

    shim = root / "python3"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    shim.chmod(0o755)
    paths = [str(root / "source" / "gae-sym"), sysconfig.get_paths()["purelib"]]
    return {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "PYTHON": str(shim),
        "PYTHONPATH": os.pathsep.join(paths),
    }


def run_autograder(root: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the zip's own run_autograder with the zip's own gae-sym copy."""
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        capture_output=True, text=True, env=bundle_env(root), timeout=120, cwd=root,
    )  # fmt: skip
    results = root / "results" / "results.json"
    assert results.exists(), done.stderr
    return done, json.loads(results.read_text(encoding="utf-8"))


def test_zip_contents(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "key.toml", "requirements.txt"} <= names
        assert "gae-sym/pyproject.toml" in names
        assert "gae-sym/gae_sym/homework/checker.py" in names
        assert not any("__pycache__" in n or n.startswith("gae-sym/gae_sym/web/") for n in names)
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, script
            text = archive.read(script).decode()
            assert text.startswith("#!/usr/bin/env bash\n# Generated by `gae-sym gradescope")
        assert archive.read("key.toml") == (HOMEWORK / "key.toml").read_bytes()


def test_the_bundled_copy_is_what_runs(tmp_path, autograder_zip):
    root = fake_autograder(tmp_path, autograder_zip, {})
    env = bundle_env(root)
    where = subprocess.run(
        [env["PYTHON"], "-c", "import gae_sym; print(gae_sym.__file__)"],
        capture_output=True, text=True, env=env, check=True, cwd=root,
    ).stdout  # fmt: skip
    assert where.startswith(str(root / "source" / "gae-sym" / "gae_sym"))


def test_example_homework_results(tmp_path, autograder_zip):
    answers = (HOMEWORK / "answers.toml").read_text(encoding="utf-8")
    root = fake_autograder(tmp_path, autograder_zip, {"answers.toml": answers})
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stderr
    validate_results(results)
    assert results["score"] == 7.0
    assert [t["score"] for t in results["tests"]] == [1.0, 0.0, 3.0, 1.0, 2.0]
    assert [t["max_score"] for t in results["tests"]] == [1.0, 2.0, 3.0, 1.0, 2.0]
    wrong = results["tests"][1]
    assert wrong["status"] == "failed" and wrong["name"] == "q2-two-step (nstep-2)"
    assert "verdict: incorrect" in wrong["output"]
    assert "counterexample: gamma = 1/2" in wrong["output"]
    assert "your answer = 3.277777778" in wrong["output"]
    assert "hint: the bootstrap term is discounted" in wrong["output"]
    assert "(mistake: bootstrap-gamma-n-minus-1)" in wrong["output"]
    assert "Read answers.toml: answers to 5 of 5 questions." in results["output"]
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "gradescope-results.json").write_text(json.dumps(results, indent=2))


TEX = r"""\documentclass{article}
\begin{document}
\begin{enumerate}
\item q1-td-error: $r_t + \gamma V(s_{t+1}) - V(s_t)$ % the definition
\item q2-two-step: \[ \delta_t + \gamma \delta_{t+1} \]
\item q3-gae:
  \[ \sum_{l=0}^{\infty} (\gamma\lambda)^l
     \delta_{t+l} \]

q4-lambda-zero: $\delta_t$ \\
\end{enumerate}
\end{document}
"""
MARKDOWN = """# Homework 3

- **q1-td-error**: `r[t] + gamma*V[t+1] - V[t]`
- **q2-two-step**: $$\\delta_t + \\gamma \\delta_{t+1}$$
- q5-three-step-return: $r_t + \\gamma r_{t+1} + \\gamma^2 r_{t+2} + \\gamma^3 V(s_{t+3})$
"""


def test_a_tex_submission(tmp_path, autograder_zip):
    root = fake_autograder(tmp_path, autograder_zip, {"hw.tex": TEX})
    _, results = run_autograder(root)
    validate_results(results)
    assert [t["score"] for t in results["tests"]] == [1.0, 2.0, 3.0, 1.0, 0.0]
    assert "verdict: missing" in results["tests"][4]["output"]


def test_a_markdown_submission_is_read():
    answers, warnings = parse_submission(MARKDOWN, ".md", NAMES)
    assert answers == {
        "q1-td-error": "r[t] + gamma*V[t+1] - V[t]",
        "q2-two-step": r"\delta_t + \gamma \delta_{t+1}",
        "q5-three-step-return": r"r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \gamma^3 V(s_{t+3})",
    }
    assert warnings == []


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"notes.pdf": "%PDF"}, "No answer file found"),
        ({"hw.toml": "q1-td-error = 'unterminated"}, "the TOML cannot be read"),
        ({"hw.txt": "nothing here names a question"}, "answers to 0 of 5"),
        ({"hw.txt": b"\xff\xfe q1-td-error: r_t"}, "is not UTF-8 text"),
    ],
)
def test_unusable_submissions_still_give_results(tmp_path, files, says):
    # In-process (the code run_autograder runs; no answer reaches a worker here).
    from gae_sym.gradescope.autograder import grade_submission

    (tmp_path / "submission").mkdir()
    for name, content in files.items():
        target = tmp_path / "submission" / name
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    results = grade_submission(tmp_path, HOMEWORK / "key.toml")
    validate_results(results)
    assert says in results["output"] and "Submit one .tex, .md, .txt or .toml" in results["output"]
    assert results["score"] == 0.0 and len(results["tests"]) == 5
    assert all(t["status"] == "failed" for t in results["tests"])


def test_run_autograder_writes_results_even_when_it_fails(tmp_path, autograder_zip):
    root = fake_autograder(tmp_path, autograder_zip, {"hw.txt": "q1-td-error: r_t"})
    (root / "source" / "key.toml").write_text("not a key")
    done, results = run_autograder(root)
    assert done.returncode == 1
    validate_results(results)
    assert "The autograder itself failed" in results["output"] and results["score"] == 0.0


def test_hostile_submission_is_checked_safely(tmp_path, autograder_zip):
    text = (
        "q1-td-error: 2^(2^(2^(2^99)))\n\n"
        "q2-two-step: " + "(" * 500 + "r[t]" + ")" * 500 + "\n\n"
        "q3-gae: __import__('os').system('touch PWNED')\n"
    )
    root = fake_autograder(tmp_path, autograder_zip, {"hw.txt": text})
    done, results = run_autograder(root)
    assert done.returncode == 0, done.stderr
    validate_results(results)
    assert [t["status"] for t in results["tests"][:3]] == ["failed"] * 3
    assert all("verdict: unreadable" in t["output"] for t in results["tests"][:3])
    assert not list(tmp_path.rglob("PWNED"))


def test_a_bad_key_is_refused_before_writing(tmp_path):
    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nname = "q1"\nquestion = "no-such-id"\n')
    out = tmp_path / "autograder.zip"
    done = gae_sym_cli("gradescope", str(key), "--out", str(out))
    assert done.returncode == 2 and "unknown question 'no-such-id'" in done.stderr
    assert not out.exists() and "Traceback" not in done.stderr
    done = gae_sym_cli("gradescope", str(HOMEWORK / "key.toml"), "--out", str(tmp_path))
    assert done.returncode == 2 and "is a folder" in done.stderr


def test_setup_script_installs_the_bundled_copy(tmp_path, autograder_zip):
    root = fake_autograder(tmp_path, autograder_zip, {})
    log = tmp_path / "calls.log"
    shim = tmp_path / "python3"
    shim.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    shim.chmod(0o755)
    done = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True, text=True, env={**os.environ, "PYTHON": str(shim)}, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    source = root / "source"
    assert f"-m pip install --disable-pip-version-check -r {source}/requirements.txt" in calls
    assert f"-m pip install --disable-pip-version-check --no-deps {source}/gae-sym" in calls
    requirements = (source / "requirements.txt").read_text().splitlines()
    assert [line for line in requirements if not line.startswith("#")] == list(REQUIREMENTS)


def test_requirements_cover_what_the_checker_imports():
    """Grading works with only the stdlib and REQUIREMENTS importable (others refused).

    SymPy and numpy try optional modules (scipy, charset_normalizer) and carry on without
    them; anything the checker truly needs beyond REQUIREMENTS makes a check fail here.
    """
    code = r"""
import importlib.abc, sys
ALLOWED = {"gae_sym", "sympy", "mpmath", "antlr4", "numpy", "tomli"}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top not in ALLOWED and top not in sys.stdlib_module_names and not top.startswith("_"):
            raise ModuleNotFoundError(f"refused: {name}")
        return None
sys.meta_path.insert(0, Refuse())
from gae_sym.homework.checker import check
from gae_sym.homework.grading import load_key
from gae_sym.gradescope.autograder import describe
load_key(sys.argv[1])
cases = [("td-error", "r_t + \\gamma V(s_{t+1}) - V(s_t)"),
         ("gae", "sum(l=0..inf, (gamma*lambda)^l*delta[t+l])"),
         ("nstep-2", "r[t] + gamma*r[t+1]"), ("td-error", "r_t +")]
print(" ".join(check(a, q)["verdict"] for q, a in cases))
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(HOMEWORK / "key.toml")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["correct", "correct", "incorrect", "unreadable"]
    assert {r.split("=")[0].split(";")[0].split(">")[0].strip() for r in REQUIREMENTS} == {
        "sympy", "antlr4-python3-runtime", "numpy", "tomli",
    }  # fmt: skip


def test_strip_math_and_parse():
    assert strip_math(r"$r_t$") == "r_t"
    assert strip_math(r"\[ \delta_t \] \\") == r"\delta_t"
    assert strip_math(r"\begin{equation*} r_t \end{equation*}") == "r_t"
    assert strip_math("`delta[t]`") == "delta[t]"
    answers, warnings = parse_submission(
        "q1-td-error: $a$\nq1-td-error: $b$\nq10: x\n", ".txt", ["q1-td-error", "q10"]
    )
    assert answers == {"q1-td-error": "a", "q10": "x"}
    assert warnings == ["'q1-td-error' is answered twice; the first answer is graded"]
    answers, warnings = parse_submission(
        "student = 'Ada'\nq1-td-error = 'r_t'\nextra = '1'\n", ".toml", ["q1-td-error"]
    )
    assert answers == {"q1-td-error": "r_t"} and "extra" in warnings[0]
    # A name inside an answer is not a new answer; a percent sign escaped in LaTeX stays.
    answers, _ = parse_submission(r"q1-td-error: $r_t$ \% q2-two-step: x", ".tex", NAMES)
    assert answers == {"q1-td-error": r"$r_t$ \% q2-two-step: x".replace("$r_t$", "$r_t$")}


def test_the_bundled_source_installs_with_pip(tmp_path, autograder_zip):
    """What setup.sh's second pip command does, offline, into a folder: a working gae-sym."""
    root = fake_autograder(tmp_path, autograder_zip, {})
    target = tmp_path / "installed"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target),
         str(root / "source" / "gae-sym")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    env = bundle_env(root)
    env["PYTHONPATH"] = env["PYTHONPATH"].replace(str(root / "source" / "gae-sym"), str(target))
    where = subprocess.run(
        [env["PYTHON"], "-c", "import gae_sym.gradescope.autograder as a; print(a.__file__)"],
        capture_output=True, text=True, env=env, cwd=root, timeout=60,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(target))
