"""Red team of verify-impl and gae_sym.testing: implementations written to get a PASS they do
not deserve (right on the cases the checker used to draw, wrong elsewhere; mutating their
inputs; exiting; printing), a right one it must not fail, and the three known gaps (closest
mistakes named, the L,B layout shown as the user's, flags a convention ignores refused).
Each test asserts the reason given, not only the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gae_sym.cli import main

TESTS = Path(__file__).parent


@pytest.fixture(autouse=True)
def _in_tests_folder(monkeypatch):
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(TESTS.parent / ".hypothesis"))
    monkeypatch.chdir(TESTS)


def _run(capsys, *argv):
    status = main(["verify-impl", *argv])
    out, err = capsys.readouterr()
    return status, out, err


# --- (c) flags the chosen convention does not read are refused (exit 2) ------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["impls/llm.py:verl_grpo", "--convention", "group", "--mask-mode", "skip"],
            "--convention group does not use it",
        ),
        (
            ["impls/llm.py:verl_gae", "--convention", "token", "--mask-mode", "reset"],
            "--convention token --estimator gae does not use it",
        ),
        (
            ["impls.lecture:compute_gae", "--mask-mode", "skip"],
            "--convention lecture does not use it",
        ),
        (
            ["impls.lecture:compute_gae", "--estimator", "grpo"],
            "the lecture convention tests GAE",
        ),
    ],
)
def test_a_flag_the_convention_does_not_use_is_exit_2(capsys, argv, message):
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    assert message in err and "Traceback" not in err
    if "--mask-mode" in argv:
        assert "--convention token --estimator reinforce-pp only" in err


def test_mask_mode_is_still_taken_where_it_is_read(capsys):
    status, out, _ = _run(
        capsys,
        "impls/llm.py:reinforce_pp_skip",
        "--convention",
        "token",
        "--estimator",
        "reinforce-pp",
        "--mask-mode",
        "skip",
        "--input-type",
        "torch",
        "--output",
        "advantages,returns",
        "--max-examples",
        "5",
        "--json",
    )
    document = json.loads(out)
    assert status == 0 and document["mask_mode"] == "skip"
