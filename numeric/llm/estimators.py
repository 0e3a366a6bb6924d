"""Advantage estimators for RL on language models: token-level GAE and the group estimators.

The contract is ``gae_sym.llm_estimators`` (its docstring states every convention):

* token level, arrays ``(B, L)``: ``token_level_rewards``, ``values``, ``response_mask``
  (1 on generated tokens, 0 on prompt, padding and tool-observation tokens). GAE *skips*
  masked tokens: the carried value and advantage pass through them, so each response token
  gets GAE on the compacted response; the last response token bootstraps from nothing.
  Advantages and returns are 0 on masked tokens; returns = advantages + values, before any
  whitening. ``whiten`` is the explicit, separate step;
* group level: ``scores`` ``(B,)`` and integer ``group_ids`` ``(B,)``; GRPO (biased or
  unbiased std), Dr. GRPO, RLOO; a group of one keeps its score (mean 0, std 1, as in
  verl). ``broadcast`` spreads a per-response advantage over its response tokens.

numpy in, numpy out; torch in, torch out (same device, under ``torch.no_grad()``); JAX in,
JAX out (``numeric.llm.jax_estimators``: ``lax.scan`` and segment sums, jit-able; γ, λ, eps
and std are static Python values). The
output dtype is the float dtype of the inputs (integers count as float64); inputs are never
modified. Written by hand (not printed by ``gae-sym codegen``); tested against SymPy
oracles built from the definitions (``tests/test_llm_kernels.py``). References: verl
(``verl/trainer/ppo/core_algos.py``), Schulman et al. 2016 (GAE), Shao et al. 2024 (GRPO),
Liu et al. 2025 (Dr. GRPO), Ahmadian et al. 2024 (RLOO), Hu 2025 (REINFORCE++).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

STDS = ("unbiased", "biased")


# --- validation --------------------------------------------------------------------------


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _is_jax(x: Any) -> bool:
    return type(x).__module__.split(".")[0] in ("jax", "jaxlib") and hasattr(x, "shape")


def _jax():
    from numeric.llm import jax_estimators

    return jax_estimators


def _unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return value


def _eps(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"eps must be a number >= 0, got {type(value).__name__}")
    if not (math.isfinite(float(value)) and float(value) >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {value}")
    return float(value)


def _float_dtype_numpy(*arrays: np.ndarray) -> np.dtype:
    dtype = np.result_type(*arrays)
    if not np.issubdtype(dtype, np.floating):
        return np.dtype(np.float64)
    return dtype


def _as_numpy(name: str, x: Any) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    return array


def _token_inputs(rewards, values, mask):
    """(rewards, values, mask) as arrays of one float dtype, validated; `torch` flag."""
    torch_in = [_is_torch(x) for x in (rewards, values, mask)]
    if any(torch_in) and not all(torch_in):
        raise TypeError("pass all torch tensors or none (token_level_rewards, values, mask)")
    if all(torch_in):
        import torch

        for name, x in (("token_level_rewards", rewards), ("values", values)):
            if x.dtype == torch.bool or x.is_complex():
                raise TypeError(f"{name} must be real, got {x.dtype}")
        dtype = torch.result_type(rewards, values)
        if not dtype.is_floating_point:
            dtype = torch.float64
        shapes = [tuple(x.shape) for x in (rewards, values, mask)]
        arrays = (rewards.to(dtype), values.to(dtype), mask.to(dtype))
    else:
        rewards, values = _as_numpy("token_level_rewards", rewards), _as_numpy("values", values)
        mask = _as_numpy("response_mask", mask)
        dtype = _float_dtype_numpy(rewards, values)
        shapes = [x.shape for x in (rewards, values, mask)]
        arrays = (rewards.astype(dtype), values.astype(dtype), mask.astype(dtype))
    if len(shapes[0]) != 2:
        raise ValueError(f"token_level_rewards must have shape (B, L), got {shapes[0]}")
    if shapes[1] != shapes[0] or shapes[2] != shapes[0]:
        raise ValueError(
            "token_level_rewards, values and response_mask must have the same shape (B, L), "
            f"got {shapes[0]}, {shapes[1]}, {shapes[2]}"
        )
    m = arrays[2]
    binary = ((m == 0) | (m == 1)).all()
    if not bool(binary):
        raise ValueError("response_mask must hold only 0 and 1")
    return (*arrays, all(torch_in))


def _group_inputs(scores, group_ids):
    torch_in = _is_torch(scores)
    if torch_in:
        import torch

        if scores.dtype == torch.bool or scores.is_complex():
            raise TypeError(f"scores must be real, got {scores.dtype}")
        ids = group_ids if _is_torch(group_ids) else torch.as_tensor(np.asarray(group_ids))
        if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.is_complex():
            raise TypeError(f"group_ids must be integers, got {ids.dtype}")
        dtype = scores.dtype if scores.dtype.is_floating_point else torch.float64
        values = scores.to(dtype)
        ids = ids.to(scores.device)
        shape, id_shape = tuple(scores.shape), tuple(ids.shape)
    else:
        values = _as_numpy("scores", scores)
        values = values.astype(_float_dtype_numpy(values))
        ids = np.asarray(group_ids.cpu() if _is_torch(group_ids) else group_ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"group_ids must be integers, got dtype {ids.dtype}")
        shape, id_shape = values.shape, ids.shape
    if len(shape) != 1:
        raise ValueError(f"scores must have shape (B,), got {shape}")
    if id_shape != shape:
        raise ValueError(f"group_ids must have the shape of scores {shape}, got {id_shape}")
    return values, ids, torch_in


# --- token level -------------------------------------------------------------------------


def token_gae(token_level_rewards, values, response_mask, *, gamma, lam):
    """Skip-masked token-level GAE: (advantages, returns), each ``(B, L)``.

    Scanning t = L−1 … 0 with carries V_next = A_next = 0::

        δ_t = r_t + γ V_next − V_t,   A_t = δ_t + γλ A_next          (mask 1)
        V_next ← m_t V_t + (1 − m_t) V_next,  A_next ← m_t A_t + (1 − m_t) A_next

    Advantages are A_t on response tokens and 0 elsewhere; returns = advantages + values on
    response tokens (0 elsewhere), before any whitening. Equals GAE on the compacted
    response (theorem token-gae-masked; verl's multi-turn ``compute_gae_advantage_return``).
    """
    gamma, lam = _unit("gamma", gamma), _unit("lam", lam)
    if any(_is_jax(x) for x in (token_level_rewards, values, response_mask)):
        if not all(_is_jax(x) for x in (token_level_rewards, values, response_mask)):
            raise TypeError("pass all jax arrays or none (token_level_rewards, values, mask)")
        return _jax().token_gae(token_level_rewards, values, response_mask, gamma, lam)
    r, v, m, torch_in = _token_inputs(token_level_rewards, values, response_mask)
    if torch_in:
        import torch

        with torch.no_grad():
            advantages = torch.zeros_like(r)
            next_value = torch.zeros(r.shape[0], dtype=r.dtype, device=r.device)
            next_adv = torch.zeros_like(next_value)
            for t in range(r.shape[1] - 1, -1, -1):
                delta = r[:, t] + gamma * next_value - v[:, t]
                adv = delta + gamma * lam * next_adv
                keep = m[:, t]
                next_value = keep * v[:, t] + (1 - keep) * next_value
                next_adv = keep * adv + (1 - keep) * next_adv
                advantages[:, t] = adv * keep
            return advantages, (advantages + v) * m
    advantages = np.zeros_like(r)
    next_value = np.zeros(r.shape[0], dtype=r.dtype)
    next_adv = np.zeros_like(next_value)
    for t in range(r.shape[1] - 1, -1, -1):
        delta = r[:, t] + gamma * next_value - v[:, t]
        adv = delta + gamma * lam * next_adv
        keep = m[:, t]
        next_value = keep * v[:, t] + (1 - keep) * next_value
        next_adv = keep * adv + (1 - keep) * next_adv
        advantages[:, t] = adv * keep
    return advantages, (advantages + v) * m


def reinforce_pp_returns(token_level_rewards, response_mask, *, gamma):
    """REINFORCE++ before whitening: G_t = Σ_l γ^l r over the response tokens from t on
    (masked tokens skipped, like ``token_gae`` at λ = 1 with V = 0), 0 on masked tokens.

    verl instead *resets* the running return at every masked token; the two agree when
    the mask only pads the end (single turn)."""
    rewards = token_level_rewards
    zeros = rewards * 0 if _is_torch(rewards) else np.zeros_like(np.asarray(rewards))
    _, returns = token_gae(rewards, zeros, response_mask, gamma=gamma, lam=1.0)
    return returns


def whiten(x, response_mask, *, eps=1e-8, unbiased=True):
    """(x − mean)/sqrt(var + eps) over the response tokens of the batch; 0 elsewhere.

    mean and var are taken over mask = 1 only (var with n − 1 when ``unbiased``, verl's
    ``masked_whiten`` default). With fewer than two response tokens the unbiased variance
    is undefined and a ValueError is raised."""
    eps = _eps(eps)
    torch_in = _is_torch(x)
    if torch_in != _is_torch(response_mask):
        raise TypeError("pass x and response_mask both as torch tensors or both as arrays")
    if torch_in:
        import torch

        dtype = x.dtype if x.dtype.is_floating_point else torch.float64
        values, mask = x.to(dtype), response_mask.to(dtype)
    else:
        values = _as_numpy("x", x)
        values = values.astype(_float_dtype_numpy(values))
        mask = _as_numpy("response_mask", response_mask).astype(values.dtype)
    if tuple(values.shape) != tuple(mask.shape):
        raise ValueError(f"x and response_mask differ in shape: {values.shape}, {mask.shape}")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("response_mask must hold only 0 and 1")
    count = float(mask.sum())
    if count < (2 if unbiased else 1):
        raise ValueError(f"whitening needs at least {2 if unbiased else 1} response tokens")
    mean = (values * mask).sum() / count
    var = (((values - mean) ** 2) * mask).sum() / (count - 1 if unbiased else count)
    scale = (var + eps) ** -0.5
    return (values - mean) * scale * mask


def broadcast(advantages, response_mask):
    """A[b, t] = a_b · m[b, t]: a per-response advantage spread over its response tokens."""
    if _is_torch(advantages):
        return advantages[:, None] * response_mask.to(advantages.dtype)
    a = np.asarray(advantages)
    return a[:, None] * np.asarray(response_mask, dtype=a.dtype)


# --- group level -------------------------------------------------------------------------


def _group_stats(values, ids, torch_in):
    """(count, mean, sum of squared deviations) of each sample's group, per sample."""
    if torch_in:
        import torch

        _, inverse = torch.unique(ids, return_inverse=True)
        groups = int(inverse.max()) + 1 if inverse.numel() else 0
        count = torch.zeros(groups, dtype=values.dtype, device=values.device)
        count.index_add_(0, inverse, torch.ones_like(values))
        total = torch.zeros_like(count).index_add_(0, inverse, values)
        mean = (total / count)[inverse]
        squares = torch.zeros_like(count).index_add_(0, inverse, (values - mean) ** 2)
        return count[inverse], mean, squares[inverse]
    _, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = np.bincount(inverse).astype(values.dtype)
    total = np.bincount(inverse, weights=values).astype(values.dtype)
    mean = (total / count)[inverse]
    squares = np.bincount(inverse, weights=(values - mean) ** 2).astype(values.dtype)
    return count[inverse], mean, squares[inverse]


def _run_group(scores, group_ids, compute, jax_form=None):
    if _is_jax(scores):
        return jax_form(scores, group_ids)
    values, ids, torch_in = _group_inputs(scores, group_ids)
    if values.shape[0] == 0:
        return values * 0
    if torch_in:
        import torch

        with torch.no_grad():
            return compute(values, *_group_stats(values, ids, True), torch_in)
    return compute(values, *_group_stats(values, ids, False), torch_in)


def _where(torch_in, condition, a, b):
    if torch_in:
        import torch

        return torch.where(condition, a, b)
    return np.where(condition, a, b)


def grpo_advantage(scores, group_ids, *, eps=1e-6, std="unbiased"):
    """GRPO: (r_i − mean_g)/(std_g + eps), ``(B,)``.

    ``std="unbiased"``: std_g² = Σ_g (r − mean_g)²/(K − 1) (``torch.std``, verl, TRL);
    ``std="biased"``: /K. A group of one keeps its score: r/(1 + eps) (mean 0, std 1)."""
    eps = _eps(eps)
    if std not in STDS:
        raise ValueError(f"std must be one of {', '.join(STDS)}, got {std!r}")

    def compute(values, count, mean, squares, torch_in):
        single = count == 1
        divisor = count - 1 if std == "unbiased" else count
        safe = _where(torch_in, single, count * 0 + 1, divisor)
        spread = (squares / safe) ** 0.5
        spread = _where(torch_in, single, spread * 0 + 1, spread)
        centre = _where(torch_in, single, mean * 0, mean)
        return (values - centre) / (spread + eps)

    return _run_group(
        scores, group_ids, compute, lambda s, g: _jax().grpo_advantage(s, g, eps, std)
    )


def drgrpo_advantage(scores, group_ids):
    """Dr. GRPO: r_i − mean_g (no std), ``(B,)``; a group of one keeps its score."""

    def compute(values, count, mean, squares, torch_in):
        return values - _where(torch_in, count == 1, mean * 0, mean)

    return _run_group(scores, group_ids, compute, lambda s, g: _jax().drgrpo_advantage(s, g))


def rloo_advantage(scores, group_ids):
    """RLOO: r_i − (1/(K−1)) Σ_{j≠i} r_j = K/(K−1)(r_i − mean_g), ``(B,)``; a group of
    one keeps its score (no other sample to compare with)."""

    def compute(values, count, mean, squares, torch_in):
        single = count == 1
        safe = _where(torch_in, single, count * 0 + 2, count)
        others = (mean * safe - values) / (safe - 1)
        return values - _where(torch_in, single, others * 0, others)

    return _run_group(scores, group_ids, compute, lambda s, g: _jax().rloo_advantage(s, g))


__all__ = [
    "STDS",
    "broadcast",
    "drgrpo_advantage",
    "grpo_advantage",
    "reinforce_pp_returns",
    "rloo_advantage",
    "token_gae",
    "whiten",
]
