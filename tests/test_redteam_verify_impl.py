"""Red team of verify-impl and gae_sym.testing: implementations written to get a PASS they do
not deserve (right on the cases the checker used to draw, wrong elsewhere; mutating their
inputs; exiting; printing), a right one it must not fail, and the three known gaps (closest
mistakes named, the L,B layout shown as the user's, flags a convention ignores refused).
Each test asserts the reason given, not only the verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from impls import redteam

from gae_sym import oracle
from gae_sym.cli import main
from gae_sym.testing import verify
from gae_sym.testing.runner import _proven_gae
from gae_sym.testing.trajectories import Trajectory, edge_cases

TESTS = Path(__file__).parent


@pytest.fixture(autouse=True)
def _in_tests_folder(monkeypatch):
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(TESTS.parent / ".hypothesis"))
    monkeypatch.chdir(TESTS)


def _flat(text: str) -> str:
    """The report with its line wrapping undone."""
    return " ".join(text.split())


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


# --- token and group conventions: what their cases did not reach ------------------------


def _llm(func, convention="token", **kwargs):
    from gae_sym.testing.llm import verify_llm

    kwargs.setdefault("max_examples", 60)
    with np.errstate(all="ignore"):
        return verify_llm(func, convention, **kwargs)


def test_token_gae_right_for_a_few_discounts_only_is_caught():
    # gamma was drawn from {0.9, 1.0, 0.5, 0.0, 0.99}: round(gamma, 2) was always right.
    result = _llm(redteam.token_gamma_cached_by_two_decimals, max_examples=200)
    assert not result.passed, result.report()
    gamma = result.counterexample.case.gamma
    assert round(gamma, 2) != gamma
    assert "first difference at index" in result.report()


def test_token_scan_longer_than_1024_positions_is_checked():
    # The longest case had 64 positions: a chunked scan losing its carry passed.
    result = _llm(redteam.token_chunked_drops_carry, max_examples=0)
    assert not result.passed
    assert result.counterexample.case.label == "1100 positions, three turns"
    assert result.counterexample.first_mismatch is not None
    assert "... (1090 more)" in result.report()  # not 1100 numbers per row


def test_token_batches_larger_than_four_are_drawn():
    result = _llm(redteam.token_large_batch_wrong, max_examples=200)
    assert not result.passed
    assert result.counterexample.case.rewards.shape[0] > 4
    k, row, _ = result.counterexample.first_mismatch
    assert k == 0 and row >= 4


def test_groups_larger_than_six_are_drawn():
    result = _llm(redteam.group_large_groups_wrong, "group", max_examples=200)
    assert not result.passed
    case = result.counterexample.case
    assert max(np.unique(case.group_ids, return_counts=True)[1]) > 6


def test_a_token_function_that_changes_its_mask_in_place_fails(capsys):
    for input_type in ("numpy", "torch"):
        pytest.importorskip(input_type)
        result = _llm(redteam.token_mutates_mask, input_type=input_type, max_examples=5)
        assert not result.passed
        assert "modified its input response_mask in place" in result.counterexample.error


def test_sys_exit_in_a_token_function_is_a_failure_not_the_verdict():
    result = _llm(redteam.token_exits, max_examples=5)
    assert not result.passed
    assert result.counterexample.error == "SystemExit: 0"
    assert "diagnosis: none (no outputs to compare: the error is the finding)" in result.report()
    assert result.counterexample.case.label.startswith("multi-turn")


def test_prints_of_a_token_function_stay_out_of_the_json(capsys):
    status, out, err = _run(
        capsys,
        "impls/redteam.py:token_prints",
        "--convention",
        "token",
        "--json",
        "--max-examples",
        "3",
    )
    assert status == 0 and json.loads(out)["passed"]
    assert "debug: computing GAE" in err


def test_a_hanging_token_function_is_stopped_by_the_call_timeout(capsys):
    status, out, _ = _run(
        capsys,
        "impls/redteam.py:token_hangs",
        "--convention",
        "token",
        "--call-timeout",
        "0.5",
        "--json",
    )
    document = json.loads(out)
    assert status == 1
    assert "did not return within 0.5 s" in document["counterexample"]["error"]


def test_a_nondeterministic_token_function_is_a_failure_with_a_note():
    # hypothesis raised Flaky on its replay, which ended the run in a traceback
    result = _llm(redteam.token_flaky_after_edges, max_examples=100)
    assert not result.passed and result.counterexample.first_mismatch is not None
    assert any("the function is not deterministic" in note for note in result.notes)


# --- (a) no single catalogued mistake: the closest ones are named --------------------------


def test_no_single_token_mistake_names_the_closest(capsys):
    result = _llm(redteam.token_two_paths, output="advantages,returns", max_examples=0)
    assert not result.passed and result.diagnosis is None
    assert result.closest[0].name == "value-not-passed-through"
    report = result.report()
    assert (
        "diagnosis: none of the known mistakes reproduces these outputs; closest: "
        "value-not-passed-through (reproduces"
    ) in report
    assert result.as_dict()["closest_mistakes"][0]["name"] == "value-not-passed-through"


def test_a_token_bug_outside_the_catalogue_says_none_comes_close():
    result = _llm(redteam.token_chunked_drops_carry, max_examples=0)
    assert result.diagnosis is None
    assert "; none comes close: no known mistake reproduces " in result.report()


# --- (b) the L,B layout is shown as the function sees it ----------------------------------


def test_the_l_b_counterexample_is_printed_in_the_users_layout(capsys):
    status, out, _ = _run(
        capsys,
        "impls/redteam.py:time_major_value_not_passed",
        "--convention",
        "token",
        "--layout",
        "L,B",
        "--max-examples",
        "0",
        "--json",
    )
    document = json.loads(out)
    assert status == 1
    assert document["diagnosis"]["name"] == "value-not-passed-through"
    example = document["counterexample"]
    # by the function's own names (rewards, mask: verl's aliases)
    mask = np.array(example["inputs"]["mask"])
    rewards = np.array(example["inputs"]["rewards"])
    got = np.array(example["got"][0])
    # one column per response: (L, B); the first edge case is one response of 7 positions
    assert mask.shape == rewards.shape == got.shape == (7, 1)
    k, position, row = example["first_mismatch"]
    assert (k, row) == (0, 0) and mask[position, row] == 1
    status, text, _ = _run(
        capsys,
        "impls/redteam.py:time_major_value_not_passed",
        "--convention",
        "token",
        "--layout",
        "L,B",
        "--max-examples",
        "0",
    )
    assert "(arrays in the function's layout (L, B): one column per response)" in text
    assert "mask = [[0], [0], [1], [1], [1], [0], [0]]" in text


# --- the GAE conventions ------------------------------------------------------------------


def test_a_chunked_scan_that_drops_its_carry_is_caught_by_the_very_long_case():
    # T was at most 64: a scan in chunks of 64 (or of up to 1024) that loses the carry passed.
    result = verify(redteam.chunked_scan_drops_carry, "lecture", max_examples=20)
    assert not result.passed
    assert result.failed_edge_cases == ["very long segment (T = 1100)"]
    assert result.counterexample.index == (0,)
    assert result.counterexample.confirmed_by_oracle
    report = result.report()
    assert "... (1090 more)" in report  # 1100 numbers are not printed one by one
    assert len(result.as_dict()["counterexample"]["inputs"]["rewards"]) == 1100


def test_the_windowed_oracle_is_the_closed_form():
    """Long counterexamples are confirmed window by window (the closed form costs T^2.7);
    joined by the scan split, the windows give the closed form on the whole case."""
    rng = np.random.default_rng(3)
    steps = 150
    traj = Trajectory(
        rng.normal(size=(steps, 2)),
        rng.normal(size=(steps, 2)),
        rng.normal(size=(steps, 2)),
        rng.random((steps, 2)) < 0.05,
        rng.random((steps, 2)) < 0.05,
        0.97,
        0.9,
    )
    whole = oracle.gae(*traj.arrays, gamma=0.97, lam=0.9)
    np.testing.assert_allclose(_proven_gae(traj, oracle.gae), whole, rtol=1e-12, atol=1e-12)
    label, long_case = edge_cases("canonical")[-1]
    assert label == "very long segment (T = 1100)" and long_case.length == 1100


@pytest.mark.parametrize(
    ("func", "input_type", "name"),
    [
        (redteam.appends_next_value, "list", "values"),
        (redteam.in_place_into_rewards, "numpy", "rewards"),
        (redteam.in_place_into_rewards, "torch", "rewards"),
    ],
)
def test_a_function_that_changes_its_inputs_fails_though_its_numbers_are_right(
    func, input_type, name
):
    pytest.importorskip("torch") if input_type == "torch" else None
    result = verify(func, "lecture", input_type=input_type, max_examples=20)
    assert not result.passed
    example = result.counterexample
    assert f"modified its input {name} in place" in example.error
    assert result.diagnosis.bug.name == "modifies-its-inputs"
    assert f"changed {name} on" in result.diagnosis.evidence()
    assert "diagnosis: modifies-its-inputs" in result.report()


def test_two_catalogued_bugs_at_once_name_the_closest():
    result = verify(redteam.masked_two_bugs, "masked", max_examples=60)
    assert not result.passed and result.diagnosis is None
    names = [c.bug.name for c in result.closest]
    assert names[0] == "lambda-without-gamma"
    report = _flat(result.report())
    assert "diagnosis: none (no known bug reproduces these outputs); closest: " in report
    assert "lambda-without-gamma (reproduces" in report
    document = result.as_dict()
    assert document["diagnosis"] is None
    assert document["closest_mistakes"][0]["name"] == "lambda-without-gamma"
    assert document["closest_mistakes"][0]["explained"] <= document["closest_mistakes"][0]["wrong"]


def test_a_bug_far_from_the_catalogue_says_none_comes_close():
    result = verify(redteam.lecture_off_by_constant, "lecture", max_examples=20)
    assert result.diagnosis is None
    assert "; none comes close: no known bug reproduces any of the" in _flat(result.report())


def test_a_right_float32_scan_passes_the_very_long_case():
    """The 1100-step case must not fail right code for its rounding: a float32 scan with
    float32 inputs (the tolerance is float32's) and one with float64 inputs (a warning)."""

    def float32_scan(rewards, values, next_value, gamma, lam):
        r = np.asarray(rewards, dtype=np.float32)
        v = np.append(np.asarray(values, dtype=np.float32), np.float32(next_value))
        out = np.zeros(len(r), dtype=np.float32)
        gae = np.float32(0.0)
        g, gl = np.float32(gamma), np.float32(gamma * lam)
        for t in reversed(range(len(r))):
            gae = r[t] + g * v[t + 1] - v[t] + gl * gae
            out[t] = gae
        return out

    assert verify(float32_scan, "lecture", dtype="float32", max_examples=10).passed
    result = verify(float32_scan, "lecture", max_examples=10)
    assert result.passed and result.precision_warning is not None


def test_batches_of_more_than_four_environments_are_drawn():
    result = verify(redteam.masked_first_four_envs, "masked", layout="T,N", max_examples=100)
    assert not result.passed
    example = result.counterexample
    assert example.traj.batch_shape[0] > 4 and example.index[1] >= 4


def test_right_jax_code_written_as_a_python_loop_passes_the_very_long_case():
    pytest.importorskip("jax")
    result = verify(redteam.jax_python_loop, "lecture", input_type="jax", max_examples=5)
    assert result.passed, result.report()
    assert result.failed_edge_cases == [] and result.seconds < 120


def test_the_token_check_leaves_no_hypothesis_folder(tmp_path):
    # verify_llm wrote ./.hypothesis where it ran; verify never did
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "from impls import redteam\n"
        "from gae_sym.testing.llm import verify_llm\n"
        "assert verify_llm(redteam.token_prints, 'token', max_examples=5).passed\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPOTHESIS")}
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


