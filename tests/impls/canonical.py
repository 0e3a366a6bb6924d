"""The canonical convention (``numeric.gae``'s signature):
``f(rewards, values, next_values, terminated, truncated, *, gamma, lam)``, gymnasium flags.
"""

import numpy as np


def torch_loop(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Correct, in torch: tensors in, tensor out (run with ``--input-type torch``)."""
    import torch

    rewards, values, next_values = (torch.as_tensor(x) for x in (rewards, values, next_values))
    terminated, truncated = torch.as_tensor(terminated), torch.as_tensor(truncated)
    not_terminal = (~terminated.bool()).to(rewards.dtype)
    not_done = (~(terminated.bool() | truncated.bool())).to(rewards.dtype)
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = torch.zeros_like(rewards)
    gae = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        gae = deltas[t] + gamma * lam * not_done[t] * gae
        advantages[t] = gae
    return advantages


def positional(rewards, values, next_values, terminated, truncated, gamma, lam):
    """Correct: numpy, γ and λ as positional parameters, batch dimensions welcome."""
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    carry = gamma * lam * ~(np.asarray(terminated) | np.asarray(truncated))
    advantages = np.zeros_like(deltas)
    gae = np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        gae = deltas[t] + carry[t] * gae
        advantages[t] = gae
    return advantages


def _gae(rewards, values, next_values, bootstrap, carry, gamma, lam):
    deltas = rewards + gamma * bootstrap * next_values - values
    advantages = np.zeros_like(deltas)
    gae = 0.0
    for t in reversed(range(len(deltas))):
        gae = deltas[t] + gamma * lam * carry[t] * gae
        advantages[t] = gae
    return advantages


def truncation_as_termination(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug: ``dones = terminated | truncated`` used everywhere (no bootstrap at a time limit)."""
    not_done = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _gae(rewards, values, next_values, not_done, not_done, gamma, lam)


def truncation_ignored(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug: only ``terminated`` is looked at; the trace runs across a time limit."""
    not_terminal = 1.0 - np.asarray(terminated, dtype=np.float64)
    return _gae(rewards, values, next_values, not_terminal, not_terminal, gamma, lam)


def bootstrap_from_buffer(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug: bootstraps from ``values[t + 1]``, the reset state after a done (SB3 before it
    added ``gamma * V(terminal_observation)`` to the reward at a truncation)."""
    values_after = np.append(values[1:], next_values[-1])
    not_terminal = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _gae(rewards, values, values_after, not_terminal, not_done, gamma, lam)


def dones_ignored(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug: the lecture's one-segment loop run over a buffer holding several episodes."""
    ones = np.ones(len(rewards))
    return _gae(rewards, values, next_values, ones, ones, gamma, lam)


def lambda_ignored(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug: ``gae = delta + gamma * not_done * gae`` (λ dropped: Monte-Carlo advantages)."""
    not_terminal = 1.0 - np.asarray(terminated, dtype=np.float64)
    not_done = 1.0 - (np.asarray(terminated) | np.asarray(truncated))
    return _gae(rewards, values, next_values, not_terminal, not_done, gamma, 1.0)


EXPECTED = {
    "torch_loop": None,
    "positional": None,
    "truncation_as_termination": "truncation-treated-as-termination",
    "truncation_ignored": "truncation-ignored",
    "bootstrap_from_buffer": "bootstrap-from-reset-state",
    "dones_ignored": "done-mask-ignored",
    "lambda_ignored": "lambda-ignored",
}
