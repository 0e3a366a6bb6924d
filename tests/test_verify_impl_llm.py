"""verify-impl --convention token / group: the correct LLM-RL functions pass, each wrong one
fails and is named by the catalogue (the reason asserted, not only the exit status)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from impls import llm as impls  # noqa: E402

from gae_sym.cli import main  # noqa: E402
from gae_sym.testing.llm import plan_llm_call, verify_llm  # noqa: E402

QUICK = 25


@pytest.mark.parametrize(
    "func, input_type, output",
    [
        (impls.verl_gae, "torch", "advantages,returns"),
        (impls.numpy_skip_gae, "numpy", "advantages"),
    ],
)
def test_correct_token_gae_passes(func, input_type, output):
    result = verify_llm(func, "token", input_type=input_type, output=output, max_examples=QUICK)
    assert result.passed, result.report()
    assert result.cases_run == 8 + QUICK


@pytest.mark.parametrize(
    "func, output, mistake",
    [
        (impls.carry_only, "advantages", "value-not-passed-through"),
        (impls.value_only, "advantages", "carry-not-passed-through"),
        (impls.trl_style_unmasked_values, "advantages", "bootstrap-from-next-position"),
        (impls.verl_gae_whitened, "advantages,returns", "whitened"),
        (impls.plain_gae_no_mask, "advantages", "no-mask"),
        (impls.end_padding_only, "advantages", "observation-tokens-in-chain"),
        (impls.whitened_over_padding, "advantages,returns", "whitened-over-padding"),
        (impls.returns_from_whitened, "advantages,returns", "returns-after-whitening"),
    ],
)
def test_token_mistakes_are_named(func, output, mistake):
    result = verify_llm(func, "token", input_type="torch", output=output, max_examples=QUICK)
    assert not result.passed
    assert result.diagnosis is not None and result.diagnosis.name == mistake


def test_the_token_check_reads_only_response_tokens_and_the_batch_major_layout():
    def time_major(rewards, values, mask, gamma, lam):
        return impls.numpy_skip_gae(rewards.T, values.T, mask.T, gamma, lam).T

    assert verify_llm(time_major, "token", layout="L,B", max_examples=QUICK).passed
    failed = verify_llm(time_major, "token", layout="B,L", max_examples=0)
    assert not failed.passed and failed.counterexample is not None


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "func, estimator, mistake",
    [
        (impls.verl_grpo, "grpo", None),
        (impls.grpo_biased, "grpo-biased", None),
        (impls.rloo, "rloo", None),
        (impls.drgrpo, "drgrpo", None),
        (impls.grpo_biased, "grpo", "biased-std"),
        (impls.verl_grpo, "grpo-biased", "unbiased-std"),
        (impls.grpo_batch_std, "grpo", "batch-std"),
        (impls.grpo_singleton_nan, "grpo", "singleton-nan"),
        (impls.rloo_over_k, "rloo", "rloo-over-k"),
        (impls.drgrpo, "rloo", "mean-baseline"),
        (impls.drgrpo, "grpo", "no-std"),
        (impls.verl_grpo, "drgrpo", "divides-by-std"),
        (impls.grpo_whole_batch, "grpo", "batch-mean-std"),
        (impls.rloo_singleton_zero, "rloo", "singleton-zero"),
    ],
)
def test_group_estimators_pass_or_are_named(func, estimator, mistake):
    with np.errstate(all="ignore"):
        result = verify_llm(
            func, "group", estimator=estimator, input_type="torch", max_examples=QUICK
        )
    if mistake is None:
        assert result.passed, result.report()
    else:
        assert not result.passed
        assert result.diagnosis is not None and result.diagnosis.name == mistake


def test_float32_constants_pass_with_a_precision_warning_unless_strict():
    result = verify_llm(impls.verl_grpo, "group", input_type="torch", max_examples=0)
    assert result.passed and any("precision warning" in n for n in result.notes)
    strict = verify_llm(
        impls.verl_grpo, "group", input_type="torch", max_examples=0, strict_precision=True
    )
    assert not strict.passed and strict.counterexample.case.label == "a group of one"


def test_plan_errors():
    with pytest.raises(ValueError, match="positional parameters"):
        plan_llm_call(lambda scores: scores, "group")
    with pytest.raises(ValueError, match="layout"):
        plan_llm_call(impls.verl_gae, "token", layout="T,N")
    with pytest.raises(ValueError, match="not an input"):
        plan_llm_call(impls.verl_gae, "token", args="reward=x")
    plan = plan_llm_call(
        lambda r, v, m, discount, trace: r, "token", args="gamma=discount,lam=trace"
    )
    assert plan.positional == ("token_level_rewards", "values", "response_mask")
    assert plan.by_name == {"gamma": "discount", "lam": "trace"}


def test_cli_json_and_exit_status(capsys):
    target = "tests/impls/llm.py"
    status = main(
        [
            "verify-impl",
            f"{target}:rloo_over_k",
            "--convention",
            "group",
            "--estimator",
            "rloo",
            "--max-examples",
            "5",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert status == 1 and document["diagnosis"]["name"] == "rloo-over-k"
    # The count under the GAE conventions' name too (cases_run kept for old readers).
    assert document["examples"] == document["cases_run"] > 0
    token = ["--convention", "token", "--input-type", "torch", "--json"]
    status = main(["verify-impl", f"{target}:verl_gae", *token])
    document = json.loads(capsys.readouterr().out)
    assert status == 1 and "--output advantages,returns" in document["counterexample"]["error"]
    status = main(
        ["verify-impl", f"{target}:verl_gae", "--convention", "token", "--layout", "B", "--json"]
    )
    assert status == 2 and "layout" in json.loads(capsys.readouterr().out)["error"]["message"]


def test_a_function_the_convention_cannot_call_is_exit_2_not_a_counterexample(capsys):
    """A token GAE run under --convention group would raise TypeError on every case; it is
    a wrong command line (exit 2, what is missing named), not a finding (a new user's
    report: it printed a counterexample and exited 1)."""
    with pytest.raises(ValueError, match="needs gamma, lam, which the group convention"):
        plan_llm_call(lambda token_level_rewards, values, response_mask, gamma, lam: 0, "group")
    status = main(["verify-impl", "tests/impls/llm.py:verl_gae", "--convention", "group", "--json"])
    message = json.loads(capsys.readouterr().out)["error"]["message"]
    assert status == 2 and "group convention does not give" in message
