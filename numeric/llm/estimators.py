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
JAX out (``lax.scan`` and segment sums, jit-able; γ, λ, eps and std are static Python
values). The output dtype is the float dtype of the inputs (integers count as float64);
inputs are never modified.

This module only validates and dispatches: every arithmetic expression runs in the kernels of
``numeric/llm/kernels/`` (``numpy_llm``, ``torch_llm``, ``jax_llm``), printed by ``gae-sym
codegen`` from the SymPy definitions of ``gae_sym.llm_estimators`` and tested against SymPy
oracles built from them (``tests/test_llm_kernels.py``). References: verl
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


def _kernels(backend: str):
    """The generated kernel module of ``backend`` (imported on first use)."""
    from importlib import import_module

    return import_module(f"numeric.llm.kernels.{backend}_llm")


def _check_binary_jax(mask) -> None:
    import jax

    if isinstance(mask, jax.core.Tracer):
        return  # under jit the values are not known; the shape and dtype were checked
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("response_mask must hold only 0 and 1")


def _jax_float(*arrays):
    import jax
    import jax.numpy as jnp

    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    return dtype


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


def _shapes_agree(shapes) -> None:
    if len(shapes[0]) != 2:
        raise ValueError(f"token_level_rewards must have shape (B, L), got {shapes[0]}")
    if shapes[1] != shapes[0] or shapes[2] != shapes[0]:
        raise ValueError(
            "token_level_rewards, values and response_mask must have the same shape (B, L), "
            f"got {shapes[0]}, {shapes[1]}, {shapes[2]}"
        )


def _token_inputs(rewards, values, mask):
    """(rewards, values, mask) as arrays of one float dtype, validated; the backend name."""
    jax_in = [_is_jax(x) for x in (rewards, values, mask)]
    if any(jax_in):
        if not all(jax_in):
            raise TypeError("pass all jax arrays or none (token_level_rewards, values, mask)")
        _shapes_agree([tuple(x.shape) for x in (rewards, values, mask)])
        _check_binary_jax(mask)
        dtype = _jax_float(rewards, values)
        return (*(x.astype(dtype) for x in (rewards, values, mask)), "jax")
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
    _shapes_agree(shapes)
    m = arrays[2]
    binary = ((m == 0) | (m == 1)).all()
    if not bool(binary):
        raise ValueError("response_mask must hold only 0 and 1")
    return (*arrays, "torch" if all(torch_in) else "numpy")


def _group_inputs(scores, group_ids):
    """(scores as floats, integer group ids, backend name), validated."""
    if _is_jax(scores):
        import jax.numpy as jnp

        ids = group_ids if _is_jax(group_ids) else jnp.asarray(np.asarray(group_ids))
        if scores.ndim != 1 or tuple(ids.shape) != tuple(scores.shape):
            raise ValueError(
                f"scores and group_ids must have the same shape (B,), got {scores.shape}, "
                f"{ids.shape}"
            )
        if not jnp.issubdtype(ids.dtype, jnp.integer):
            raise TypeError(f"group_ids must be integers, got {ids.dtype}")
        return scores.astype(_jax_float(scores)), ids, "jax"
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
    return values, ids, "torch" if torch_in else "numpy"


def _no_grad(backend: str):
    """torch.no_grad() for torch (advantages are targets, never differentiated), else nothing."""
    if backend == "torch":
        import torch

        return torch.no_grad()
    from contextlib import nullcontext

    return nullcontext()


# --- token level -------------------------------------------------------------------------


def token_gae(token_level_rewards, values, response_mask, *, gamma, lam):
    """Skip-masked token-level GAE: (advantages, returns), each ``(B, L)``.

    Scanning t = L−1 … 0 with carries V_next = A_next = 0::

        δ_t = r_t + γ V_next − V_t,   A_t = δ_t + γλ A_next          (mask 1)
        V_next ← m_t V_t + (1 − m_t) V_next,  A_next ← m_t A_t + (1 − m_t) A_next

    Advantages are A_t on response tokens and 0 elsewhere; returns = advantages + values on
    response tokens (0 elsewhere), before any whitening. Equals GAE on the compacted
    response (theorem token-gae-masked; verl's multi-turn ``compute_gae_advantage_return``).
    Runs ``token_gae_kernel`` of the generated ``numeric.llm.kernels`` module of the inputs'
    backend.
    """
    gamma, lam = _unit("gamma", gamma), _unit("lam", lam)
    r, v, m, backend = _token_inputs(token_level_rewards, values, response_mask)
    with _no_grad(backend):
        return _kernels(backend).token_gae_kernel(r, v, m, gamma, lam)


MASK_MODES = ("reset", "skip")


