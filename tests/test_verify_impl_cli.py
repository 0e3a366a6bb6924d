"""`gae-sym verify-impl`: exit codes 0/1/2, the JSON document, MODULE as a name or a path."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gae_sym.cli import main

TESTS = Path(__file__).parent


@pytest.fixture(autouse=True)
def _in_tests_folder(monkeypatch):
    # verify-impl points hypothesis's cache away from the user's folder unless told where.
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(TESTS.parent / ".hypothesis"))
    monkeypatch.chdir(TESTS)  # "the current directory is on the import path"


def _run(capsys, *argv):
    status = main(["verify-impl", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_correct_implementation_exits_0(capsys):
    status, out, _ = _run(capsys, "impls.lecture:compute_gae", "--max-examples", "30")
    assert status == 0
    assert out.startswith("PASS impls.lecture:compute_gae (lecture convention")


def test_lambda_returns_exit_1_with_diagnosis(capsys):
    status, out, _ = _run(
        capsys, "impls.lecture:returns_instead_of_advantages", "--max-examples", "30"
    )
    assert status == 1
    assert "diagnosis: lambda-returns-instead-of-advantages" in out
    assert "returns the λ-returns" in out
    assert "fix: return the advantages" in out


def test_json_document(capsys):
    status, out, _ = _run(
        capsys,
        "impls.masked:cleanrl_indexing",
        "--convention",
        "masked",
        "--max-examples",
        "40",
        "--seed",
        "3",
        "--json",
    )
    assert status == 1
    document = json.loads(out)
    assert document["passed"] is False
    assert document["examples"] >= document["edge_cases"]
    counterexample = document["counterexample"]
    inputs = counterexample["inputs"]
    assert set(inputs) == {"rewards", "values", "next_value", "masks", "gamma", "lam"}
    index = counterexample["first_differing_index"]
    assert counterexample["expected"][index] != counterexample["got"][index]
    assert document["diagnosis"]["name"] == "mask-read-one-step-late"
    assert document["seed"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["impls.missing:f"], "cannot import impls.missing: ModuleNotFoundError"),
        (["impls.lecture:missing"], "impls.lecture has no attribute 'missing'"),
        (["impls.lecture:EXPECTED"], "is a dict, not a function"),
        (["impls/missing.py:f"], "no such file"),
        (["impls.lecture"], "expected MODULE:FUNC"),
        (["impls.lecture:compute_gae", "--convention", "masked"], "masked convention"),
        (["impls.masked:loop", "--convention", "canonical"], "canonical convention"),
        (
            ["impls.lecture:compute_gae", "--args", "rewards=r,speed=v"],
            "'speed' is not an input of the lecture convention",
        ),
        (["impls.lecture:compute_gae", "--args", "rewards"], "entries are NAME=PARAM"),
        (["impls.lecture:compute_gae", "--args", "rewards=rew"], "it has no parameter 'rew'"),
    ],
)
def test_cannot_load_or_call_exits_2(capsys, argv, message):
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--call-timeout", "-1"], "argument --call-timeout: must be a number in [0,"),
        (["--call-timeout", "nan"], "argument --call-timeout: must be a number in [0,"),
        # issue 18: --seed -1 ended in a numpy traceback and exit 1
        (["--seed", "-1"], "argument --seed: must be an integer in [0,"),
        (["--layout", "T,M"], "argument --layout: invalid choice"),
        (["--dtype", "float16"], "argument --dtype: invalid choice"),
    ],
)
def test_bad_flags_exit_2_with_a_message_and_no_traceback(capsys, argv, message):
    status, out, err = _run(capsys, "impls.lecture:compute_gae", *argv)
    assert status == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_module_given_as_a_path(capsys):
    status, out, _ = _run(
        capsys, "impls/canonical.py:positional", "--convention", "canonical", "--max-examples", "20"
    )
    assert status == 0, out


def test_import_error_inside_module_is_one_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text("import numpy\nraise RuntimeError('bad\\nconfig')\n")
    monkeypatch.chdir(tmp_path)
    status, _, err = _run(capsys, "broken:f")
    assert status == 2
    assert err.strip() == (
        "gae-sym verify-impl: error: cannot import broken: RuntimeError: bad config"
    )


def test_console_script_json_stdout_is_only_json(tmp_path):
    # The module prints while importing and while running; stdout must stay one JSON document.
    (tmp_path / "noisy.py").write_text(
        "print('loading noisy')\n"
        "def gae(rewards, values, next_value, gamma, lam):\n"
        "    print('called')\n"
        "    out, acc = [], 0.0\n"
        "    for t in reversed(range(len(rewards))):\n"
        "        acc = rewards[t] + gamma * next_value - values[t] + gamma * lam * acc\n"
        "        next_value = values[t]\n"
        "        out.insert(0, acc)\n"
        "    return out\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "gae_sym", "verify-impl", "noisy:gae", "--json"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["passed"] is True and document["counterexample"] is None
    assert document["diagnosis"] is None
    assert document["examples"] == document["edge_cases"] + 200
    assert "loading noisy" in done.stderr
    assert not (tmp_path / ".hypothesis").exists()  # nothing left in the user's folder


def test_help_teaches_with_an_example():
    done = subprocess.run(
        [sys.executable, "-m", "gae_sym", "verify-impl", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    example = (
        "gae-sym verify-impl docs/examples/engineer/my_gae.py:compute_gae --convention lecture"
    )
    assert example in done.stdout
    assert "--input-type" in done.stdout and "--seed" in done.stdout
    assert "--call-timeout" in done.stdout
    # The example works when pasted at the repository root.
    root = Path(__file__).resolve().parents[1]
    pasted = subprocess.run(
        [sys.executable, "-m", "gae_sym", *example.split()[1:], "--max-examples", "20"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert pasted.stdout.startswith("PASS")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_results_stay_valid_json(capsys):
    status, out, _ = _run(capsys, "impls.lecture:discount_powers", "--json", "--max-examples", "10")
    assert status == 1
    document = json.loads(out, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert "nan" in document["counterexample"]["got"]


def test_command_line_choices_are_the_library_ones():
    from gae_sym import testing
    from gae_sym.cli import verify_impl

    assert verify_impl.CONVENTIONS == testing.CONVENTIONS
    assert verify_impl.INPUT_TYPES == testing.INPUT_TYPES


def test_hanging_function_exits_1_with_the_timeout_in_the_json(capsys):
    status, out, _ = _run(
        capsys, "impls.hanging:index_never_moves", "--call-timeout", "0.5", "--json"
    )
    assert status == 1
    document = json.loads(out)
    assert document["passed"] is False and document["call_timeout"] == 0.5
    assert document["call_timeout_enforced"] is True
    counterexample = document["counterexample"]
    assert counterexample["timed_out"] is True and counterexample["got"] is None
    assert counterexample["error"].startswith(
        "the function did not return within 0.5 s on this input (stopped at impls/hanging.py:"
    )
    assert len(counterexample["inputs"]["rewards"]) == 50  # the long edge case
    assert document["diagnosis"] is None


def test_hanging_function_text_report(capsys):
    status, out, _ = _run(capsys, "impls.hanging:busy_forever", "--call-timeout", "0.5")
    assert status == 1
    assert out.startswith("FAIL impls.hanging:busy_forever (lecture convention")
    assert "did not return within 0.5 s on this input" in out
    assert "diagnosis: a hang" in out and "--call-timeout" in out


def test_stuck_in_c_code_still_ends_with_status_1():
    # SIGALRM cannot stop sum(itertools.count()); faulthandler's watchdog ends the process
    # after the limit + 2 s of grace, showing where the code is stuck.
    argv = ["verify-impl", "impls.hanging:stuck_in_c", "--call-timeout", "0.3", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "gae_sym", *argv],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("Timeout (0:00:02.3")
    assert 'hanging.py", line' in done.stderr and "in stuck_in_c" in done.stderr
