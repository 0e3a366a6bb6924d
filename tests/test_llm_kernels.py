"""numeric.llm kernels against SymPy oracles built from gae_sym.llm_estimators, and the
compaction property (skip-masked GAE = GAE on the compacted response) on random masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import lambdify

from gae_sym.llm_estimators import group_instance, masked_gae_instance
from numeric.llm import (
    broadcast,
    drgrpo_advantage,
    grpo_advantage,
    reinforce_pp_returns,
    rloo_advantage,
    token_gae,
    whiten,
)

torch = pytest.importorskip("torch")
try:
    import jax.numpy as jnp
except ImportError:  # the JAX kernels are then not checked here (the jax extra)
    jnp = None

FAST = settings(max_examples=25, deadline=None)
floats = st.floats(-2, 2, allow_nan=False, width=32)
unit = st.sampled_from([0.0, 0.5, 0.9, 1.0])


def _oracle_token(rewards, values, mask, gamma, lam):
    out = np.zeros_like(rewards)
    for row in range(rewards.shape[0]):
        rs, vs, adv = masked_gae_instance(tuple(int(x) for x in mask[row]), gamma, lam)
        f = lambdify([*rs, *vs], adv, "math")
        out[row] = f(*rewards[row], *values[row])
    return out


@st.composite
def token_batches(draw):
    b, length = draw(st.integers(1, 3)), draw(st.integers(1, 7))
    r = np.array(draw(st.lists(floats, min_size=b * length, max_size=b * length)))
    v = np.array(draw(st.lists(floats, min_size=b * length, max_size=b * length)))
    m = np.array(draw(st.lists(st.sampled_from([0, 1]), min_size=b * length, max_size=b * length)))
    shape = (b, length)
    return r.reshape(shape), v.reshape(shape), m.reshape(shape)


@FAST
@given(token_batches(), unit, unit)
def test_token_gae_equals_the_sympy_oracle_numpy_and_torch(batch, gamma, lam):
    r, v, m = batch
    expected = _oracle_token(r, v, m, gamma, lam)
    copies = [x.copy() for x in batch]
    adv, ret = token_gae(r, v, m, gamma=gamma, lam=lam)
    np.testing.assert_allclose(adv, expected, atol=1e-9)
    np.testing.assert_allclose(ret, (expected + v) * m, atol=1e-9)
    for before, after in zip(copies, batch, strict=True):
        np.testing.assert_array_equal(before, after)  # inputs never modified
    t_adv, t_ret = token_gae(*(torch.as_tensor(x) for x in batch), gamma=gamma, lam=lam)
    np.testing.assert_allclose(t_adv.numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(t_ret.numpy(), (expected + v) * m, atol=1e-9)
    if jnp is not None:  # float32 unless x64 is on
        # One shape for every example (JAX compiles per shape): masked columns after the
        # end and extra rows change nothing in the original ones.
        padded = [np.zeros((3, 7)) for _ in batch]
        for big, x in zip(padded, batch, strict=True):
            big[: x.shape[0], : x.shape[1]] = x
        j_adv, j_ret = token_gae(*(jnp.asarray(x) for x in padded), gamma=gamma, lam=lam)
        keep = (slice(0, r.shape[0]), slice(0, r.shape[1]))
        np.testing.assert_allclose(np.asarray(j_adv)[keep], expected, atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(
            np.asarray(j_ret)[keep], (expected + v) * m, atol=1e-4, rtol=1e-4
        )


@FAST
@given(token_batches(), unit, unit)
def test_skip_mask_equals_gae_on_the_compacted_response(batch, gamma, lam):
    r, v, m = batch
    adv, _ = token_gae(r, v, m, gamma=gamma, lam=lam)
    for row in range(r.shape[0]):
        keep = m[row] == 1
        cr, cv = r[row][keep][None], v[row][keep][None]
        compact, _ = token_gae(cr, cv, np.ones_like(cr), gamma=gamma, lam=lam)
        np.testing.assert_allclose(adv[row][keep], compact[0], atol=1e-9)
        assert np.all(adv[row][~keep] == 0)


def test_terminal_reward_at_gamma_lambda_one_is_r_minus_v():
    v = np.array([[0.0, 0.3, -0.2, 0.5, 9.0, 9.0]])
    m = np.array([[0, 1, 1, 1, 0, 0]])  # prompt, three response tokens, padding
    r = np.array([[0.0, 0.0, 0.0, 2.0, 0.0, 0.0]])
    adv, ret = token_gae(r, v, m, gamma=1.0, lam=1.0)
    np.testing.assert_allclose(adv[0, 1:4], 2.0 - v[0, 1:4])  # the padding value 9 unused
    np.testing.assert_allclose(ret[0, 1:4], 2.0)


def test_dtypes_follow_the_inputs_and_ints_become_float64():
    m = np.ones((2, 3), dtype=np.int64)
    adv, _ = token_gae(np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32), m, gamma=1, lam=1)
    assert adv.dtype == np.float32
    adv, _ = token_gae(np.ones((2, 3), int), np.zeros((2, 3), int), m, gamma=1, lam=1)
    assert adv.dtype == np.float64
    t = token_gae(torch.ones(2, 3), torch.zeros(2, 3), torch.ones(2, 3), gamma=1, lam=1)[0]
    assert t.dtype == torch.float32
    g = grpo_advantage(torch.tensor([1.0, 2.0]), torch.tensor([0, 0]))
    assert g.dtype == torch.float32 and not g.requires_grad


@pytest.mark.parametrize(
    "call, error, words",
    [
        (
            lambda: token_gae(np.ones(3), np.ones(3), np.ones(3), gamma=1, lam=1),
            ValueError,
            "(B, L)",
        ),
        (
            lambda: token_gae(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 3)), gamma=1, lam=1),
            ValueError,
            "same shape",
        ),
        (
            lambda: token_gae(np.ones((1, 2)), np.ones((1, 2)), np.array([[0, 2]]), gamma=1, lam=1),
            ValueError,
            "only 0 and 1",
        ),
        (
            lambda: token_gae(np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2)), gamma=1.5, lam=1),
            ValueError,
            "gamma",
        ),
        (
            lambda: token_gae(np.ones((1, 2)), torch.ones(1, 2), np.ones((1, 2)), gamma=1, lam=1),
            TypeError,
            "torch",
        ),
        (lambda: grpo_advantage(np.ones(3), np.array([0.0, 0.0, 1.0])), TypeError, "integers"),
        (lambda: grpo_advantage(np.ones(3), np.array([0, 0])), ValueError, "shape"),
        (lambda: grpo_advantage(np.ones(3), np.array([0, 0, 1]), std="sample"), ValueError, "std"),
        (lambda: grpo_advantage(np.ones(3), np.array([0, 0, 1]), eps=-1), ValueError, "eps"),
        (lambda: whiten(np.ones((1, 2)), np.array([[1, 0]])), ValueError, "at least 2"),
    ],
)
def test_bad_inputs_get_a_clear_error(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


@st.composite
def groups(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    ids, scores = [], []
    for g, size in enumerate(sizes):
        ids += [g * 7 + 3] * size  # ids need not be 0..G-1
        scores += draw(st.lists(floats, min_size=size, max_size=size))
    order = draw(st.permutations(range(len(ids))))
    return np.array(scores)[order], np.array(ids)[order]


def _oracle_group(scores, ids, name):
    out = np.zeros_like(scores)
    for g in np.unique(ids):
        where = np.flatnonzero(ids == g)
        rs, adv = group_instance(len(where), name)
        out[where] = lambdify(rs, adv, "math")(*scores[where])
    return out


@FAST
@given(groups())
def test_group_estimators_equal_the_sympy_oracles(batch):
    scores, ids = batch
    kernels = {
        "grpo-unbiased": lambda s, g: grpo_advantage(s, g, std="unbiased"),
        "grpo-biased": lambda s, g: grpo_advantage(s, g, std="biased"),
        "drgrpo": drgrpo_advantage,
        "rloo": rloo_advantage,
    }
    for name, kernel in kernels.items():
        expected = _oracle_group(scores, ids, name)
        np.testing.assert_allclose(kernel(scores, ids), expected, atol=1e-6, err_msg=name)
        got = kernel(torch.as_tensor(scores), torch.as_tensor(ids)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=name)
        if jnp is not None:
            # One shape for every example: padded with a group of its own to 16 samples.
            pad = 16 - len(scores)
            s16 = np.concatenate([scores, np.zeros(pad)])
            i16 = np.concatenate([ids, np.full(pad, ids.max() + 1)])
            got = np.asarray(kernel(jnp.asarray(s16), jnp.asarray(i16)))[: len(scores)]
            # float32 (x64 off): centring loses ~eps |s|, then GRPO divides by the group's
            # spread, so nearly equal scores amplify that rounding by |s| / std.
            spreads = [np.std(scores[ids == g]) for g in np.unique(ids)]
            spread = min([x for x in spreads if x > 0], default=1.0)
            eps = np.finfo(np.float32).eps
            atol = 1e-4 + 8 * eps * float(np.max(np.abs(scores))) / min(spread, 1.0)
            np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-4, err_msg=name)


def test_rloo_is_k_over_k_minus_1_times_drgrpo_and_groups_sum_to_zero():
    scores = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 2.0, -1.0])
    ids = np.array([0, 0, 0, 0, 1, 1, 1])
    rloo, dr = rloo_advantage(scores, ids), drgrpo_advantage(scores, ids)
    np.testing.assert_allclose(rloo[:4], 4 / 3 * dr[:4])
    np.testing.assert_allclose(rloo[4:], 3 / 2 * dr[4:])
    for g in (0, 1):
        assert abs(rloo[ids == g].sum()) < 1e-12 and abs(dr[ids == g].sum()) < 1e-12


def test_biased_and_unbiased_std_differ_by_sqrt_k_over_k_minus_1():
    scores, ids = np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(4, dtype=int)
    ub = grpo_advantage(scores, ids, eps=0.0)
    b = grpo_advantage(scores, ids, eps=0.0, std="biased")
    np.testing.assert_allclose(b, ub * np.sqrt(4 / 3))


def test_whitening_uses_response_tokens_only_and_reinforce_pp_returns():
    x = np.array([[1.0, 2.0, 100.0], [3.0, -50.0, 4.0]])
    m = np.array([[1, 1, 0], [1, 0, 1]])
    out = whiten(x, m, eps=0.0)
    kept = np.array([1.0, 2.0, 3.0, 4.0])
    expected = (kept - kept.mean()) / kept.std(ddof=1)
    np.testing.assert_allclose(out[m == 1], expected)
    assert np.all(out[m == 0] == 0)
    r = np.array([[0.0, 1.0, 0.0, 2.0]])
    mk = np.array([[1, 1, 0, 1]])
    skip = reinforce_pp_returns(r, mk, gamma=0.5, mask_mode="skip")
    np.testing.assert_allclose(skip, [[1.0, 2.0, 0.0, 2.0]])
    # verl's default: the running return is reset at the masked token.
    np.testing.assert_allclose(reinforce_pp_returns(r, mk, gamma=0.5), [[0.5, 1.0, 0.0, 2.0]])
    np.testing.assert_allclose(broadcast(np.array([2.0]), mk), [[2.0, 2.0, 0.0, 2.0]])


def test_jax_forms_match_numpy_also_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    r, v = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    m = np.array([[0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 0, 0]], dtype=float)
    expected = token_gae(r, v, m, gamma=0.9, lam=0.8)
    f = jax.jit(lambda a, b, c: token_gae(a, b, c, gamma=0.9, lam=0.8))
    for got in (
        token_gae(jnp.asarray(r), jnp.asarray(v), jnp.asarray(m), gamma=0.9, lam=0.8),
        f(jnp.asarray(r), jnp.asarray(v), jnp.asarray(m)),
    ):
        for e, g in zip(expected, got, strict=True):
            np.testing.assert_allclose(np.asarray(g), e, rtol=1e-5, atol=1e-5)
    scores = np.array([1.0, 0.0, 0.5, 2.0, 1.5, 0.3])
    ids = np.array([4, 4, 9, 4, 9, 1])
    for kernel in (grpo_advantage, drgrpo_advantage, rloo_advantage):
        got = jax.jit(kernel)(jnp.asarray(scores), jnp.asarray(ids))
        np.testing.assert_allclose(np.asarray(got), kernel(scores, ids), rtol=1e-5, atol=1e-5)


def test_no_public_function_writes_into_or_returns_its_inputs_on_any_backend():
    rng = np.random.default_rng(11)
    r, v = rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)
    m = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 0, 0, 0, 1]], dtype=np.float32)
    scores, ids = rng.normal(size=6).astype(np.float32), np.array([2, 2, 5, 5, 5, 9])
    backends = [np.asarray, torch.as_tensor]
    for to in backends:
        arrays = [to(x.copy()) for x in (r, v, m, scores, ids)]
        before = [_plain(x).copy() for x in arrays]
        tr, tv, tm, ts, ti = arrays
        outputs = [
            *token_gae(tr, tv, tm, gamma=0.9, lam=0.8),
            reinforce_pp_returns(tr, tm, gamma=0.9),
            reinforce_pp_returns(tr, tm, gamma=0.9, mask_mode="skip"),
            whiten(tr, tm),
            broadcast(ts[:3], tm),
            grpo_advantage(ts, ti),
            grpo_advantage(ts, ti, std="biased"),
            drgrpo_advantage(ts, ti),
            rloo_advantage(ts, ti),
        ]
        for x, old in zip(arrays, before, strict=True):
            np.testing.assert_array_equal(_plain(x), old)
        for out in outputs:
            assert out.dtype == tr.dtype  # float32 in, float32 out
            for x in arrays:
                assert not np.shares_memory(_plain(out), _plain(x))


def _plain(x):
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
