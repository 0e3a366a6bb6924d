"""LLM-RL advantage functions for verify-impl's token and group conventions: written the way
verl, OpenRLHF and TRL write them, correct ones and ones with each catalogued mistake."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

# --- token convention: f(token_level_rewards, values, response_mask, gamma, lam) ---------------


def verl_gae(token_level_rewards, values, response_mask, gamma, lam):
    """verl's compute_gae_advantage_return (multi-turn skip form), whitening left out."""
    with torch.no_grad():
        nextvalues = 0
        lastgaelam = 0
        advantages_reversed = []
        for t in reversed(range(token_level_rewards.shape[-1])):
            delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
            lastgaelam_ = delta + gamma * lam * lastgaelam
            nextvalues = values[:, t] * response_mask[:, t] + (1 - response_mask[:, t]) * nextvalues
            lastgaelam = lastgaelam_ * response_mask[:, t] + (1 - response_mask[:, t]) * lastgaelam
            advantages_reversed.append(lastgaelam)
        advantages = torch.stack(advantages_reversed[::-1], dim=1)
        returns = advantages + values
    return advantages, returns


def verl_gae_whitened(token_level_rewards, values, response_mask, gamma, lam):
    """verl as it ships: advantages whitened (masked_whiten) before they are returned."""
    advantages, returns = verl_gae(token_level_rewards, values, response_mask, gamma, lam)
    mask = response_mask
    mean = (advantages * mask).sum() / mask.sum()
    var = ((advantages - mean) ** 2 * mask).sum() / (mask.sum() - 1)
    return (advantages - mean) * torch.rsqrt(var + 1e-8), returns


def carry_only(token_level_rewards, values, response_mask, gamma, lam):
    """The mask on the carried advantage only: the value of a masked token is bootstrapped."""
    nextvalues, lastgaelam, out = 0, 0, []
    for t in reversed(range(token_level_rewards.shape[-1])):
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam_ = delta + gamma * lam * lastgaelam
        nextvalues = values[:, t]
        lastgaelam = lastgaelam_ * response_mask[:, t] + (1 - response_mask[:, t]) * lastgaelam
        out.append(lastgaelam)
    return torch.stack(out[::-1], dim=1)


def value_only(token_level_rewards, values, response_mask, gamma, lam):
    """The mask on the value only: masked tokens' TD errors enter the chain."""
    nextvalues, lastgaelam, out = 0, 0, []
    for t in reversed(range(token_level_rewards.shape[-1])):
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        nextvalues = values[:, t] * response_mask[:, t] + (1 - response_mask[:, t]) * nextvalues
        out.append(lastgaelam)
    return torch.stack(out[::-1], dim=1)


def trl_style_unmasked_values(token_level_rewards, values, response_mask, gamma, lam):
    """TRL-style GAE that forgot to zero the values of padding: each token bootstraps from
    the next position's value; the chain is cut by multiplying with the next mask."""
    lastgaelam = 0
    out = []
    length = token_level_rewards.shape[-1]
    for t in reversed(range(length)):
        nextvalues = values[:, t + 1] if t < length - 1 else 0.0
        nextmask = response_mask[:, t + 1] if t < length - 1 else 0.0
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * nextmask * lastgaelam
        out.append(lastgaelam)
    return torch.stack(out[::-1], dim=1)


def numpy_skip_gae(token_level_rewards, values, response_mask, gamma, lam):
    """A correct numpy implementation written from the definition (compaction)."""
    r, v, m = (np.asarray(x, dtype=float) for x in (token_level_rewards, values, response_mask))
    adv = np.zeros_like(r)
    for b in range(r.shape[0]):
        where = np.flatnonzero(m[b])
        running, next_value = 0.0, 0.0
        for t in where[::-1]:
            running = r[b, t] + gamma * next_value - v[b, t] + gamma * lam * running
            next_value = v[b, t]
            adv[b, t] = running
    return adv


# --- group convention: f(scores, group_ids[, eps]) ----------------------------------------------


