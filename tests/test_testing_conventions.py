"""Issue 18: conventions, layouts, outputs, --args, precision apart from logic, the new
diagnoses, and adversarial functions that try to pass (each caught, for the right reason)."""

import numpy as np
import pytest
from impls import discount, episode_start, layouts, lecture, timeouts

from gae_sym.testing import assert_gae_matches, named_inputs, plan_call, segment, verify
from gae_sym.testing.bugs import BUGS_BY_NAME

MODULES = {"canonical": timeouts, "episode-start": episode_start, "discount": discount}


@pytest.mark.parametrize(
    ("convention", "name", "diagnosis"),
    [
        pytest.param(c, name, d, id=f"{c}:{name}")
        for c, module in MODULES.items()
        for name, d in module.EXPECTED.items()
    ],
)
def test_new_conventions_and_diagnoses(convention, name, diagnosis):
    result = verify(getattr(MODULES[convention], name), convention, max_examples=60)
    assert result.passed == (diagnosis is None)
    named = result.diagnosis.bug.name if result.diagnosis else ""
    assert named == (diagnosis or "")


def test_episode_start_inputs_are_the_flags_of_the_step_before():
    traj = segment([1.0, 1.0, 1.0], [0.1, 0.2, 0.3], 0.4, gamma=0.9, lam=0.8, terminated=[0, 1, 0])
    inputs = named_inputs(traj, "episode-start")
    # step 1 ended the episode, so s_2 began one: dones = [start flag, done_0, done_1]
    assert inputs["dones"].tolist() == [0.0, 0.0, 1.0]
    assert inputs["next_done"] == 0.0 and inputs["next_value"] == 0.4
    ended = segment([1.0], [0.1], 0.4, gamma=0.9, lam=0.8, terminated=[1])
    assert named_inputs(ended, "episode-start")["next_done"] == 1.0


def test_discount_inputs_fold_termination_into_the_discount():
    traj = segment([1.0, 1.0], [0.1, 0.2], 0.4, gamma=0.9, lam=0.8, terminated=[1, 0])
    inputs = named_inputs(traj, "discount")
    assert inputs["discounts"].tolist() == [0.0, 0.9]
    assert inputs["values"].tolist() == [0.1, 0.2, 0.4]  # T + 1 values


def test_episode_start_fix_is_written_in_its_own_names():
    result = verify(episode_start.reads_dones_t, "episode-start", max_examples=20)
    assert "dones[t + 1]" in result.diagnosis.bug.fix and "masks" not in result.diagnosis.bug.fix


@pytest.mark.parametrize(
    ("name", "bug"),
    [
        ("bad_masks", "advantage-zeroed-at-truncation"),
        ("timeout_bonus_from_current_value", "timeout-bootstrap-from-current-value"),
        ("done_is_termination", "truncation-treated-as-termination"),
    ],
)
def test_truncation_counterexamples_keep_the_values_that_tell_the_bugs_apart(name, bug):
    # Shrunk with V = 0 the three give the same numbers; the counterexample shown must not.
    result = verify(getattr(timeouts, name), "canonical", max_examples=60)
    assert result.diagnosis.bug.name == bug
    example = result.counterexample
    assert example.traj.truncated.any()
    assert np.any(example.traj.values != 0), "values = [0] cannot tell these bugs apart"
    others = {"advantage-zeroed-at-truncation", "timeout-bootstrap-from-current-value"}
    others |= {"truncation-treated-as-termination"}
    others.discard(bug)
    for other in others:
        predicted = BUGS_BY_NAME[other].compute(example.traj)
        assert not np.allclose(predicted, example.got), other
    np.testing.assert_allclose(BUGS_BY_NAME[bug].compute(example.traj), example.got)
    assert "tell" in example.label


def test_raises_at_zero_discount_is_not_called_float32():
    result = verify(timeouts.discount_series, "canonical", max_examples=30)
    assert result.diagnosis.bug.name == "raises-at-zero-gamma-lambda"
    assert result.counterexample.traj.gamma * result.counterexample.traj.lam == 0
    assert "raises at γλ = 0" in result.report()


def test_raising_elsewhere_is_not_raises_at_zero():
    def raises_on_long(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        if len(rewards) > 5:
            raise ValueError("too long")
        return timeouts.correct(
            rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam
        )

    result = verify(raises_on_long, "canonical", max_examples=20)
    assert not result.passed
    assert result.diagnosis is None or result.diagnosis.bug.name != "raises-at-zero-gamma-lambda"


# --- layouts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "layout"),
    [
        (layouts.time_major, "T"),
        (layouts.time_major, "T,N"),
        (layouts.time_major, "time-major"),
        (layouts.time_major, "T,N,1"),
        (layouts.batch_major, "N,T"),
        (layouts.batch_major, "batch-major"),
        (layouts.batch_major, "N,T,1"),
    ],
)
def test_every_layout_passes_a_function_written_for_it(func, layout):
    result = verify(func, "canonical", layout=layout, max_examples=40)
    assert result.passed, result.report()
    assert result.as_dict()["layout"] in ("T", "T,N", "T,N,1", "N,T", "N,T,1")


