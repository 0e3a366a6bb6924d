"""The JAX forms of numeric.llm's estimators (jax.Array in, jax.Array out; jit and vmap).

Same conventions as :mod:`numeric.llm.estimators`: token GAE skips masked tokens with a
``lax.scan`` backwards over L; the group estimators use ``jnp.unique(..., size=B)`` and
segment sums, so they trace under ``jax.jit`` with the group ids as data. Under ``jit`` the
mask's values cannot be checked (they are tracers): a mask with values other than 0 and 1
is refused only outside ``jit``. Imported only when a jax.Array is passed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _float(*arrays):
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    return dtype


def _check_binary(mask) -> None:
    if isinstance(mask, jax.core.Tracer):
        return
    if not bool(jnp.all((mask == 0) | (mask == 1))):
        raise ValueError("response_mask must hold only 0 and 1")


def token_gae(rewards, values, mask, gamma: float, lam: float):
    """(advantages, returns), (B, L) each: the skip-masked scan of estimators.token_gae."""
    if rewards.ndim != 2 or values.shape != rewards.shape or mask.shape != rewards.shape:
        raise ValueError(
            "token_level_rewards, values and response_mask must have the same shape (B, L), "
            f"got {rewards.shape}, {values.shape}, {mask.shape}"
        )
    _check_binary(mask)
    dtype = _float(rewards, values)
    r, v, m = (x.astype(dtype) for x in (rewards, values, mask))

    def step(carry, inputs):
        next_value, next_adv = carry
        r_t, v_t, m_t = inputs
        adv = r_t + gamma * next_value - v_t + gamma * lam * next_adv
        carry = (m_t * v_t + (1 - m_t) * next_value, m_t * adv + (1 - m_t) * next_adv)
        return carry, adv * m_t

    zeros = jnp.zeros(r.shape[0], dtype)
    _, adv = jax.lax.scan(step, (zeros, zeros), (r.T, v.T, m.T), reverse=True)
    advantages = adv.T
    return advantages, (advantages + v) * m


def group_stats(scores, group_ids):
    """(count, mean, sum of squared deviations) of each sample's group, per sample."""
    if scores.ndim != 1 or group_ids.shape != scores.shape:
        raise ValueError(
            f"scores and group_ids must have the same shape (B,), got {scores.shape}, "
            f"{group_ids.shape}"
        )
    if not jnp.issubdtype(group_ids.dtype, jnp.integer):
        raise TypeError(f"group_ids must be integers, got {group_ids.dtype}")
    size = scores.shape[0]
    _, inverse = jnp.unique(group_ids, return_inverse=True, size=size)
    inverse = inverse.reshape(-1)
    count = jax.ops.segment_sum(jnp.ones_like(scores), inverse, num_segments=size)
    total = jax.ops.segment_sum(scores, inverse, num_segments=size)
    mean = (total / jnp.maximum(count, 1))[inverse]
    squares = jax.ops.segment_sum((scores - mean) ** 2, inverse, num_segments=size)
    return count[inverse], mean, squares[inverse]


def _scores(scores):
    return scores.astype(_float(scores))


def grpo_advantage(scores, group_ids, eps: float, std: str):
    s = _scores(scores)
    count, mean, squares = group_stats(s, group_ids)
    single = count == 1
    divisor = jnp.where(single, 1, count - 1 if std == "unbiased" else count)
    spread = jnp.where(single, 1, jnp.sqrt(squares / divisor))
    return (s - jnp.where(single, 0, mean)) / (spread + eps)


def drgrpo_advantage(scores, group_ids):
    s = _scores(scores)
    count, mean, _ = group_stats(s, group_ids)
    return s - jnp.where(count == 1, 0, mean)


def rloo_advantage(scores, group_ids):
    s = _scores(scores)
    count, mean, _ = group_stats(s, group_ids)
    safe = jnp.where(count == 1, 2, count)
    others = (mean * safe - s) / (safe - 1)
    return s - jnp.where(count == 1, 0, others)