def verl_grpo(scores, index, epsilon=1e-6):
    """verl's compute_grpo_outcome_advantage on sequence scores (unbiased torch.std)."""
    scores = scores.clone()
    id2score = defaultdict(list)
    id2mean, id2std = {}, {}
    for i in range(scores.shape[0]):
        id2score[int(index[i])].append(scores[i])
    for idx in id2score:
        if len(id2score[idx]) == 1:
            id2mean[idx], id2std[idx] = torch.tensor(0.0), torch.tensor(1.0)
        else:
            id2mean[idx] = torch.mean(torch.stack(id2score[idx]))
            id2std[idx] = torch.std(torch.stack(id2score[idx]))
    for i in range(scores.shape[0]):
        scores[i] = (scores[i] - id2mean[int(index[i])]) / (id2std[int(index[i])] + epsilon)
    return scores


def grpo_biased(scores, index, epsilon=1e-6):
    """GRPO with the biased std (numpy's default ddof=0)."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s / (1 + epsilon)  # a group of one: mean 0, std 1 (verl)
    for k in np.unique(g):
        w = g == k
        if w.sum() > 1:
            out[w] = (s[w] - s[w].mean()) / (s[w].std() + epsilon)
    return out


def grpo_batch_std(scores, index, epsilon=1e-6):
    """Mean per group, std over the whole batch."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s / (1 + epsilon)
    spread = s.std(ddof=1)
    for k in np.unique(g):
        w = g == k
        if w.sum() > 1:
            out[w] = (s[w] - s[w].mean()) / (spread + epsilon)
    return out


def grpo_singleton_nan(scores, index, epsilon=1e-6):
    """torch.std on every group, a group of one included (NaN)."""
    s = torch.as_tensor(scores, dtype=torch.float64)
    out = s.clone()
    g = torch.as_tensor(index)
    for k in torch.unique(g):
        w = g == k
        out[w] = (s[w] - s[w].mean()) / (s[w].std() + epsilon)
    return out


def rloo(scores, index):
    """verl's compute_rloo_outcome_advantage."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s.copy()
    for k in np.unique(g):
        w = g == k
        n = w.sum()
        if n > 1:
            out[w] = s[w] * n / (n - 1) - s[w].mean() * n / (n - 1)
    return out


def rloo_over_k(scores, index):
    """The leave-one-out sum divided by K."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s.copy()
    for k in np.unique(g):
        w = g == k
        n = w.sum()
        if n > 1:
            out[w] = s[w] - (s[w].sum() - s[w]) / n
    return out


def drgrpo(scores, index):
    """Dr. GRPO: r - mean_g."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s.copy()
    for k in np.unique(g):
        w = g == k
        if w.sum() > 1:
            out[w] = s[w] - s[w].mean()
    return out


def plain_gae_no_mask(token_level_rewards, values, response_mask, gamma, lam):
    """GAE over every position: prompt, padding and observations inside the chain."""
    lastgaelam, out = 0, []
    length = token_level_rewards.shape[-1]
    for t in reversed(range(length)):
        nextvalues = values[:, t + 1] if t < length - 1 else 0.0
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        out.append(lastgaelam)
    return torch.stack(out[::-1], dim=1)


def end_padding_only(token_level_rewards, values, response_mask, gamma, lam):
    """Old single-turn code: the response runs from its first to its last generated token."""
    mask = response_mask.clone()
    for b in range(mask.shape[0]):
        where = torch.nonzero(response_mask[b]).flatten()
        mask[b, where[0] : where[-1] + 1] = 1
    return verl_gae(token_level_rewards, values, mask, gamma, lam)[0]


def whitened_over_padding(token_level_rewards, values, response_mask, gamma, lam):
    """Whitening over all B x L positions (the carried values on masked ones included: 0 here)."""
    advantages, returns = verl_gae(token_level_rewards, values, response_mask, gamma, lam)
    advantages = advantages * response_mask
    mean, var = advantages.mean(), advantages.var()
    return (advantages - mean) * torch.rsqrt(var + 1e-8), returns


def returns_from_whitened(token_level_rewards, values, response_mask, gamma, lam):
    """Returns built after whitening."""
    advantages, _ = verl_gae(token_level_rewards, values, response_mask, gamma, lam)
    mask = response_mask
    mean = (advantages * mask).sum() / mask.sum()
    var = ((advantages - mean) ** 2 * mask).sum() / (mask.sum() - 1)
    return advantages, (advantages - mean) * torch.rsqrt(var + 1e-8) + values


def grpo_whole_batch(scores, index, epsilon=1e-6):
    """Mean and std of the whole batch: no grouping."""
    s, g = np.asarray(scores, dtype=float), np.asarray(index)
    out = s / (1 + epsilon)
    sizes = {k: (g == k).sum() for k in np.unique(g)}
    many = np.array([sizes[k] > 1 for k in g])
    out[many] = (s[many] - s.mean()) / (s.std(ddof=1) + epsilon)
    return out


def rloo_singleton_zero(scores, index):
    """RLOO that gives a group of one advantage 0."""
    out = rloo(scores, index)
    g = np.asarray(index)
    for k in np.unique(g):
        if (g == k).sum() == 1:
            out[g == k] = 0.0
    return out


# --- token convention, REINFORCE++: f(token_level_rewards, response_mask, gamma) ---------------


def _masked_whiten(values, mask, unbiased=True, over_all=False):
    """verl's verl_F.masked_whiten (shift_mean=True), optionally over every position."""
    if over_all:
        mask = torch.ones_like(mask)
    mean = (values * mask).sum() / mask.sum()
    var = ((values - mean) ** 2 * mask).sum() / mask.sum()
    if unbiased:
        var = var * mask.sum() / (mask.sum() - 1)
    return (values - mean) * torch.rsqrt(var + 1e-8)