@pytest.mark.parametrize(
    ("func", "layout"),
    [(layouts.time_major, "N,T"), (layouts.time_major, "N,T,1"), (layouts.batch_major, "T,N")],
)
def test_a_function_right_for_one_layout_only_fails_the_other(func, layout):
    result = verify(func, "canonical", layout=layout, max_examples=40)
    assert not result.passed
    example = result.counterexample
    assert example.index is not None or "shape" in (example.error or "")
    # the counterexample is shown in the layout the function was given
    shape = np.asarray(example.as_dict(result.plan)["inputs"]["rewards"]).shape
    assert len(shape) == len(layout.split(","))


def test_batched_edge_cases_have_one_done_pattern_per_column():
    from gae_sym.testing.trajectories import batched, edge_cases

    _, traj = dict(edge_cases("canonical"))["termination then truncation"], None
    traj = dict(edge_cases("canonical"))["termination then truncation"]
    wide = batched(traj, "canonical")
    assert wide.rewards.shape == (traj.length, 3)
    patterns = {tuple(wide.done[:, c]) for c in range(3)}
    assert len(patterns) == 3


# --- outputs --------------------------------------------------------------------------------


def test_returns_output():
    assert verify(lecture.returns_instead_of_advantages, "lecture", output="returns").passed
    wrong = verify(lecture.compute_gae, "lecture", output="returns", max_examples=20)
    assert wrong.diagnosis.bug.name == "advantages-instead-of-returns"


def test_tuple_outputs_are_each_compared():
    def both(rewards, values, next_value, gamma, lam):
        advantages = np.asarray(lecture.compute_gae(rewards, values, next_value, gamma, lam))
        return advantages, advantages + values

    assert verify(both, "lecture", output="advantages,returns", max_examples=20).passed
    swapped = verify(both, "lecture", output="returns,advantages", max_examples=20)
    assert not swapped.passed and swapped.counterexample.index[0] in (0, 1)


# --- --args ---------------------------------------------------------------------------------


def torchrl_like(
    gamma, lmbda, state_value, next_state_value, reward, done, terminated=None, *, time_dim=-2
):
    """TorchRL's signature: γ, λ first, keyword-only time_dim, (N, T, 1) arrays."""
    assert time_dim == -2
    return layouts.batch_major(
        reward,
        state_value,
        next_state_value,
        terminated,
        done & ~terminated,
        gamma=gamma,
        lam=lmbda,
    )


TORCHRL_ARGS = "values=state_value,next_values=next_state_value,rewards=reward,lam=lmbda"


def test_args_map_the_functions_own_names_keyword_only_included():
    plan = plan_call(torchrl_like, "canonical", "numpy", args=TORCHRL_ARGS, layout="N,T,1")
    assert dict((p, n) for n, p in plan.keywords)["state_value"] == "values"
    result = verify(torchrl_like, "canonical", args=TORCHRL_ARGS, layout="N,T,1", max_examples=30)
    assert result.passed, result.report()


def test_args_reach_keyword_only_and_positional_only_parameters():
    def odd(r, v, nv, /, term, trunc, *, discount, trace):
        return layouts.time_major(r, v, nv, term, trunc, gamma=discount, lam=trace)

    mapping = "rewards=r,values=v,next_values=nv,terminated=term,truncated=trunc,"
    mapping += "gamma=discount,lam=trace"
    assert verify(odd, "canonical", args=mapping, max_examples=20).passed


def test_without_args_a_foreign_signature_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="--args"):
        plan_call(torchrl_like, "canonical", "numpy")


def test_a_defaulted_parameter_is_never_left_to_its_default():
    # by name, lmbda=0.95 would keep its default: the positional order passes λ instead
    def gae(rewards, values, next_value, gamma=0.99, lmbda=0.95):
        return lecture.compute_gae(rewards, values, next_value, gamma, lmbda)

    plan = plan_call(gae, "lecture", "numpy")
    assert "lam" in plan.positional
    assert verify(gae, "lecture", max_examples=20).passed


# --- precision ------------------------------------------------------------------------------


def test_gamma_rounded_to_float32_passes_with_a_precision_warning():
    result = verify(layouts.gamma_rounded_to_float32, "canonical", max_examples=30)
    assert result.passed
    assert result.precision.source.name == "gamma-rounded-to-float32"
    assert "np.zeros_like" in result.precision_warning  # a numpy function: a numpy fix
    assert "precision warning" in result.report()
    assert result.as_dict()["precision_warning"] == result.precision_warning


