"""Issue 18, "done means": verify-impl on the installed libraries, called as they are (no
adapter), and on the example files in docs/examples/engineer written in the layouts of
CleanRL, baselines and PureJaxRL. Each must get the verdict its code deserves; a test whose
library is absent skips. The commands are the ones docs/guide/engineer.md shows."""

import importlib.util
import json
from pathlib import Path

import pytest

from gae_sym.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = "docs/examples/engineer"
TORCHRL = "torchrl.objectives.value.functional"
TORCHRL_ARGS = "values=state_value,next_values=next_state_value,rewards=reward,lam=lmbda"


def _needs(*modules):
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")


def _run(capsys, monkeypatch, *argv):
    monkeypatch.chdir(ROOT)
    status = main(["verify-impl", *argv, "--json", "--max-examples", "40"])
    out, _ = capsys.readouterr()
    return status, json.loads(out)


def test_sb3_rollout_buffer_passes_with_a_float32_warning(capsys, monkeypatch):
    _needs("stable_baselines3")
    status, doc = _run(
        capsys,
        monkeypatch,
        f"{EXAMPLES}/sb3_buffer.py:sb3_gae",
        "--convention=episode-start",
        "--layout=T,N",
        "--output=advantages,returns",
        "--args=dones=episode_starts,next_value=last_values,next_done=dones,lam=gae_lambda",
    )
    assert status == 0 and doc["passed"]
    # SB3's buffers are float32: right to float32 precision for float64 inputs
    assert doc["precision"]["result_dtype"] == "float32"
    assert "np.zeros_like" in doc["precision_warning"]


def test_tianshou_gae_passes(capsys, monkeypatch):
    _needs("tianshou")
    status, doc = _run(
        capsys,
        monkeypatch,
        "tianshou.algorithm.algorithm_base:_gae",
        "--convention=canonical",
        "--args=values=v_s,bootstrap_values=v_s_,rewards=rew,done=end_flag,lam=gae_lambda",
    )
    assert status == 0 and doc["passed"] and doc["precision_warning"] is None


def test_torchrl_gae_passes_with_its_float32_gamma(capsys, monkeypatch):
    _needs("torchrl")
    argv = [
        f"{TORCHRL}:generalized_advantage_estimate",
        "--convention=canonical",
        "--layout=N,T,1",
        "--input-type=torch",
        "--output=advantages,returns",
        f"--args={TORCHRL_ARGS}",
    ]
    status, doc = _run(capsys, monkeypatch, *argv)
    assert status == 0 and doc["passed"]
    assert doc["precision"]["source"] == "gamma-rounded-to-float32"
    assert "torch" in doc["precision"]["fix"] and "np." not in doc["precision"]["fix"]
    status, doc = _run(capsys, monkeypatch, *argv, "--strict-precision")
    assert status == 1 and doc["diagnosis"]["name"] == "gamma-rounded-to-float32"
    status, doc = _run(capsys, monkeypatch, *argv, "--dtype=float32")
    assert status == 0 and doc["precision_warning"] is None


def test_torchrl_vectorised_gae_raises_at_zero_discount(capsys, monkeypatch):
    _needs("torchrl")
    status, doc = _run(
        capsys,
        monkeypatch,
        f"{TORCHRL}:vec_generalized_advantage_estimate",
        "--convention=canonical",
        "--layout=N,T,1",
        "--input-type=torch",
        "--output=advantages,returns",
        f"--args={TORCHRL_ARGS}",
    )
    assert status == 1
    assert doc["diagnosis"]["name"] == "raises-at-zero-gamma-lambda"
    assert set(doc["failed_edge_cases"]) == {"gamma = 0", "lambda = 0"}


def test_rlax_truncated_gae_passes_jitted(capsys, monkeypatch):
    _needs("rlax", "jax")
    status, doc = _run(
        capsys,
        monkeypatch,
        "rlax:truncated_generalized_advantage_estimation",
        "--convention=discount",
        "--input-type=jax",
        "--args=rewards=r_t,discounts=discount_t,lam=lambda_",
    )
    assert status == 0 and doc["passed"] and doc["precision_warning"] is None


@pytest.mark.parametrize(
    ("target", "argv", "passed", "diagnosis"),
    [
        (
            "cleanrl_style.py:compute_advantages",
            ["--convention=episode-start", "--layout=T,N", "--input-type=torch"],
            True,
            None,
        ),
        (
            "cleanrl_style.py:compute_advantages_reading_dones_t",
            ["--convention=episode-start", "--layout=T,N", "--input-type=torch"],
            False,
            "mask-read-one-step-early",
        ),
        (
            "baselines_style.py:ppo2_returns",
            [
                "--convention=episode-start",
                "--layout=T,N",
                "--output=returns",
                "--args=next_value=last_values,next_done=last_dones",
            ],
            True,
            None,
        ),
        (
            "purejaxrl_style.py:calculate_gae",
            [
                "--convention=masked",
                "--layout=T,N",
                "--input-type=jax",
                "--output=advantages,returns",
                "--args=next_value=last_val,lam=gae_lambda",
            ],
            True,
            None,
        ),
    ],
)
def test_codebases_that_are_not_packages(capsys, monkeypatch, target, argv, passed, diagnosis):
    if "torch" in " ".join(argv):
        _needs("torch")
    if "jax" in " ".join(argv):
        _needs("jax")
    if "cleanrl" in target:
        argv = [*argv, "--args=lam=gae_lambda"]
    status, doc = _run(capsys, monkeypatch, f"{EXAMPLES}/{target}", *argv)
    assert doc["passed"] is passed and status == (0 if passed else 1)
    assert (doc["diagnosis"] or {}).get("name") == diagnosis


def test_jax_functions_are_jitted_and_compiled_a_few_times():
    _needs("jax")
    import jax.numpy as jnp

    from gae_sym.testing import verify

    traces = []

    def gae(rewards, discounts, lam, values):  # the Python body runs once per trace
        traces.append(rewards.shape)
        deltas = rewards + discounts * values[1:] - values[:-1]

        def step(acc, x):
            acc = x[0] + x[1] * lam * acc
            return acc, acc

        import jax

        return jax.lax.scan(step, jnp.zeros(()), (deltas, discounts), reverse=True)[1]

    result = verify(gae, "discount", input_type="jax", max_examples=200)
    assert result.passed, result.report()
    assert result.examples >= 200
    assert len(traces) == len(set(traces)) <= 20  # one trace per shape, few shapes


def test_jax_function_right_on_the_edge_case_shapes_only_is_caught():
    _needs("jax")
    import jax
    import jax.numpy as jnp

    from gae_sym.testing import verify
    from gae_sym.testing.trajectories import edge_cases

    lengths = {traj.length for _, traj in edge_cases("discount")}

    def gae(rewards, discounts, lam, values):
        deltas = rewards + discounts * values[1:] - values[:-1]

        def step(acc, x):
            acc = x[0] + x[1] * lam * acc
            return acc, acc

        out = jax.lax.scan(step, jnp.zeros(()), (deltas, discounts), reverse=True)[1]
        return out if rewards.shape[0] in lengths else out * 2  # shapes are static

    result = verify(gae, "discount", input_type="jax", max_examples=60)
    assert not result.passed and result.failed_edge_cases == []
    assert result.counterexample.traj.length not in lengths
