# baselines_style.py: value targets as OpenAI baselines' ppo2 Runner computes them
# (numpy arrays of shape (T, N); dones[t] = 1 when the observation at t began an episode).
import numpy as np


def ppo2_returns(rewards, values, dones, last_values, last_dones, gamma, lam):
    steps = len(rewards)
    advantages = np.zeros_like(rewards)
    carried = 0.0
    for t in reversed(range(steps)):
        if t == steps - 1:
            alive, following = 1.0 - last_dones, last_values
        else:
            alive, following = 1.0 - dones[t + 1], values[t + 1]
        delta = rewards[t] + gamma * following * alive - values[t]
        advantages[t] = carried = delta + gamma * lam * alive * carried
    return advantages + values  # the critic's targets
