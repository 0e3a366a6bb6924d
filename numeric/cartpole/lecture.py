"""The lecture's actor-critic with GAE on CartPole-v1, as taught: one episode, then one update.

Read top to bottom. Separate actor and critic MLPs; collect a whole episode with
``gym.make("CartPole-v1")``; after it, compute the advantages with the lecture's own backward loop
(written out below, not imported), then

    actor loss  = −mean_t log π(a_t | s_t) · Â_t.detach()
    critic loss =  mean_t (R_t − V(s_t))²,   R_t = Â_t + V(s_t)   (the critic target, detached)

GAE (Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
Estimation", eq. 16): Â_t = Σ_l (γλ)^l δ_{t+l}, δ_t = r_t + γ V(s_{t+1}) − V(s_t).

Bootstrapping at the episode end. The lecture's ``compute_gae`` starts the loop with
``next_value = V(final observation)`` for every episode, so a pole that fell (termination) is
bootstrapped as if the episode had only been cut by the time limit. Its notes also speak of a
"mask ... set to 0 when the episode terminates", which the printed code lacks. We keep the loop as
taught and add that mask (``bootstrap_termination=False``, the default): a termination is not
bootstrapped, a truncation at step 500 is. ``bootstrap_termination=True`` is the printed code
verbatim. Either way the recorded rollout states exactly what the loop did with the trajectory
flags: with the mask, ``terminated``/``truncated`` are gymnasium's flags at the last step; without
it, the last step is recorded as ``truncated=True, terminated=False`` (every end bootstrapped).

Where this deviates from the printed code (seed lines 3169-3202 and 3362-3388), and why:

* separate actor and critic MLPs instead of one ``model(state) -> (logits, value)``: the issue asks
  for them, and a shared trunk on unnormalised returns stalls at a mean of 200-330
  (CARTPOLE-NOTES);
* the action is drawn by inverse-CDF sampling of softmax(logits) with a seeded numpy generator,
  not ``Categorical(logits).sample()``: the same distribution, ~5 µs a step instead of ~30 µs;
* V(s_t) and log π(a_t|s_t) come from one batched forward pass after the episode instead of one
  per step: same parameters and gradients (equal up to float32 rounding), far fewer calls;
* gymnasium 1.x ``step`` returns ``terminated, truncated``; the printed ``done`` is their "or";
* the termination mask above, and a detached critic target (``returns_np`` is a float32 array);
  with ``critic_target_detached=False`` the target keeps V's graph, which is one reading of the
  printed ``returns = advantages + values`` and a known way to collapse;
* Adam on both networks; the printed code shows the losses but not the optimiser.

Hyperparameters: one dataclass. Known failure modes reproduced by switches (see
``numeric.cartpole.experiments``): a large learning rate, a critic target that is not detached, a
flipped actor-loss sign — each collapses the policy to always pushing one way (returns 9–10).
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
class LectureConfig:
    seed: int = 1
    gamma: float = 0.99
    lam: float = 0.95
    lr: float = 3e-3  # Adam, both networks; 10/10 seeds solved here (CARTPOLE-NOTES)
    hidden: int = 64
    bootstrap_termination: bool = False  # True: the printed compute_gae, terminations bootstrapped
    critic_target_detached: bool = True  # False: returns = adv.detach() + values (a known bug)
    actor_sign_flipped: bool = False  # True: actor loss +mean(log π · Â) (a known bug)
    max_seconds: float = 120.0
    max_env_steps: int = 500_000
    stop_when_solved: bool = True


def train(
    cfg: LectureConfig,
    *,
    on_rollout: RolloutCallback | None = None,
    on_episode: EpisodeCallback | None = None,
    log: EpisodeLog | None = None,
) -> TrainResult:
    """Train until solved (100-episode mean ≥ 475) or out of budget.

    ``on_rollout`` receives every episode the update used (as a :class:`Rollout` of shape
    ``(T, 1)``); ``on_episode`` every finished episode. Pass your own ``log`` to keep the episodes
    seen so far if training is interrupted.
    """
    import gymnasium as gym
    import torch

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(cfg.seed)
    env = gym.make(ENV_ID)
    obs_dim = env.observation_space.shape[0]
    n_actions = env.action_space.n

    actor = mlp(obs_dim, n_actions, cfg.hidden, out_gain=0.01)
    critic = mlp(obs_dim, 1, cfg.hidden, out_gain=1.0)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.lr)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=cfg.lr)

    budget = Budget(cfg.max_seconds, cfg.max_env_steps, cfg.stop_when_solved)
    log = log if log is not None else EpisodeLog(on_episode=on_episode)
    env_steps = updates = 0
    gamma, lam = np.float32(cfg.gamma), np.float32(cfg.lam)
    obs, _ = env.reset(seed=cfg.seed)

    while not budget.exhausted(log, env_steps):
        # --- collect one episode with the current policy --------------------------------------
        states, actions, rewards = [], [], []
        terminated = truncated = False
        while not (terminated or truncated):
            with torch.no_grad():
                logits = actor(torch.from_numpy(obs))
            cdf = np.cumsum(torch.softmax(logits, -1).numpy(), dtype=np.float64)
            action = min(
                int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), n_actions - 1
            )
            states.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
        final_obs = obs
        obs, _ = env.reset()
        T = len(rewards)
        env_steps += T
        log.env_steps = env_steps
        log.add(sum(rewards), T, env_steps)

        # --- values and log-probabilities of the episode (one batched forward each) ------------
        states_t = torch.from_numpy(np.stack(states))
        values = critic(states_t).squeeze(-1)  # V(s_t), keeps the graph for the critic loss
        with torch.no_grad():
            next_value = critic(torch.from_numpy(final_obs)).squeeze(-1)  # V(final observation)
        log_probs = torch.log_softmax(actor(states_t), -1)[torch.arange(T), torch.tensor(actions)]

        # --- the lecture's compute_gae loop, in float32 like the training tensors ---------------
        rewards_np = np.asarray(rewards, dtype=np.float32)
        values_np = values.detach().numpy()
        # the lecture's "mask": no value beyond a termination (dropped by the printed code)
        mask_last = np.float32(0.0 if terminated and not cfg.bootstrap_termination else 1.0)
        advantages_np = np.empty(T, dtype=np.float32)
        gae = np.float32(0.0)
        next_v = next_value.numpy().astype(np.float32)[()]
        for t in reversed(range(T)):
            mask = mask_last if t == T - 1 else np.float32(1.0)
            delta = rewards_np[t] + gamma * next_v * mask - values_np[t]
            gae = delta + gamma * lam * gae
            advantages_np[t] = gae
            next_v = values_np[t]
        returns_np = advantages_np + values_np

        # --- losses and the update --------------------------------------------------------------
        advantages = torch.from_numpy(advantages_np)
        if cfg.critic_target_detached:
            returns = torch.from_numpy(returns_np)
        else:
            returns = advantages.detach() + values  # the bug: the target moves with V, gradient 0
        sign = -1.0 if cfg.actor_sign_flipped else 1.0
        actor_loss = -sign * (log_probs * advantages.detach()).mean()
        critic_loss = (returns - values).pow(2).mean()
        actor_opt.zero_grad()
        critic_opt.zero_grad()
        (actor_loss + critic_loss).backward()
        actor_opt.step()
        critic_opt.step()
        updates += 1

        if on_rollout is not None:
            rollout = _episode_rollout(
                cfg,
                rewards_np,
                values_np,
                next_value,
                terminated,
                truncated,
                advantages_np,
                returns_np,
            )
            log.timed_check(lambda rollout=rollout: on_rollout(rollout))

    env.close()
    return TrainResult(log=log, env_steps=env_steps, updates=updates, seconds=log.seconds)


def _episode_rollout(
    cfg: LectureConfig,
    rewards: np.ndarray,
    values: np.ndarray,
    next_value,
    terminated: bool,
    truncated: bool,
    advantages: np.ndarray,
    returns: np.ndarray,
) -> Rollout:
    """The episode in the trajectory convention, flags saying exactly what the loop did."""
    T = len(rewards)
    next_values = np.append(values[1:], np.float32(next_value.item())).astype(np.float32)
    term = np.zeros(T, dtype=bool)
    trunc = np.zeros(T, dtype=bool)
    if cfg.bootstrap_termination:
        trunc[-1] = True  # the printed loop bootstraps every end, i.e. treats it as a truncation
    else:
        term[-1] = terminated
        trunc[-1] = truncated
    column = lambda a: a.reshape(T, 1)  # noqa: E731
    return Rollout(
        rewards=column(rewards),
        values=column(values),
        next_values=column(next_values),
        terminated=column(term),
        truncated=column(trunc),
        valid=np.ones((T, 1), dtype=bool),
        advantages=column(advantages),
        returns=column(returns),
        gamma=cfg.gamma,
        lam=cfg.lam,
    )