def test_a_nondeterministic_function_is_said_to_be_one():
    result = verify(redteam.lecture_flaky, "lecture", max_examples=100)
    assert not result.passed
    assert "the function is not deterministic" in result.counterexample.label
    assert "the function is not deterministic" in result.as_dict()["counterexample"]["case"]


def test_llm_counterexamples_show_what_the_function_was_given_by_its_names(capsys):
    # REINFORCE++ code takes no values and no lambda; they were printed as its inputs
    status, out, _ = _run(
        capsys,
        "impls/llm.py:reinforce_pp_skip",
        "--convention",
        "token",
        "--estimator",
        "reinforce-pp",
        "--input-type",
        "torch",
        "--output",
        "advantages,returns",
        "--max-examples",
        "0",
        "--json",
    )
    inputs = json.loads(out)["counterexample"]["inputs"]
    assert status == 1 and set(inputs) == {"token_level_rewards", "response_mask", "gamma"}
    status, out, _ = _run(
        capsys,
        "impls/llm.py:rloo_over_k",
        "--convention",
        "group",
        "--estimator",
        "rloo",
        "--max-examples",
        "0",
        "--json",
    )
    assert status == 1 and set(json.loads(out)["counterexample"]["inputs"]) == {"scores", "index"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the point
def test_a_ctrl_c_that_a_gc_callback_swallows_still_stops_the_run(capsys):
    # The trial's Ctrl-C during verify-impl printed "Exception ignored ... KeyboardInterrupt"
    # and then PASS with exit 0 in 2 of 5 tries.
    from gae_sym.cli import main

    code = main(
        ["verify-impl", "impls.redteam:ctrl_c_inside_a_gc_callback", "--convention", "lecture"]
    )
    out, err = capsys.readouterr()
    assert code == 130 and "interrupted" in err
    assert "PASS" not in out


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the point
def test_sticky_interrupt_reraises_after_the_block_and_restores_the_handler():
    import gc
    import os
    import signal

    from gae_sym.testing.timeout import sticky_interrupt

    before = signal.getsignal(signal.SIGINT)

    def callback(phase, info):
        if phase == "start":
            os.kill(os.getpid(), signal.SIGINT)

    reached = []
    with pytest.raises(KeyboardInterrupt), sticky_interrupt():
        gc.callbacks.append(callback)
        try:
            gc.collect()  # the KeyboardInterrupt is raised in the callback and dropped
        finally:
            gc.callbacks.remove(callback)
        reached.append("after the swallowed interrupt")
    assert reached == ["after the swallowed interrupt"]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_function_that_returns_none_is_told_so(capsys):
    from gae_sym.cli import main

    code = main(["verify-impl", "impls.redteam:returns_none", "--convention", "lecture"])
    out = capsys.readouterr().out
    assert code == 1
    assert "error: the function returned None (a missing return" in out


def test_a_method_named_through_its_class_gets_advice_that_works(capsys):
    from gae_sym.cli import main

    code = main(["verify-impl", "impls.redteam:Agent.gae", "--convention", "lecture"])
    err = capsys.readouterr().err
    assert code == 2
    assert "its first parameter is 'self': a method named through its class" in err
    assert "--args INPUT=self" not in err
