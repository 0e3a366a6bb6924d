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


def test_reported_time_includes_importing_the_module(capsys, tmp_path, monkeypatch):
    slow = tmp_path / "slow_import.py"
    slow.write_text("import time\ntime.sleep(1.0)\nfrom impls.lecture import compute_gae\n")
    status, out, _ = _run(capsys, str(slow) + ":compute_gae", "--json", "--max-examples", "5")
    document = json.loads(out)
    assert status == 0
    assert document["import_seconds"] >= 1.0
    assert document["seconds"] >= document["import_seconds"]


def test_progress_line_only_on_a_terminal_after_a_few_seconds(monkeypatch):
    from gae_sym.cli import verify_impl

    quiet = verify_impl._Progress(enabled=False)
    quiet(1, 10)
    assert quiet.bar is None
    shown = verify_impl._Progress(enabled=True)
    shown(1, 10)
    assert shown.bar is None  # not yet: short runs print no progress
    shown.started -= verify_impl.PROGRESS_AFTER_S + 1
    shown(2, 10)
    assert shown.bar is not None and shown.bar.n == 2
    shown.close()


def test_help_examples_have_no_stray_spaces():
    from gae_sym.cli import verify_impl

    for example in verify_impl.EXAMPLES:
        assert "  " not in example and example in verify_impl.DESCRIPTION


def test_json_has_the_precision_fields(capsys):
    status, out, _ = _run(
        capsys, "impls.layouts:gamma_rounded_to_float32", "--convention", "canonical", "--json"
    )
    document = json.loads(out)
    assert status == 0 and document["passed"]
    assert document["precision_warning"].startswith("returns float64 numbers")
    assert document["precision"]["source"] == "gamma-rounded-to-float32"
    status, out, _ = _run(
        capsys,
        "impls.layouts:gamma_rounded_to_float32",
        "--convention",
        "canonical",
        "--json",
        "--strict-precision",
    )
    assert status == 1 and json.loads(out)["strict_precision"] is True


def test_text_report_has_the_precision_warning(capsys):
    status, out, _ = _run(
        capsys,
        "impls.layouts:torch_int_mask",
        "--convention",
        "canonical",
        "--input-type",
        "torch",
        "--max-examples",
        "20",
    )
    assert status == 0
    assert out.startswith("PASS") and "precision warning:" in out and "torch" in out


def _fresh_copy(tmp_path):
    examples = TESTS.parent / "docs" / "examples" / "engineer"
    for name in ("my_gae.py", "test_my_gae.py"):
        (tmp_path / name).write_text((examples / name).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPOTHESIS")}
    env["PYTHONPATH"] = str(TESTS.parent)
    return env


def test_example_test_passes_when_run_alone(tmp_path):
    # issue 18: run alone, its first numeric.gae call paid the numba warm-up and exceeded
    # hypothesis's 200 ms deadline; trajectories() now warms the kernels when it is built.
    env = _fresh_copy(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_my_gae.py::test_gae_at_lambda_zero_is_the_td_error",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_assert_gae_matches_leaves_no_hypothesis_folder(tmp_path):
    env = _fresh_copy(tmp_path)
    script = (
        "from my_gae import compute_gae\n"
        "from gae_sym.testing import assert_gae_matches\n"
        "assert_gae_matches(compute_gae, 'lecture', max_examples=20)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / ".hypothesis").exists()
