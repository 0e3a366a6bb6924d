"""The lecture convention: ``f(rewards, values, next_value, gamma, lam)``, one segment.

``compute_gae`` is the lecture's own code (correct for one segment without dones); the
others change one line of it, or compute the same thing another way.
"""

import numpy as np
from scipy.signal import lfilter


def compute_gae(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Correct: the lecture's loop, verbatim."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
        next_value = values[t]
    return advantages


def discount_cumsum(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Correct, vectorized: rllab/SpinningUp's ``discount_cumsum`` with scipy's lfilter."""
    values_ext = np.append(np.asarray(values, dtype=np.float64), next_value)
    deltas = np.asarray(rewards) + gamma * values_ext[1:] - values_ext[:-1]
    return lfilter([1.0], [1.0, -gamma * lam], deltas[::-1])[::-1]


def returns_instead_of_advantages(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: returns the critic targets (``returns = advantages + values``), not advantages."""
    gae = 0.0
    returns = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        returns.insert(0, gae + values[t])
        next_value = values[t]
    return returns


def next_value_not_updated(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: the lecture's ``next_value = values[t]`` line is missing."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
    return advantages


def next_value_updated_too_early(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: ``next_value = values[t]`` moved above the TD error."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        next_value = values[t]
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
    return advantages


def lambda_without_gamma(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: the trace decays by λ only (``gae = delta + lam * gae``)."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + lam * gae
        advantages.insert(0, gae)
        next_value = values[t]
    return advantages


def appended_not_reversed(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: ``advantages.append(gae)`` in the backward loop, never reversed."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.append(gae)
        next_value = values[t]
    return advantages


def forward_loop(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: the loop runs forward in time (``for t in range(T)``)."""
    values_ext = [*values, next_value]
    gae = 0
    advantages = []
    for t in range(len(rewards)):
        delta = rewards[t] + gamma * values_ext[t + 1] - values_ext[t]
        gae = delta + gamma * lam * gae
        advantages.append(gae)
    return advantages


def td_errors_only(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: stores δ_t where the running sum belongs (``advantages.insert(0, delta)``)."""
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, delta)
        next_value = values[t]
    return advantages


def float32_buffer(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug (precision): a float32 buffer (as ``torch.zeros(T)`` makes), returned as floats."""
    advantages = np.zeros(len(rewards), dtype=np.float32)
    gae = np.float32(0.0)
    for t in reversed(range(len(rewards))):
        delta = np.float32(rewards[t] + gamma * next_value - values[t])
        gae = delta + np.float32(gamma * lam) * gae
        advantages[t] = gae
        next_value = values[t]
    return advantages.tolist()


def fixed_horizon(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: a truncated kernel of 32 weights (γλ)^k, fine on short segments only."""
    horizon = 32
    values_ext = np.append(np.asarray(values, dtype=np.float64), next_value)
    deltas = np.asarray(rewards) + gamma * values_ext[1:] - values_ext[:-1]
    weights = (gamma * lam) ** np.arange(horizon)
    T = len(deltas)
    return np.array([deltas[t : t + horizon] @ weights[: min(horizon, T - t)] for t in range(T)])


def discount_powers(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug (numerics): Σ_l (γλ)^l δ_{t+l} as (γλ)^{-t} · reversed cumsum; divides by 0 at
    γλ = 0 and loses all precision when (γλ)^T underflows."""
    values_ext = np.append(np.asarray(values, dtype=np.float64), next_value)
    deltas = np.asarray(rewards) + gamma * values_ext[1:] - values_ext[:-1]
    powers = (gamma * lam) ** np.arange(len(deltas))
    return np.cumsum((powers * deltas)[::-1])[::-1] / powers


def includes_bootstrap_step(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Bug: returns T + 1 entries (a trailing 0 for the bootstrap state)."""
    gae = 0.0
    advantages = [0.0]
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
        next_value = values[t]
    return advantages


EXPECTED = {
    "compute_gae": None,
    "discount_cumsum": None,
    "returns_instead_of_advantages": "lambda-returns-instead-of-advantages",
    "next_value_not_updated": "next-value-not-updated",
    "next_value_updated_too_early": "next-value-updated-too-early",
    "lambda_without_gamma": "lambda-without-gamma",
    "appended_not_reversed": "output-not-reversed",
    "forward_loop": "forward-recursion",
    "td_errors_only": "td-errors-instead-of-advantages",
    "fixed_horizon": "",
    "discount_powers": "",
    "includes_bootstrap_step": "",
}