def test_strict_precision_makes_it_a_failure():
    result = verify(
        layouts.gamma_rounded_to_float32, "canonical", max_examples=30, strict_precision=True
    )
    assert not result.passed
    assert result.diagnosis.bug.name == "gamma-rounded-to-float32"
    assert result.counterexample.index is not None


def test_float32_inputs_have_no_precision_warning():
    result = verify(layouts.gamma_rounded_to_float32, "canonical", dtype="float32", max_examples=30)
    assert result.passed and result.precision is None


def test_torch_code_gets_a_torch_fix():
    pytest.importorskip("torch")
    result = verify(layouts.torch_int_mask, "canonical", input_type="torch", max_examples=20)
    assert result.passed and result.precision is not None
    assert "torch" in result.precision_warning and "np.zeros" not in result.precision_warning


def test_float32_buffer_is_a_warning_not_a_bug():
    result = verify(lecture.float32_buffer, "lecture", max_examples=30)
    assert result.passed and result.precision is not None


def test_a_logic_bug_under_float32_rounding_is_still_the_logic_bug():
    result = verify(layouts.gamma_rounded_and_carry_unmasked, "canonical", max_examples=30)
    assert not result.passed
    assert result.diagnosis.bug.name == "done-mask-missing-in-carry"


def test_right_only_for_float64_is_caught_with_float32_inputs():
    assert verify(layouts.float16_when_float32, "canonical", max_examples=20).passed
    result = verify(layouts.float16_when_float32, "canonical", dtype="float32", max_examples=30)
    assert not result.passed and result.counterexample.index is not None
    assert result.precision is None  # float16 errors are not float32 rounding


def test_right_on_the_edge_cases_only_is_caught_by_generated_cases():
    result = verify(layouts.right_on_two_decimals_only, "canonical", max_examples=30)
    assert not result.passed and result.failed_edge_cases == []
    assert result.counterexample.label.startswith("generated by hypothesis")


# --- assert_gae_matches with the new options --------------------------------------------------


def test_assert_gae_matches_takes_the_new_options():
    result = assert_gae_matches(
        layouts.batch_major, "canonical", layout="N,T,1", output="advantages", max_examples=10
    )
    assert result.passed and result.plan.layout == "N,T,1"
    with pytest.raises(AssertionError, match="advantages-instead-of-returns"):
        assert_gae_matches(lecture.compute_gae, "lecture", output="returns", max_examples=10)


def test_episode_start_by_torch_acs_mask_names():
    def torch_ac_style(rewards, values, masks, next_value, next_mask, gamma, lam):
        dones = 1 - np.asarray(masks)
        return episode_start.correct(rewards, values, dones, next_value, 1 - next_mask, gamma, lam)

    assert verify(torch_ac_style, "episode-start", layout="T,N", max_examples=20).passed


def test_untraceable_jax_code_runs_unjitted_and_says_so():
    pytest.importorskip("jax")

    def python_branch(rewards, discounts, lam, values):
        if lam == 0:  # needs a concrete λ: cannot be traced
            return discount.correct(rewards, discounts, 0.0, values)
        return discount.correct(np.asarray(rewards), np.asarray(discounts), lam, values)

    result = verify(python_branch, "discount", input_type="jax", max_examples=10)
    assert result.passed, result.report()
    assert any("un-jitted" in note for note in result.notes)


def test_jax_float64_is_scoped_to_the_run():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    result = verify(discount.correct, "discount", input_type="jax", max_examples=5)
    assert result.passed
    assert jax.config.jax_enable_x64 == before
    assert before or jnp.zeros(1).dtype == jnp.float32


def test_a_broken_progress_callback_never_changes_the_verdict():
    # It once ended the hypothesis search early and silently: a pass on fewer cases.
    def broken(done, total):
        if done > 20:
            raise ModuleNotFoundError("No module named 'tqdm'")

    result = verify(lecture.compute_gae, "lecture", max_examples=60, progress=broken)
    assert result.passed and result.examples == result.edge_cases + 60
    assert any("progress display stopped" in note for note in result.notes)
    caught = verify(lecture.next_value_not_updated, "lecture", max_examples=60, progress=broken)
    assert not caught.passed


def test_strict_precision_names_a_float32_result_too():
    # A float32 result of float64 inputs (SB3's buffers): no model reproduces it exactly.
    def float32_result(rewards, values, next_values, terminated, truncated, *, gamma, lam):
        out = layouts.time_major(
            rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam
        )
        return out.astype(np.float32)

    loose = verify(float32_result, "canonical", max_examples=20)
    assert loose.passed and loose.precision.result_dtype == "float32"
    strict = verify(float32_result, "canonical", max_examples=20, strict_precision=True)
    assert not strict.passed
    assert strict.diagnosis.bug.name in ("float32-precision", "float32-accumulation")
    assert "np.zeros_like" in strict.diagnosis.bug.fix
