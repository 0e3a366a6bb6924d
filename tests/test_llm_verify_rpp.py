"""verify-impl --convention token --estimator reinforce-pp: verl's REINFORCE++ passes as
shipped (mask_mode reset, the default), a skip implementation passes under --mask-mode skip
and is named under reset, and each catalogued mistake is named (the reason asserted)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from impls import llm as impls  # noqa: E402

from gae_sym.cli import main  # noqa: E402
from gae_sym.testing.llm import verify_llm  # noqa: E402

QUICK = 25
BOTH = "advantages,returns"


def _verify(func, mask_mode="reset", output=BOTH, examples=QUICK):
    return verify_llm(
        func,
        "token",
        estimator="reinforce-pp",
        mask_mode=mask_mode,
        input_type="torch",
        output=output,
        max_examples=examples,
    )


def test_verl_as_shipped_passes_by_default_and_is_not_flagged():
    result = _verify(impls.verl_reinforce_pp)
    assert result.passed, result.report()
    assert result.cases_run == 8 + QUICK
    assert "reinforce-pp, mask_mode reset" in result.report()
    assert result.as_dict()["mask_mode"] == "reset"
    # advantages alone, too (the function's first output)
    only = _verify(lambda r, m, gamma: impls.verl_reinforce_pp(r, m, gamma)[0], output="advantages")
    assert only.passed, only.report()


def test_skip_passes_under_skip_and_is_named_under_reset_and_the_reverse():
    assert _verify(impls.reinforce_pp_skip, mask_mode="skip").passed
    wrong = _verify(impls.reinforce_pp_skip)
    assert not wrong.passed and wrong.diagnosis.name == "mask-mode-skip"
    assert "--mask-mode skip" in wrong.diagnosis.fix
    reverse = _verify(impls.verl_reinforce_pp, mask_mode="skip")
    assert not reverse.passed and reverse.diagnosis.name == "mask-mode-reset"
    # The counterexample has a masked token between two response tokens (the only place the
    # modes differ).
    mask = reverse.counterexample.case.mask
    inner = [
        any(row[:k].any() and not row[k] and row[k + 1 :].any() for k in range(len(row)))
        for row in mask
    ]
    assert any(inner)


@pytest.mark.parametrize(
    "func, mistake",
    [
        (impls.openrlhf_reinforce_pp, "discount-per-position"),
        (impls.reinforce_pp_not_whitened, "not-whitened"),
        (impls.reinforce_pp_whitened_over_padding, "whitened-over-padding"),
        (impls.reinforce_pp_biased_whitening, "whitened-biased-variance"),
    ],
)
def test_reinforce_pp_mistakes_are_named(func, mistake):
    result = _verify(func)
    assert not result.passed
    assert result.diagnosis is not None and result.diagnosis.name == mistake, result.report()


def test_cli_reinforce_pp_json_and_a_wrong_estimator_for_the_convention(capsys):
    target = "tests/impls/llm.py:verl_reinforce_pp"
    flags = ["--convention", "token", "--estimator", "reinforce-pp", "--input-type", "torch"]
    status = main(
        ["verify-impl", target, *flags, "--output", BOTH, "--max-examples", "5", "--json"]
    )
    document = json.loads(capsys.readouterr().out)
    assert status == 0 and document["passed"]
    assert document["estimator"] == "reinforce-pp" and document["mask_mode"] == "reset"
    status = main(["verify-impl", target, "--convention", "token", "--estimator", "rloo", "--json"])
    error = json.loads(capsys.readouterr().out)
    assert status == 2 and "not one of the token convention's: gae, reinforce-pp" in json.dumps(
        error
    )
