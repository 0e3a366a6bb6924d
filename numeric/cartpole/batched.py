"""A2C with GAE on a gymnasium 1.x vector env of CartPole-v1. Read top to bottom (CleanRL style).

Several envs step in lock-step; every ``num_steps`` steps the rollout of shape ``(num_steps,
num_envs)`` gives one update of two separate 64-64 tanh MLPs (actor, critic) with Adam:

    δ_t   = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
    Â_t   = δ_t + γλ (1 − done_t) Â_{t+1},  Â_T = 0,  done_t = terminated_t ∨ truncated_t
    R_t   = Â_t + V(s_t)
    loss  = −mean log π(a_t|s_t) Â_t − c_H mean H(π(·|s_t)) + mean (R_t − V(s_t))²

(GAE: Schulman et al. 2016, eq. 16; A2C: Mnih et al. 2016.) ``s'_t`` is the observation step t
returned, i.e. the *final* observation when the episode ended at t, so a time-limit truncation is
bootstrapped with V(final observation) and a termination is not bootstrapped at all.

Gymnasium 1.x autoreset. ``gym.make_vec("CartPole-v1", N)`` is the native ``CartPoleVectorEnv``,
NEXT_STEP autoreset only: the step that ends an episode returns its final observation, and the
*next* step of that sub-env ignores the action and returns the reset observation with reward 0
and both flags False. That dummy step is marked ``valid=False``: it enters neither the loss nor the
episode statistics, and it cannot leak into the advantage of a real step because the λ-chain is
cut at ``done`` right before it. ``env_steps`` counts every sub-env step, the dummies included
(they are ``env.step`` calls that cost time; one per episode, under 0.5% of the steps here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numeric.cartpole.common import (
    ENV_ID,
    Budget,
    EpisodeCallback,
    EpisodeLog,
    TrainResult,
    mlp,
)
from numeric.cartpole.rollout_check import Rollout, RolloutCallback


@dataclass(frozen=True)
class BatchedConfig:
    seed: int = 1
    num_envs: int = 8
    num_steps: int = 16  # rollout length per env: one update every num_envs * num_steps env steps
    gamma: float = 0.99
    lam: float = 0.95
    lr: float = 3e-3  # Adam, both networks
    hidden: int = 64
    entropy_coef: float = 0.0
    max_grad_norm: float | None = None  # no clipping: 0.5 cost 10-70% more steps here
    max_episode_steps: int = 500  # CartPole-v1's time limit (smaller in tests, to see truncations)
    max_seconds: float = 60.0
    max_env_steps: int = 500_000
    stop_when_solved: bool = True


def make_envs(cfg: BatchedConfig):
    """The native vector env; refuses anything but NEXT_STEP autoreset (what the loop handles)."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    envs = gym.make_vec(ENV_ID, num_envs=cfg.num_envs, max_episode_steps=cfg.max_episode_steps)
    if envs.metadata.get("autoreset_mode") != AutoresetMode.NEXT_STEP:
        raise RuntimeError(
            f"expected NEXT_STEP autoreset, got {envs.metadata.get('autoreset_mode')}"
        )
    return envs


