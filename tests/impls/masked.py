"""The masked convention: ``f(rewards, values, next_value, masks, gamma, lam)``.

``masks[t] = 0`` when the state after step t is terminal (PyTorch-A2C/PPO repositories,
e.g. ikostrikov's ``masks``); the value after the last step is ``next_value``.
"""

import numpy as np


def loop(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Correct: the usual loop over a list of values extended by next_value."""
    values = [*values, next_value]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] * masks[t] - values[t]
        gae = delta + gamma * lam * masks[t] * gae
        advantages[t] = gae
    return advantages


def matrix_form(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Correct, vectorized: A = W δ with W[t, s] = Π_{k=t}^{s-1} γλ m_k (upper triangular)."""
    r = np.asarray(rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(masks, dtype=np.float64)
    T = len(r)
    deltas = r + gamma * m * np.append(v[1:], next_value) - v
    decay = np.where(np.arange(T)[None, :] >= np.arange(T)[:, None], gamma * lam * m, 1.0)
    products = np.cumprod(decay, axis=1)  # products[t, s] = Π_{k=t}^{s} γλ m_k
    weights = np.triu(np.hstack([np.ones((T, 1)), products[:, :-1]]))
    return weights @ deltas


def float32_loop(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Correct in float32: a float32 rollout buffer, returned as a float32 array."""
    r = np.asarray(rewards, dtype=np.float32)
    v = np.append(np.asarray(values, dtype=np.float32), np.float32(next_value))
    m = np.asarray(masks, dtype=np.float32)
    g, gl = np.float32(gamma), np.float32(gamma * lam)
    advantages = np.zeros_like(r)
    gae = np.float32(0.0)
    for t in reversed(range(len(r))):
        delta = r[t] + g * v[t + 1] * m[t] - v[t]
        gae = delta + gl * m[t] * gae
        advantages[t] = gae
    return advantages


def mask_missing_in_bootstrap(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: the TD error bootstraps through a termination."""
    values = [*values, next_value]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] - values[t]
        gae = delta + gamma * lam * masks[t] * gae
        advantages[t] = gae
    return advantages


def mask_missing_in_carry(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: the running sum is not reset at episode boundaries."""
    values = [*values, next_value]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] * masks[t] - values[t]
        gae = delta + gamma * lam * gae
        advantages[t] = gae
    return advantages


def cleanrl_indexing(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: CleanRL's ``nextnonterminal = 1 - dones[t + 1]`` indexing on masks that belong to
    the step that ended the episode (CleanRL stores the done *before* step t)."""
    T = len(rewards)
    advantages = np.zeros(T)
    lastgaelam = 0.0
    for t in reversed(range(T)):
        if t == T - 1:
            nextnonterminal = 1.0
            nextvalues = next_value
        else:
            nextnonterminal = masks[t + 1]
            nextvalues = values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam
    return advantages


def gamma_twice(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: ``discount = gamma * lam`` and then ``gae = delta + gamma * discount * ...``."""
    discount = gamma * lam
    values = [*values, next_value]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] * masks[t] - values[t]
        gae = delta + gamma * discount * masks[t] * gae
        advantages[t] = gae
    return advantages


def zero_padded_values(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: values padded with 0 instead of next_value (every segment end treated as terminal)."""
    values = [*values, 0.0]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] * masks[t] - values[t]
        gae = delta + gamma * lam * masks[t] * gae
        advantages[t] = gae
    return advantages


def written_for_dones(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    """Bug: written for done flags (``1 - dones[t]``) but handed masks."""
    dones = masks
    values = [*values, next_value]
    gae = 0.0
    advantages = [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        not_done = 1.0 - dones[t]
        delta = rewards[t] + gamma * values[t + 1] * not_done - values[t]
        gae = delta + gamma * lam * not_done * gae
        advantages[t] = gae
    return advantages


EXPECTED = {
    "loop": None,
    "matrix_form": None,
    "float32_loop": None,
    "mask_missing_in_bootstrap": "done-mask-missing-in-bootstrap",
    "mask_missing_in_carry": "done-mask-missing-in-carry",
    "cleanrl_indexing": "mask-read-one-step-late",
    "gamma_twice": "gamma-applied-twice",
    "zero_padded_values": "segment-end-not-bootstrapped",
    "written_for_dones": "mask-inverted",
}
