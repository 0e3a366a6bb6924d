"""What real code does at a time-limit truncation, in the canonical convention
(``f(rewards, values, next_values, terminated, truncated, *, gamma, lam)``), plus code that
raises at γλ = 0. Each is a pattern read in a public codebase, written here from scratch.
"""

import math

import numpy as np


def _loop(deltas, carry, zero=None):
    advantages = np.zeros_like(deltas)
    gae = np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        gae = deltas[t] + carry[t] * gae
        if zero is not None:
            gae = np.where(zero[t], 0.0, gae)
        advantages[t] = gae
    return advantages


def correct(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    done = np.asarray(terminated) | np.asarray(truncated)
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    return _loop(deltas, gamma * lam * ~done)


def bad_masks(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug (ikostrikov's proper_time_limits path): masks = 1 - done cut the bootstrap and the
    carry, then ``gae = gae * bad_masks[t]`` zeroes the advantage at a time-out."""
    done = np.asarray(terminated) | np.asarray(truncated)
    timeout = np.asarray(truncated) & ~np.asarray(terminated)
    deltas = rewards + gamma * np.where(done, 0.0, next_values) - values
    return _loop(deltas, gamma * lam * ~done, zero=timeout)


def timeout_bonus_from_current_value(
    rewards, values, next_values, terminated, truncated, *, gamma, lam
):
    """Bug (rl_games' value_bootstrap): the reward of a time-out gets γ V(s_t), the value
    of the observation the step started from, then done cuts as a termination."""
    done = np.asarray(terminated) | np.asarray(truncated)
    timeout = np.asarray(truncated) & ~np.asarray(terminated)
    shaped = rewards + gamma * values * timeout
    deltas = shaped + gamma * np.where(done, 0.0, next_values) - values
    return _loop(deltas, gamma * lam * ~done)


def done_is_termination(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug (CleanRL's continuous PPO: next_done = terminations | truncations): a time-out is
    cut without a bootstrap."""
    done = np.asarray(terminated) | np.asarray(truncated)
    deltas = rewards + gamma * np.where(done, 0.0, next_values) - values
    return _loop(deltas, gamma * lam * ~done)


def discount_series(rewards, values, next_values, terminated, truncated, *, gamma, lam):
    """Bug (as TorchRL's vectorised GAE): a series of (γλ)^k cut where it falls below 1e-7,
    its length from log(γλ); math.log(0) raises at γ = 0 or λ = 0."""
    done = np.asarray(terminated) | np.asarray(truncated)
    deltas = rewards + gamma * np.where(terminated, 0.0, next_values) - values
    horizon = max(1, int(math.log(1e-7) / math.log(gamma * lam))) if gamma * lam < 1 else 10**9
    del horizon  # only its computation matters here
    return _loop(deltas, gamma * lam * ~done)


EXPECTED = {
    "correct": None,
    "bad_masks": "advantage-zeroed-at-truncation",
    "timeout_bonus_from_current_value": "timeout-bootstrap-from-current-value",
    "done_is_termination": "truncation-treated-as-termination",
    "discount_series": "raises-at-zero-gamma-lambda",
}