def gae_loop(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """The training loop's own backward GAE recursion, float32, arrays ``(T, N)``."""
    g, gl = np.float32(gamma), np.float32(gamma * lam)
    not_terminal = 1.0 - terminated.astype(np.float32)
    not_done = 1.0 - (terminated | truncated).astype(np.float32)
    advantages = np.zeros_like(rewards, dtype=np.float32)
    last = np.zeros(rewards.shape[1], dtype=np.float32)
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + g * next_values[t] * not_terminal[t] - values[t]
        last = delta + gl * not_done[t] * last
        advantages[t] = last
    return advantages


def train(
    cfg: BatchedConfig,
    *,
    on_rollout: RolloutCallback | None = None,
    on_episode: EpisodeCallback | None = None,
    log: EpisodeLog | None = None,
) -> TrainResult:
    """Train until solved (100-episode mean ≥ 475) or out of budget; see the module docstring."""
    import torch

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(1)
    envs = make_envs(cfg)
    obs_dim = envs.single_observation_space.shape[0]
    n_actions = envs.single_action_space.n
    N, T = cfg.num_envs, cfg.num_steps

    actor = mlp(obs_dim, n_actions, cfg.hidden, out_gain=0.01)
    critic = mlp(obs_dim, 1, cfg.hidden, out_gain=1.0)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.lr)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=cfg.lr)

    # rollout storage; obs[T] is the observation after the last step (to bootstrap from)
    obs_buf = np.zeros((T + 1, N, obs_dim), dtype=np.float32)
    actions = np.zeros((T, N), dtype=np.int64)
    rewards = np.zeros((T, N), dtype=np.float32)
    terminated = np.zeros((T, N), dtype=bool)
    truncated = np.zeros((T, N), dtype=bool)
    valid = np.zeros((T, N), dtype=bool)

    budget = Budget(cfg.max_seconds, cfg.max_env_steps, cfg.stop_when_solved)
    log = log if log is not None else EpisodeLog(on_episode=on_episode)
    env_steps = updates = 0
    episode_return = np.zeros(N, dtype=np.float64)
    episode_length = np.zeros(N, dtype=np.int64)
    prev_done = np.zeros(N, dtype=bool)  # sub-env ended an episode: its next step is the dummy
    obs, _ = envs.reset(seed=cfg.seed)

    while not budget.exhausted(log, env_steps):
        # --- rollout ------------------------------------------------------------------------------
        for t in range(T):
            obs_buf[t] = obs
            valid[t] = ~prev_done
            with torch.no_grad():
                logits = actor(torch.from_numpy(obs))
            actions[t] = torch.distributions.Categorical(logits=logits).sample().numpy()
            obs, rewards[t], terminated[t], truncated[t], _ = envs.step(actions[t])
            env_steps += N
            log.env_steps = env_steps
            episode_return += rewards[t]
            episode_length += valid[t]
            done = terminated[t] | truncated[t]
            for i in np.flatnonzero(done):
                log.add(episode_return[i], int(episode_length[i]), env_steps)
            episode_return[done] = 0.0
            episode_length[done] = 0
            prev_done = done
        obs_buf[T] = obs

        # --- values, the loop's GAE, returns ---------------------------------------------------
        all_values = critic(torch.from_numpy(obs_buf)).squeeze(-1)  # (T + 1, N)
        values = all_values[:T]
        values_np = values.detach().numpy()
        next_values_np = all_values[1:].detach().numpy()  # V(s'_t): final obs where done
        advantages_np = gae_loop(
            rewards, values_np, next_values_np, terminated, truncated, cfg.gamma, cfg.lam
        )
        returns_np = advantages_np + values_np

        # --- update, on the valid steps only ---------------------------------------------------
        weight = torch.from_numpy(valid.astype(np.float32))
        n_valid = weight.sum().clamp(min=1.0)
        logits = actor(torch.from_numpy(obs_buf[:T]))
        log_probs_all = torch.log_softmax(logits, -1)
        log_probs = log_probs_all.gather(-1, torch.from_numpy(actions)[..., None]).squeeze(-1)
        entropy = -(log_probs_all.exp() * log_probs_all).sum(-1)
        advantages = torch.from_numpy(advantages_np)
        returns = torch.from_numpy(returns_np)
        actor_loss = (
            -(weight * (log_probs * advantages + cfg.entropy_coef * entropy)).sum() / n_valid
        )
        critic_loss = (weight * (returns - values).pow(2)).sum() / n_valid
        actor_opt.zero_grad()
        critic_opt.zero_grad()
        (actor_loss + critic_loss).backward()
        if cfg.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(actor.parameters(), cfg.max_grad_norm)
            torch.nn.utils.clip_grad_norm_(critic.parameters(), cfg.max_grad_norm)
        actor_opt.step()
        critic_opt.step()
        updates += 1

        if on_rollout is not None:
            rollout = Rollout(
                rewards=rewards.copy(),
                values=values_np.copy(),
                next_values=next_values_np.copy(),
                terminated=terminated.copy(),
                truncated=truncated.copy(),
                valid=valid.copy(),
                advantages=advantages_np,
                returns=returns_np,
                gamma=cfg.gamma,
                lam=cfg.lam,
            )
            log.timed_check(lambda rollout=rollout: on_rollout(rollout))

    envs.close()
    return TrainResult(log=log, env_steps=env_steps, updates=updates, seconds=log.seconds)