def reinforce_pp_returns(token_level_rewards, response_mask, *, gamma, mask_mode="reset"):
    """REINFORCE++ before whitening: the discounted return-to-go G_t = r_t + γ G_next over a
    response, ``(B, L)``, reported 0 on masked tokens. Whiten it with ``whiten`` (verl:
    ``masked_whiten``, unbiased variance) to get REINFORCE++'s advantages.

    ``mask_mode`` says what a masked token (m_t = 0) does to the running return G_next:

    * ``"reset"`` (the default, what verl's ``compute_reinforce_plus_plus_outcome_advantage``
      does): after G_t is computed at a masked token, G_next ← m_t G_t = 0, so a response
      token before an observation gap sees only the rewards up to the gap (verl stores
      r_t + γ G_next on the masked token itself; here it is reported as 0);
    * ``"skip"``: G_next ← m_t G_t + (1 − m_t) G_next, the carry passes through masked tokens
      unchanged (token GAE's convention, = ``token_gae`` at λ = 1 with V = 0): each response
      token gets the return-to-go of the compacted response, discounted once per response
      token.

    In both modes the reward on a masked token reaches no response token. The two agree
    whenever every masked token comes after the last response token of its row (single-turn
    padding), since then the carry is 0 there either way. OpenRLHF's ``get_cumulative_returns``
    zeroes masked rewards and never resets: it discounts once per *position*, so it equals
    ``"skip"`` at γ = 1 (or with trailing padding only) and neither mode otherwise.
    """
    gamma = _unit("gamma", gamma)
    if mask_mode not in MASK_MODES:
        raise ValueError(f"mask_mode must be one of {', '.join(MASK_MODES)}, got {mask_mode!r}")
    rewards = token_level_rewards
    # V = 0 only to share token_gae's validation; the kernels never read it.
    if _is_jax(rewards) or _is_torch(rewards):
        zeros = rewards * 0
    else:
        zeros = np.zeros_like(np.asarray(rewards))
    r, _, m, backend = _token_inputs(rewards, zeros, response_mask)
    kernels = _kernels(backend)
    kernel = (
        kernels.return_to_go_reset_kernel
        if mask_mode == "reset"
        else kernels.return_to_go_skip_kernel
    )
    with _no_grad(backend):
        return kernel(r, m, gamma)


def whiten(x, response_mask, *, eps=1e-8, unbiased=True):
    """(x − mean)/sqrt(var + eps) over the response tokens of the batch; 0 elsewhere.

    mean and var are taken over mask = 1 only (var with n − 1 when ``unbiased``, verl's
    ``masked_whiten`` default). With fewer than two response tokens the unbiased variance
    is undefined and a ValueError is raised (outside ``jax.jit``; under it the count is a
    tracer and the result is NaN, as in verl)."""
    eps = _eps(eps)
    backend = "jax" if _is_jax(x) else "torch" if _is_torch(x) else "numpy"
    mask_backend = (
        "jax" if _is_jax(response_mask) else "torch" if _is_torch(response_mask) else "numpy"
    )
    if backend != mask_backend:
        raise TypeError("pass x and response_mask both as torch tensors, jax arrays or arrays")
    if backend == "jax":
        values = x.astype(_jax_float(x))
        mask = response_mask.astype(values.dtype)
        _check_binary_jax(mask)
    elif backend == "torch":
        import torch

        dtype = x.dtype if x.dtype.is_floating_point else torch.float64
        values, mask = x.to(dtype), response_mask.to(dtype)
    else:
        values = _as_numpy("x", x)
        values = values.astype(_float_dtype_numpy(values))
        mask = _as_numpy("response_mask", response_mask).astype(values.dtype)
    if tuple(values.shape) != tuple(mask.shape):
        raise ValueError(f"x and response_mask differ in shape: {values.shape}, {mask.shape}")
    if backend != "jax" or not _is_tracer(mask):
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("response_mask must hold only 0 and 1")
        count = float(mask.sum())
        if count < (2 if unbiased else 1):
            raise ValueError(f"whitening needs at least {2 if unbiased else 1} response tokens")
    with _no_grad(backend):
        return _kernels(backend).whiten_kernel(values, mask, eps, unbiased)


def _is_tracer(x) -> bool:
    import jax

    return isinstance(x, jax.core.Tracer)


def broadcast(advantages, response_mask):
    """A[b, t] = a_b · m[b, t]: a per-response advantage spread over its response tokens."""
    if _is_jax(advantages):
        return _kernels("jax").broadcast_kernel(advantages, response_mask.astype(advantages.dtype))
    if _is_torch(advantages):
        return _kernels("torch").broadcast_kernel(advantages, response_mask.to(advantages.dtype))
    a = np.asarray(advantages)
    return _kernels("numpy").broadcast_kernel(a, np.asarray(response_mask, dtype=a.dtype))


# --- group level -------------------------------------------------------------------------


def _run_group(scores, group_ids, kernel: str, *args):
    values, ids, backend = _group_inputs(scores, group_ids)
    if values.shape[0] == 0:
        return values * 0
    with _no_grad(backend):
        return getattr(_kernels(backend), kernel)(values, ids, *args)


def grpo_advantage(scores, group_ids, *, eps=1e-6, std="unbiased"):
    """GRPO: (r_i − mean_g)/(std_g + eps), ``(B,)``.

    ``std="unbiased"``: std_g² = Σ_g (r − mean_g)²/(K − 1) (``torch.std``, verl, TRL);
    ``std="biased"``: /K. A group of one keeps its score: r/(1 + eps) (mean 0, std 1)."""
    eps = _eps(eps)
    if std not in STDS:
        raise ValueError(f"std must be one of {', '.join(STDS)}, got {std!r}")
    return _run_group(scores, group_ids, "grpo_kernel", eps, std == "unbiased")


def drgrpo_advantage(scores, group_ids):
    """Dr. GRPO: r_i − mean_g (no std), ``(B,)``; a group of one keeps its score."""
    return _run_group(scores, group_ids, "drgrpo_kernel")


def rloo_advantage(scores, group_ids):
    """RLOO: r_i − (1/(K−1)) Σ_{j≠i} r_j = K/(K−1)(r_i − mean_g), ``(B,)``; a group of
    one keeps its score (no other sample to compare with)."""
    return _run_group(scores, group_ids, "rloo_kernel")


__all__ = [
    "MASK_MODES",
    "STDS",
    "broadcast",
    "drgrpo_advantage",
    "grpo_advantage",
    "reinforce_pp_returns",
    "rloo_advantage",
    "token_gae",
    "whiten",
]
