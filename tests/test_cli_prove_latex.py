"""`gae-sym prove` and `gae-sym latex`: output formats and exit codes of the contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import derivations
from gae_sym.cli import main
from gae_sym.proof import Derivation, Linearity, Proof, Statement, Step
from gae_sym.symbols import delta, t

IDS = [d.id for d in derivations.ALL]


def test_prove_json_lists_every_theorem_proved(capsys):
    assert main(["prove", "--json"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert [item["id"] for item in results] == IDS
    for item in results:
        assert item["status"] == "proved"
        assert isinstance(item["seconds"], float)
        assert isinstance(item["assumptions"], list) and item["assumptions"]
        assert item["failed_step"] is None and item["why"] is None


def test_prove_table(capsys):
    assert main(["prove"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["id", "status", "seconds", "assumptions"]
    for derivation_id in IDS:
        assert any(line.startswith(derivation_id) and "proved" in line for line in out.splitlines())
    assert f"{len(IDS)}/{len(IDS)} proved" in out


def test_prove_only(capsys):
    assert main(["prove", "--json", "--only", "gae-recursion"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [item["id"] for item in results] == ["gae-recursion"]


def test_prove_unknown_only_is_a_one_line_error(capsys):
    assert main(["prove", "--only", "gae-lambda2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    for derivation_id in IDS:
        assert derivation_id in captured.err


def test_prove_reports_a_failure(capsys, monkeypatch):
    # a derivation whose single step is wrong: the table and the JSON say which and why
    broken = Derivation(
        "broken",
        "broken",
        "a wrong step",
        [],
        [
            Proof(
                "wrong", Statement(delta[t], delta[t]), [Step(2 * delta[t], "doubled", Linearity())]
            )
        ],
    )
    monkeypatch.setattr(derivations, "ALL", (*derivations.ALL[:1], broken))
    assert main(["prove", "--json"]) == 1
    results = json.loads(capsys.readouterr().out)
    assert results[0]["status"] == "proved"
    assert results[1]["status"] == "failed"
    assert results[1]["failed_step"] == 1
    assert "linearity" in results[1]["why"]
    assert main(["prove"]) == 1
    assert "broken: step 1 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nstep", r"\hat{A}^{(n)}_t = \sum_{l=0}^{n-1} \gamma^{l} \delta_{t+l}"),
        ("td-error", r"\delta_t = r_{t} + \gamma V(s_{t+1}) - V(s_{t})"),
        ("gae", r"\sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l}"),
        ("mc", r"\sum_{l=0}^{\infty} \gamma^{l} r_{t+l} - V(s_{t})"),
        (
            "lambda-return",
            r"G^{\lambda}_t = \sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l} + V(s_{t})",
        ),
    ],
)
def test_latex_estimators(capsys, name, expected):
    assert main(["latex", name]) == 0
    out = capsys.readouterr().out
    assert expected in out.splitlines()[0]


def test_latex_nstep_has_reward_value_form_on_second_line(capsys):
    assert main(["latex", "nstep"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1] == (
        r"\hat{A}^{(n)}_t = \sum_{l=0}^{n-1} \gamma^{l} r_{t+l} + \gamma^{n} V(s_{t+n}) - V(s_{t})"
    )
    assert main(["latex", "gae"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize(
    "derivation_id", [*(i for i in IDS if i != "lambda-return"), "derivation:lambda-return"]
)
def test_latex_derivation(capsys, derivation_id):
    assert main(["latex", derivation_id]) == 0
    out = capsys.readouterr().out
    assert r"\begin{align*}" in out and r"\end{align*}" in out and "&& \\text{" in out
    assert r"\section" not in out


def test_latex_unknown_name(capsys):
    assert main(["latex", "gae-lambda2"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "nstep" in captured.err and "gae-recursion" in captured.err


def test_console_script_exit_codes():
    command = [sys.executable, "-m", "gae_sym", "prove", "--only", "nstep-telescoping"]
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    command[-1] = "nope"
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_help_has_examples(capsys):
    for command in ("prove", "latex"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "example" in capsys.readouterr().out
