"""verify / assert_gae_matches on the example implementations of tests/impls: the correct
ones pass, each buggy one is caught with the right diagnosis."""

import signal
import threading
import time
import warnings

import numpy as np
import pytest
from impls import canonical, hanging, lecture, masked

import numeric
from gae_sym.testing import assert_gae_matches, timeout, verify

MODULES = {"lecture": lecture, "masked": masked, "canonical": canonical}
INPUT_TYPES = {"torch_loop": "torch"}


def _impls(correct):
    return [
        pytest.param(convention, name, diagnosis, id=f"{convention}:{name}")
        for convention, module in MODULES.items()
        for name, diagnosis in module.EXPECTED.items()
        if (diagnosis is None) == correct
    ]


@pytest.mark.parametrize(("convention", "name", "diagnosis"), _impls(correct=True))
def test_correct_implementations_pass(convention, name, diagnosis):
    func = getattr(MODULES[convention], name)
    if INPUT_TYPES.get(name) == "torch":
        pytest.importorskip("torch")
    result = assert_gae_matches(
        func, convention, input_type=INPUT_TYPES.get(name, "numpy"), max_examples=60
    )
    assert result.passed and result.examples == result.edge_cases + 60


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(("convention", "name", "diagnosis"), _impls(correct=False))
def test_buggy_implementations_are_caught_and_named(convention, name, diagnosis):
    result = verify(getattr(MODULES[convention], name), convention, max_examples=60)
    assert not result.passed
    named = result.diagnosis.bug.name if result.diagnosis else ""
    assert named == diagnosis
    if result.diagnosis:
        assert result.diagnosis.exact
    example = result.counterexample
    assert example.error is not None or example.index is not None


def test_lambda_returns_are_told_exactly_that():
    with pytest.raises(AssertionError) as failure:
        assert_gae_matches(lecture.returns_instead_of_advantages, "lecture", max_examples=30)
    message = str(failure.value)
    assert "lambda-returns-instead-of-advantages" in message
    assert "λ-returns" in message and "not the advantages" in message
    assert "first difference at index" in message and "expected" in message


def test_counterexample_is_shrunk_and_reproducible():
    first = verify(masked.mask_missing_in_carry, "masked", max_examples=80, seed=7)
    again = verify(masked.mask_missing_in_carry, "masked", max_examples=80, seed=7)
    assert first.as_dict()["counterexample"] == again.as_dict()["counterexample"]
    example = first.counterexample
    assert example.label.startswith("generated")
    # The carry bug needs a termination before the last step and one more step: T = 2.
    assert example.traj.length == 2 and example.traj.terminated[0]


def test_edge_cases_catch_what_short_random_cases_miss():
    # The bug shows only on segments longer than 32 steps; hypothesis is limited to 20 here.
    result = verify(lecture.fixed_horizon, "lecture", max_examples=30, max_length=20)
    assert not result.passed
    assert result.counterexample.label == "edge case: long segment (T = 50)"
    example = result.counterexample
    assert example.index == (0,)
    # Exactly the steps with more than 32 steps left (t < 18) are wrong.
    np.testing.assert_allclose(example.got[18:], example.expected[18:], rtol=1e-12)
    assert not np.isclose(example.got[17], example.expected[17], rtol=1e-9)


def test_exception_and_wrong_length_are_failures():
    result = verify(lecture.includes_bootstrap_step, "lecture", max_examples=20)
    assert "returned shape (2,), expected (1,)" in result.counterexample.error

    def crashes_on_terminal_step(rewards, values, next_value, masks, gamma, lam):
        if masks[-1] == 0:
            raise RuntimeError("episode ended")
        return masked.loop(rewards, values, next_value, masks, gamma, lam)

    result = verify(crashes_on_terminal_step, "masked", max_examples=20)
    assert not result.passed
    assert result.counterexample.error == "raised RuntimeError: episode ended"
    assert result.counterexample.traj.terminated[-1]


def test_wrong_arity_is_a_type_error():
    with pytest.raises(TypeError, match="masked convention"):
        verify(lecture.compute_gae, "masked")