def verl_reinforce_pp(token_level_rewards, response_mask, gamma):
    """verl's compute_reinforce_plus_plus_outcome_advantage as it ships."""
    with torch.no_grad():
        returns = torch.zeros_like(token_level_rewards)
        running_return = 0
        for t in reversed(range(token_level_rewards.shape[1])):
            running_return = token_level_rewards[:, t] + gamma * running_return
            returns[:, t] = running_return
            # Reset after EOS
            running_return = running_return * response_mask[:, t]
        advantages = _masked_whiten(returns, response_mask)
        advantages = advantages * response_mask
    return advantages, returns


def reinforce_pp_skip(token_level_rewards, response_mask, gamma):
    """REINFORCE++ with the running return carried through masked tokens (multi-turn skip)."""
    returns = torch.zeros_like(token_level_rewards)
    running = torch.zeros_like(token_level_rewards[:, 0])
    for t in reversed(range(token_level_rewards.shape[1])):
        keep = response_mask[:, t]
        here = token_level_rewards[:, t] + gamma * running
        running = keep * here + (1 - keep) * running
        returns[:, t] = here
    return _masked_whiten(returns, response_mask) * response_mask, returns


def openrlhf_reinforce_pp(token_level_rewards, response_mask, gamma):
    """OpenRLHF: get_cumulative_returns (masked rewards zeroed, no reset), then whitened."""
    rewards = response_mask * token_level_rewards
    returns = torch.zeros_like(rewards)
    cumulative = torch.zeros(rewards.size(0), dtype=rewards.dtype)
    for t in reversed(range(rewards.size(1))):
        cumulative = rewards[:, t] + gamma * cumulative
        returns[:, t] = cumulative
    return _masked_whiten(returns, response_mask) * response_mask, returns


def reinforce_pp_not_whitened(token_level_rewards, response_mask, gamma):
    """verl's loop, but the raw returns handed back as the advantages."""
    _, returns = verl_reinforce_pp(token_level_rewards, response_mask, gamma)
    return returns, returns


def reinforce_pp_whitened_over_padding(token_level_rewards, response_mask, gamma):
    """verl's loop, whitened over every position (padding and prompt included)."""
    _, returns = verl_reinforce_pp(token_level_rewards, response_mask, gamma)
    return _masked_whiten(returns, response_mask, over_all=True), returns


def reinforce_pp_biased_whitening(token_level_rewards, response_mask, gamma):
    """verl's loop, whitened with the biased variance."""
    _, returns = verl_reinforce_pp(token_level_rewards, response_mask, gamma)
    return _masked_whiten(returns, response_mask, unbiased=False), returns
