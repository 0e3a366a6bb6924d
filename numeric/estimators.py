"""Public estimator functions: validate, then run the kernel.

INTERIM (being replaced by the generated kernels of `gae-sym codegen`): a plain numpy
backward recursion, correct but not generated. Torch tensors go through numpy on the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numeric._validate import (
    check_numpy_inputs,
    check_steps,
    check_unit_interval,
    is_torch_tensor,
)


def _as_numpy(args):
    return [a.detach().cpu().numpy() if is_torch_tensor(a) else a for a in args]


def _like(result: np.ndarray, template: Any):
    if is_torch_tensor(template):
        import torch

        return torch.from_numpy(result).to(template.device)
    return result


def _delta_and_masks(rewards, values, next_values, terminated, truncated, gamma):
    r, v, nv, term, trunc, dtype = check_numpy_inputs(
        *_as_numpy((rewards, values, next_values, terminated, truncated))
    )
    g = dtype.type(gamma)
    delta = r + g * np.where(term, dtype.type(0), nv) - v
    not_done = (~(term | trunc)).astype(dtype)
    return delta, not_done, dtype


def _discounted_cut_sum(delta, not_done, decay):
    out = np.empty_like(delta)
    carry = np.zeros(delta.shape[1:], dtype=delta.dtype)
    for step in range(delta.shape[0] - 1, -1, -1):
        carry = delta[step] + decay * not_done[step] * carry
        out[step] = carry
    return out


def td_error(rewards, values, next_values, terminated, truncated, *, gamma):
    """δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)."""
    gamma = check_unit_interval("gamma", gamma)
    delta, _, _ = _delta_and_masks(rewards, values, next_values, terminated, truncated, gamma)
    return _like(delta, rewards)


def gae(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """A_t = δ_t + γλ (1 − done_t) A_{t+1}, A_T = 0."""
    gamma = check_unit_interval("gamma", gamma)
    lam = check_unit_interval("lam", lam)
    delta, not_done, dtype = _delta_and_masks(
        rewards, values, next_values, terminated, truncated, gamma
    )
    return _like(_discounted_cut_sum(delta, not_done, dtype.type(gamma * lam)), rewards)


def mc_advantage(rewards, values, next_values, terminated, truncated, *, gamma):
    """GAE at λ = 1: Σ_l γ^l δ_{t+l} up to the episode end or the segment end."""
    return gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=1.0)


def lambda_return(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """G^λ_t = A^GAE_t + V(s_t)."""
    adv = gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    return adv + values


def nstep_advantage(rewards, values, next_values, terminated, truncated, *, gamma, n):
    """A^(n)_t = Σ_{l<n} γ^l δ_{t+l}, stopping after the first done and at the segment end."""
    gamma = check_unit_interval("gamma", gamma)
    n = check_steps(n)
    delta, not_done, dtype = _delta_and_masks(
        rewards, values, next_values, terminated, truncated, gamma
    )
    T = delta.shape[0]
    out = delta.copy()
    alive = np.ones_like(delta)
    g = dtype.type(gamma)
    weight = dtype.type(1)
    for lag in range(1, min(n, T)):
        alive[: T - lag] *= not_done[lag - 1 : T - 1]
        alive[T - lag :] = 0
        weight = weight * g
        out[: T - lag] += weight * alive[: T - lag] * delta[lag:]
    return _like(out, rewards)


def compute_gae(rewards, values, next_value, gamma=0.99, lam=0.95):
    """The lecture's ``compute_gae``: one segment, no done inside, bootstrapped with next_value."""
    r = np.asarray(rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    nv = np.append(v[1:], np.float64(next_value))
    flags = np.zeros(r.shape, dtype=bool)
    return gae(r, v, nv, flags, flags, gamma=gamma, lam=lam)
