"""Batched layouts: the same GAE written for time-major ``(T, N)`` arrays and for
batch-major ``(N, T)`` ones (canonical convention), and precision quirks of real code."""

import numpy as np


def time_major(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Correct for (T,), (T, N) and (T, N, 1): time on axis 0."""
    done = np.asarray(terminated) | np.asarray(truncated)
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    advantages = np.zeros_like(deltas)
    gae = np.zeros_like(deltas[0])
    for t in reversed(range(deltas.shape[0])):
        gae = deltas[t] + gamma * lam * ~done[t] * gae
        advantages[t] = gae
    return advantages


def batch_major(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Correct for (N, T) and (N, T, 1): time on axis 1 (TorchRL's layout)."""
    swap = [np.swapaxes(np.asarray(a), 0, 1) for a in (rewards, values, next_values)]
    flags = [np.swapaxes(np.asarray(a), 0, 1) for a in (terminated, truncated)]
    out = time_major(*swap, *flags, gamma=gamma, lam=lam)
    return np.swapaxes(out, 0, 1)


def gamma_rounded_to_float32(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Right logic, float32 γ: what torch does with ``gamma * (~terminated).int()``."""
    g32, gl32 = float(np.float32(gamma)), float(np.float32(gamma * lam))
    done = np.asarray(terminated) | np.asarray(truncated)
    deltas = rewards + g32 * np.where(terminated, 0.0, next_values) - values
    advantages = np.zeros_like(deltas)
    gae = np.zeros_like(deltas[0])
    for t in reversed(range(deltas.shape[0])):
        gae = deltas[t] + gl32 * ~done[t] * gae
        advantages[t] = gae
    return advantages


def gamma_rounded_and_carry_unmasked(
    rewards, values, next_values, terminated, truncated, *, gamma, lam
):
    """Bug hidden under rounding: float32 γ *and* a carry that runs across episodes."""
    g32, gl32 = float(np.float32(gamma)), float(np.float32(gamma * lam))
    deltas = rewards + g32 * np.where(terminated, 0.0, next_values) - values
    advantages = np.zeros_like(deltas)
    gae = np.zeros_like(deltas[0])
    for t in reversed(range(deltas.shape[0])):
        gae = deltas[t] + gl32 * gae
        advantages[t] = gae
    return advantages


def torch_int_mask(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Right logic in torch, with the float32 γ of a Python float times an int tensor."""
    import torch

    not_terminated = (~terminated).int()
    not_done = (~(terminated | truncated)).int()
    deltas = rewards + gamma * not_terminated * next_values - values
    discount = gamma * lam * not_done
    advantages = torch.empty_like(deltas)
    gae = torch.zeros_like(deltas[0])
    for t in reversed(range(deltas.shape[0])):
        gae = deltas[t] + discount[t] * gae
        advantages[t] = gae
    return advantages


def float16_when_float32(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug, right for float64 inputs only: float32 inputs are computed in float16."""
    if np.asarray(rewards).dtype == np.float32:
        rewards, values, next_values = (
            np.asarray(a, np.float16) for a in (rewards, values, next_values)
        )
        out = time_major(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
        return out.astype(np.float32)
    return time_major(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)


def right_on_two_decimals_only(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug that targets the fixed edge cases: right when every input has two decimals."""
    out = time_major(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    arrays = np.concatenate([np.ravel(a) for a in (rewards, values, next_values)])
    if np.allclose(arrays * 100, np.round(arrays * 100)):
        return out
    return out * 0.5