@pytest.mark.parametrize("input_type", ["list", "torch"])
def test_input_types(input_type):
    if input_type == "torch":
        pytest.importorskip("torch")
    seen = set()

    def spy(rewards, values, next_value, masks, gamma, lam):
        seen.add(type(rewards).__module__.split(".")[0] + "." + type(rewards).__name__)
        return masked.loop(rewards, values, next_value, masks, gamma, lam)

    assert_gae_matches(spy, "masked", input_type=input_type, max_examples=10)
    assert seen == {"builtins.list" if input_type == "list" else "torch.Tensor"}


def test_canonical_with_batches_and_float32_inputs():
    result = assert_gae_matches(numeric.gae, "canonical", max_examples=30, batch_shape=(3,))
    assert result.passed
    seen = set()

    def float32_kernel(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        seen.add(rewards.dtype)
        return numeric.gae(
            rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam
        )

    assert_gae_matches(float32_kernel, "canonical", dtype=np.float32, max_examples=20)
    assert seen == {np.dtype(np.float32)}


def test_json_document_fields():
    document = verify(canonical.truncation_ignored, "canonical", max_examples=40).as_dict()
    assert document["passed"] is False
    assert document["examples"] > document["edge_cases"] > 0
    counterexample = document["counterexample"]
    assert set(counterexample) >= {"inputs", "expected", "got", "first_differing_index"}
    assert set(counterexample["inputs"]) == {
        "rewards",
        "values",
        "next_values",
        "terminated",
        "truncated",
        "gamma",
        "lam",
    }
    assert counterexample["expected_confirmed_by_oracle"] is True
    assert document["diagnosis"]["name"] == "truncation-ignored"
    assert document["diagnosis"]["fix"]


def test_a_wrong_reference_is_caught_by_the_oracle_not_blamed_on_the_user(monkeypatch):
    from gae_sym.testing import runner

    monkeypatch.setattr(
        runner,
        "reference_outputs",
        lambda traj, outputs, real=runner.reference_outputs: real(traj, outputs) * 1.5,
    )
    with pytest.raises(RuntimeError, match=r"numeric\.gae and gae_sym\.oracle disagree"):
        verify(lecture.compute_gae, "lecture", max_examples=5)


def test_a_bug_that_does_not_show_everywhere_is_a_likely_diagnosis():
    def returns_except_single_steps(rewards, values, next_value, gamma, lam):
        advantages = lecture.compute_gae(rewards, values, next_value, gamma, lam)
        if len(rewards) == 1:
            return advantages
        return [a + v for a, v in zip(advantages, values, strict=True)]

    result = verify(returns_except_single_steps, "lecture", max_examples=30)
    assert result.diagnosis.bug.name == "lambda-returns-instead-of-advantages"
    assert not result.diagnosis.exact
    assert result.diagnosis.evidence().startswith("likely")


def test_no_diagnosis_when_nothing_matches():
    def off_by_a_constant(rewards, values, next_value, gamma, lam):
        return [a + 0.5 for a in lecture.compute_gae(rewards, values, next_value, gamma, lam)]

    result = verify(off_by_a_constant, "lecture", max_examples=30)
    assert not result.passed and result.diagnosis is None
    assert "diagnosis: none" in result.report()


def test_a_tuple_result_is_told_to_return_advantages_only():
    def advantages_and_returns(rewards, values, next_value, gamma, lam):
        advantages = np.asarray(lecture.compute_gae(rewards, values, next_value, gamma, lam))
        return advantages, advantages + values

    result = verify(advantages_and_returns, "lecture", max_examples=5)
    error = result.counterexample.error
    assert "a tuple of 2 arrays? return the advantages only" in error
    assert "--output advantages,returns" in error


def test_sys_exit_inside_the_function_is_a_failure_not_the_verdict():
    # sys.exit(0) in the tested code must not end verify-impl with "passes".
    def exits_on_long_segments(rewards, values, next_value, gamma, lam):
        if len(rewards) > 3:
            raise SystemExit(0)
        return lecture.compute_gae(rewards, values, next_value, gamma, lam)

    result = verify(exits_on_long_segments, "lecture", max_examples=5)
    assert not result.passed
    assert result.counterexample.error == "raised SystemExit: 0"


# The per-call time limit: a hang is a counterexample, never a hung test run.


def test_endless_loop_is_a_timeout_counterexample_after_one_call():
    result = verify(hanging.busy_forever, "lecture", max_examples=50, call_timeout=0.5)
    assert not result.passed
    example = result.counterexample
    assert example.timed_out and example.got is None
    assert example.error.startswith("the function did not return within 0.5 s on this input")
    assert "impls/hanging.py" in example.error and "in busy_forever" in example.error
    # The first hanging call ends the run: no other case pays the limit again.
    assert result.examples == 1 and result.failed_edge_cases == ["gamma = 0"]
    assert result.diagnosis is None
    report = result.report()
    assert "did not return within 0.5 s" in report and "diagnosis: a hang" in report
    assert "rewards" in report and "expected" in report  # the inputs of the case


def test_hang_on_long_segments_is_found_by_the_edge_cases():
    with pytest.raises(AssertionError, match=r"did not return within 0\.5 s") as failure:
        assert_gae_matches(hanging.index_never_moves, "lecture", call_timeout=0.5)
    assert "case: edge case: long segment (T = 50)" in str(failure.value)


def test_hang_found_by_hypothesis_is_reported_unshrunk():
    result = verify(hanging.hangs_on_three_steps, "lecture", max_examples=60, call_timeout=0.5)
    example = result.counterexample
    assert example.timed_out and example.traj.length == 3
    assert example.label.startswith("generated by hypothesis (not shrunk")
    assert result.failed_edge_cases == []


def test_except_exception_in_the_function_does_not_swallow_the_timeout():
    result = verify(hanging.swallows_exceptions, "lecture", max_examples=5, call_timeout=0.3)
    assert result.counterexample.timed_out and result.examples == 1


def test_slow_function_under_the_limit_passes():
    result = assert_gae_matches(
        hanging.slow_on_long_segments, "lecture", max_examples=4, call_timeout=1.0
    )
    assert result.passed and result.call_timeout == 1.0 and result.call_timeout_enforced


def test_previous_sigalrm_handler_and_timer_are_restored():
    calls = []

    def previous(signum, frame):
        calls.append(signum)

    old = signal.signal(signal.SIGALRM, previous)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        verify(hanging.busy_forever, "lecture", max_examples=5, call_timeout=0.3)
        verify(lecture.compute_gae, "lecture", max_examples=5, call_timeout=0.3)
        assert signal.getsignal(signal.SIGALRM) is previous
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left < 30.0  # still pending, with the time it had left
        assert calls == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_a_previous_timer_due_during_the_call_still_fires_afterwards():
    calls = []
    old = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with timeout.call_time_limit(5.0) as enforced:
            time.sleep(0.2)  # the previous timer is due now, but ours holds SIGALRM
            assert enforced and calls == []
        time.sleep(0.1)
        assert calls == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_no_limit_when_call_timeout_is_none_or_zero():
    for no_limit in (None, 0, float("inf")):
        result = verify(lecture.compute_gae, "lecture", max_examples=3, call_timeout=no_limit)
        assert result.passed and result.call_timeout is None
        assert not result.call_timeout_enforced
    with pytest.raises(ValueError, match="call_timeout must be >= 0"):
        verify(lecture.compute_gae, "lecture", call_timeout=-1)


def test_outside_the_main_thread_the_limit_is_not_enforced_and_says_so():
    found = []
    handler = signal.getsignal(signal.SIGALRM)

    def in_a_thread():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found.append((verify(lecture.compute_gae, "lecture", max_examples=3), caught))

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    result, caught = found[0]
    assert result.passed and not result.call_timeout_enforced
    assert "not enforced" in result.report() and "main thread" in result.report()
    assert any("call time limit was not enforced" in str(w.message) for w in caught)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_call_timeout_is_not_an_exception_the_tested_code_can_catch_by_accident():
    assert not issubclass(timeout.CallTimeout, Exception)
