"""The token-level toy: it learns, every batch's library-style advantages agree with the
kernels, and a library-style bug of each kind the issue lists makes the check disagree."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

torch = pytest.importorskip("torch")

from gae_sym.cli import main  # noqa: E402
from numeric.llm import toy  # noqa: E402


def _has_jax() -> bool:
    from importlib.util import find_spec

    return find_spec("jax") is not None


def test_ppo_gae_multi_turn_agrees_on_every_batch():
    report = toy.run("gae", seed=1, batches=10, multi_turn=True)
    assert report["agree"] and report["batches_checked"] == 10
    names = ["numpy-generated", "torch-generated", *(["jax-generated"] if _has_jax() else [])]
    assert [b["name"] for b in report["backends_checked"]] == names
    assert all(b["kernels"].startswith("numeric/llm/kernels/") for b in report["backends_checked"])
    assert all(
        b["agree"] and b["max_abs_diff"] < b["tolerance"] for b in report["backends_checked"]
    )
    assert len(report["learning_curve"]) == 10 and report["sequence_length"] == 7


def test_grpo_learns():
    report = toy.run("grpo", seed=0, batches=30)
    assert report["agree"]
    assert report["final_reward"] > report["initial_reward"] + 0.2


def _carry_only_gae(token_level_rewards, values, response_mask, gamma, lam):
    # The mistake: the value is not passed through masked tokens (only the carry is).
    nextvalues, lastgaelam, out = 0, 0, []
    for t in reversed(range(token_level_rewards.shape[-1])):
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam_ = delta + gamma * lam * lastgaelam
        nextvalues = values[:, t]
        lastgaelam = lastgaelam_ * response_mask[:, t] + (1 - response_mask[:, t]) * lastgaelam
        out.append(lastgaelam)
    advantages = torch.stack(out[::-1], dim=1)
    return advantages, advantages + values, toy.library_masked_whiten(advantages, response_mask)


def _biased_std_grpo(scores, index, epsilon=1e-6, norm_adv_by_std_in_grpo=True):
    groups = defaultdict(list)
    for i, g in enumerate(index):
        groups[g].append(float(scores[i]))
    out = scores.clone()
    for i, g in enumerate(index):
        values = torch.tensor(groups[g])
        out[i] = (scores[i] - values.mean()) / (values.std(unbiased=False) + epsilon)
    return out


def _rloo_over_k(scores, index):
    groups = defaultdict(list)
    for i, g in enumerate(index):
        groups[g].append(float(scores[i]))
    out = scores.clone()
    for i, g in enumerate(index):
        k = len(groups[g])
        out[i] = scores[i] - (sum(groups[g]) - float(scores[i])) / k
    return out


def _whiten_over_padding(values, mask, shift_mean=True):
    # The mistake: mean and variance over every position, padding and prompt included.
    mean = values.mean()
    return (values - mean) * torch.rsqrt(values.var() + 1e-8)


@pytest.mark.parametrize(
    "estimator, name, wrong",
    [
        ("gae", "library_gae", _carry_only_gae),
        # The whitening tolerance divides by std(A): a whitening bug must still be caught.
        ("gae", "library_masked_whiten", _whiten_over_padding),
        ("grpo", "library_grpo", _biased_std_grpo),
        ("rloo", "library_rloo", _rloo_over_k),
    ],
)
def test_a_library_bug_makes_the_check_disagree(monkeypatch, estimator, name, wrong):
    monkeypatch.setattr(toy, name, wrong)
    report = toy.run(estimator, seed=2, batches=3, multi_turn=True)
    assert not report["agree"]
    assert max(b["max_diff_over_tolerance"] for b in report["backends_checked"]) > 1


def test_cli_json_document_and_exit_status(capsys):
    status = main(["llm-toy", "--estimator", "rloo", "--batches", "10", "--seed", "4", "--json"])
    out = capsys.readouterr().out
    document = json.loads(out)
    assert status == 0 and document["agree"]
    for field in (
        "estimator",
        "batches_checked",
        "backends_checked",
        "max_abs_diff",
        "agree",
        "initial_reward",
        "final_reward",
        "learning_curve",
    ):
        assert field in document
    assert document["estimator"] == "rloo" and document["batches_checked"] == 10


@pytest.mark.parametrize("flags", [["--batches", "3"], ["--estimator", "ppo"], ["--seed", "-1"]])
def test_cli_bad_input_exits_2_with_json_error(capsys, flags):
    status = main(["llm-toy", *flags, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 2 and document["error"]["exit_status"] == 2
