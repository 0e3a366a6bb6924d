# sb3_buffer.py: Stable-Baselines3's own GAE, through its public RolloutBuffer API.
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer


def sb3_gae(rewards, values, episode_starts, last_values, dones, gamma, gae_lambda):
    """Arrays (T, N) as SB3 keeps them; last_values and dones (N,) for the step after."""
    steps, n_envs = rewards.shape
    buffer = RolloutBuffer(
        steps,
        spaces.Box(-1.0, 1.0, (1,)),
        spaces.Discrete(2),
        device="cpu",
        gamma=gamma,
        gae_lambda=gae_lambda,
        n_envs=n_envs,
    )
    for t in range(steps):
        buffer.add(
            np.zeros((n_envs, 1)),  # observation (not used by GAE)
            np.zeros((n_envs, 1)),  # action
            rewards[t],
            episode_starts[t],
            torch.as_tensor(values[t]),
            torch.zeros(n_envs),  # log-probability
        )
    buffer.compute_returns_and_advantage(torch.as_tensor(last_values), dones)
    return buffer.advantages, buffer.returns
