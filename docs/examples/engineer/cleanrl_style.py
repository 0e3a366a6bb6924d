# cleanrl_style.py: GAE as CleanRL's ppo.py lays it out (torch tensors of shape (T, N)).
# dones[t] = 1 when the observation at step t began a new episode; next_value and
# next_done belong to the observation after the last step.
import torch


def compute_advantages(rewards, values, dones, next_value, next_done, gamma, gae_lambda):
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        if t == steps - 1:
            alive, following = 1.0 - next_done, next_value
        else:
            alive, following = 1.0 - dones[t + 1], values[t + 1]
        delta = rewards[t] + gamma * following * alive - values[t]
        running = delta + gamma * gae_lambda * alive * running
        advantages[t] = running
    return advantages


def compute_advantages_reading_dones_t(
    rewards, values, dones, next_value, next_done, gamma, gae_lambda
):
    """A common slip in this layout: dones[t] (s_t began an episode) where dones[t + 1]
    (s_{t+1} did, so step t ended one) belongs."""
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        following = next_value if t == steps - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * following * alive - values[t]
        running = delta + gamma * gae_lambda * alive * running
        advantages[t] = running
    return advantages
