"""The episode-start convention (CleanRL, SB3, baselines, rl_games):
``f(rewards, values, dones, next_value, next_done, gamma, lam)`` with ``dones[t] = 1`` when
the observation at step t began a new episode; numpy, any layout ``(T,)`` or ``(T, N)``.
"""

import numpy as np


def _gae(rewards, values, dones, next_value, next_done, gamma, lam, alive_at):
    steps = len(rewards)
    advantages = np.zeros_like(rewards)
    carried = np.zeros_like(np.asarray(next_value, dtype=np.asarray(rewards).dtype))
    for t in reversed(range(steps)):
        following = next_value if t == steps - 1 else values[t + 1]
        alive = alive_at(t)
        delta = rewards[t] + gamma * following * alive - values[t]
        carried = delta + gamma * lam * alive * carried
        advantages[t] = carried
    return advantages


def correct(rewards, values, dones, next_value, next_done, gamma, lam):
    steps = len(rewards)

    def alive(t):
        return 1.0 - (next_done if t == steps - 1 else dones[t + 1])

    return _gae(rewards, values, dones, next_value, next_done, gamma, lam, alive)


def reads_dones_t(rewards, values, dones, next_value, next_done, gamma, lam):
    """Bug: dones[t] (s_t began an episode) where dones[t + 1] belongs."""
    return _gae(rewards, values, dones, next_value, next_done, gamma, lam, lambda t: 1.0 - dones[t])


def ignores_next_done(rewards, values, dones, next_value, next_done, gamma, lam):
    """Bug: the last step always bootstraps, even when the episode ended there."""
    steps = len(rewards)

    def alive(t):
        return 1.0 if t == steps - 1 else 1.0 - dones[t + 1]

    return _gae(rewards, values, dones, next_value, next_done, gamma, lam, alive)


EXPECTED = {
    "correct": None,
    "reads_dones_t": "mask-read-one-step-early",
    "ignores_next_done": "",
}
