"""A token-level toy for RL on language models, trained on the CPU in seconds.

The task. A prompt is one content token c; the policy answers with up to ``MAX_NEW``
tokens and should answer "c c c EOS". The reward comes at the end, on the last generated
token: R = (#{k < 3 : y_k = c} + [y_3 = EOS]) / 4, a checkable property of the sequence.
Tokens after EOS are padding. In the multi-turn variant the environment inserts an
observation token OBS after the second generated token (a tool's answer): the policy sees
it, but did not generate it, so its response mask is 0.

The policy. An embedding, a GRU and two heads: logits over the vocabulary (PAD and OBS
are never sampled) and a value (the critic, used by PPO + token GAE only). Position t of
every ``(B, L)`` array is token t of the sequence; the logit and the value of token t come
from the GRU state after token t − 1.

The estimators, written the way the libraries write them (``library_*`` below follow
verl's ``core_algos.py``), and on every batch checked against ``numeric.llm``'s kernels
with numpy (float64) and torch (float32) inputs:

* ``gae``: PPO with skip-masked token GAE (γ = 1, λ = 0.95) and a critic; the advantages
  are whitened over the response tokens before the policy loss;
* ``grpo``: K samples per prompt, (r − mean_g)/(std_g + ε) with the unbiased std;
* ``drgrpo``: r − mean_g, and the loss summed over tokens / a constant (not / length);
* ``rloo``: r_i − mean of the other K − 1.

``run(...)`` returns the report: ``estimator``, ``batches_checked``, ``backends_checked``,
``max_abs_diff``, ``agree``, ``initial_reward`` and ``final_reward`` (mean reward over the
first and last tenth of the batches) and ``learning_curve``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
import torch
from torch import nn

from numeric import llm as kernels

# --- the task ----------------------------------------------------------------------------

PAD, EOS, OBS = 0, 1, 2
CONTENT = (3, 4, 5, 6, 7)
VOCAB = 8
TARGET_REPEATS = 3
MAX_NEW = 5  # generated tokens at most
OBS_AFTER = 2  # multi-turn: the environment speaks after this many generated tokens
ESTIMATORS = ("gae", "grpo", "rloo", "drgrpo")

GAMMA, LAM = 1.0, 0.95
GROUP_SIZE = 4
PROMPTS_PER_BATCH = 16  # x GROUP_SIZE responses for the group estimators
PPO_BATCH = 64
PPO_EPOCHS = 4
CLIP = 0.2
LEARNING_RATE = 3e-3
ENTROPY_COEF = 0.01
GRPO_EPS = 1e-6


def sequence_reward(prompt: int, generated: list[int]) -> float:
    """R = (#{k < 3 : y_k = c} + [y_3 = EOS]) / 4 over the generated tokens."""
    hits = sum(1 for y in generated[:TARGET_REPEATS] if y == prompt)
    stops = len(generated) > TARGET_REPEATS and generated[TARGET_REPEATS] == EOS
    return (hits + stops) / (TARGET_REPEATS + 1)


def sequence_length(multi_turn: bool) -> int:
    return 1 + MAX_NEW + (1 if multi_turn else 0)


# --- the policy --------------------------------------------------------------------------


class Policy(nn.Module):
    """Embedding → GRU → (logits over the vocabulary, value)."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 32)
        self.gru = nn.GRU(32, hidden, batch_first=True)
        self.actor = nn.Linear(hidden, VOCAB)
        self.critic = nn.Linear(hidden, 1)
        never = torch.zeros(VOCAB)
        # The policy never emits padding or observations (a finite -1e9, so that the log
        # probability of a PAD position, masked anyway, stays finite).
        never[[PAD, OBS]] = -1e9
        self.register_buffer("never", never)

    def forward(self, tokens: torch.Tensor, state=None):
        out, state = self.gru(self.embed(tokens), state)
        return self.actor(out) + self.never, self.critic(out).squeeze(-1), state

    def token_stats(self, tokens: torch.Tensor):
        """(log π(token_t), entropy, value) for t = 1 … L−1 from the state after t − 1;
        position 0 (the prompt) gets zeros: shape (B, L) each."""
        logits, values, _ = self(tokens[:, :-1])
        logp_all = torch.log_softmax(logits, dim=-1)
        logp = logp_all.gather(-1, tokens[:, 1:, None]).squeeze(-1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        pad = torch.zeros_like(logp[:, :1])
        return (
            torch.cat([pad, logp], 1),
            torch.cat([pad, entropy], 1),
            torch.cat([pad, values], 1),
        )


@torch.no_grad()
def generate(policy: Policy, prompts: torch.Tensor, multi_turn: bool, generator):
    """Sample responses: (tokens (B, L), response_mask (B, L), last generated position (B,))."""
    batch = prompts.shape[0]
    length = sequence_length(multi_turn)
    tokens = torch.full((batch, length), PAD, dtype=torch.long)
    mask = torch.zeros((batch, length))
    tokens[:, 0] = prompts
    finished = torch.zeros(batch, dtype=torch.bool)
    last = torch.zeros(batch, dtype=torch.long)
    logits, _, state = policy(tokens[:, :1])
    position, generated = 1, 0
    while position < length and generated < MAX_NEW:
        probs = torch.softmax(logits[:, -1], dim=-1)
        token = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        token = torch.where(finished, torch.full_like(token, PAD), token)
        tokens[:, position] = token
        mask[:, position] = (~finished).float()
        last = torch.where(finished, last, torch.full_like(last, position))
        finished = finished | (token == EOS)
        generated += 1
        feed = tokens[:, position : position + 1]
        position += 1
        if multi_turn and generated == OBS_AFTER and position < length:
            # The environment answers: an observation token, seen but not generated.
            tokens[:, position] = torch.where(finished, PAD, OBS)
            logits, _, state = policy(feed, state)
            feed = tokens[:, position : position + 1]
            position += 1
        logits, _, state = policy(feed, state)
    return tokens, mask, last


def rewards_of(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The sequence reward of each response, (B,)."""
    scores = []
    for row in range(tokens.shape[0]):
        generated = tokens[row][mask[row] == 1].tolist()
        scores.append(sequence_reward(int(tokens[row, 0]), generated))
    return torch.tensor(scores)


# --- the advantages, written the way the libraries write them ------------------------------


def library_masked_whiten(values, mask, shift_mean=True):
    """verl's ``masked_whiten``: mean and unbiased variance over the mask."""
    mean = (values * mask).sum() / mask.sum()
    variance = ((values - mean) ** 2 * mask).sum() / mask.sum()
    variance = variance * mask.sum() / (mask.sum() - 1)
    whitened = (values - mean) * torch.rsqrt(variance + 1e-8)
    if not shift_mean:
        whitened += mean
    return whitened


def library_gae(token_level_rewards, values, response_mask, gamma, lam):
    """verl's ``compute_gae_advantage_return`` (multi-turn form): (raw advantages,
    returns, whitened advantages)."""
    with torch.no_grad():
        nextvalues = 0
        lastgaelam = 0
        advantages_reversed = []
        gen_len = token_level_rewards.shape[-1]
        for t in reversed(range(gen_len)):
            delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
            lastgaelam_ = delta + gamma * lam * lastgaelam
            nextvalues = values[:, t] * response_mask[:, t] + (1 - response_mask[:, t]) * nextvalues
            lastgaelam = lastgaelam_ * response_mask[:, t] + (1 - response_mask[:, t]) * lastgaelam
            advantages_reversed.append(lastgaelam)
        advantages = torch.stack(advantages_reversed[::-1], dim=1)
        returns = advantages + values
        whitened = library_masked_whiten(advantages, response_mask)
    return advantages, returns, whitened


def library_grpo(scores, index, epsilon=1e-6, norm_adv_by_std_in_grpo=True):
    """verl's ``compute_grpo_outcome_advantage`` on sequence scores (B,)."""
    scores = scores.clone()
    id2score = defaultdict(list)
    id2mean, id2std = {}, {}
    with torch.no_grad():
        bsz = scores.shape[0]
        for i in range(bsz):
            id2score[index[i]].append(scores[i])
        for idx in id2score:
            if len(id2score[idx]) == 1:
                id2mean[idx] = torch.tensor(0.0)
                id2std[idx] = torch.tensor(1.0)
            else:
                id2mean[idx] = torch.mean(torch.stack(id2score[idx]))
                id2std[idx] = torch.std(torch.stack(id2score[idx]))
        for i in range(bsz):
            if norm_adv_by_std_in_grpo:
                scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + epsilon)
            else:
                scores[i] = scores[i] - id2mean[index[i]]
    return scores


def library_rloo(scores, index):
    """verl's ``compute_rloo_outcome_advantage`` on sequence scores (B,)."""
    scores = scores.clone()
    id2score = defaultdict(list)
    id2mean = {}
    with torch.no_grad():
        bsz = scores.shape[0]
        for i in range(bsz):
            id2score[index[i]].append(scores[i])
        for idx in id2score:
            if len(id2score[idx]) == 1:
                id2mean[idx] = torch.tensor(0.0)
            else:
                id2mean[idx] = torch.mean(torch.stack(id2score[idx]))
        for i in range(bsz):
            response_num = len(id2score[index[i]])
            if response_num > 1:
                scores[i] = scores[i] * response_num / (response_num - 1) - id2mean[
                    index[i]
                ] * response_num / (response_num - 1)
    return scores


# --- the check -----------------------------------------------------------------------------

BACKENDS = ("numpy", "torch")
ROUNDOFF = {"numpy": 2.0**-24, "torch": 2.0**-24}  # the loop runs in float32 either way
SLACK = 64


class Checker:
    """Worst |library − kernel| per backend, against a float32 rounding bound per batch."""

    def __init__(self):
        self.diff = dict.fromkeys(BACKENDS, 0.0)
        self.ratio = dict.fromkeys(BACKENDS, 0.0)
        self.tolerance = dict.fromkeys(BACKENDS, 0.0)
        self.batches = 0

    def compare(self, backend: str, library: torch.Tensor, kernel, steps: int) -> None:
        got = torch.as_tensor(np.asarray(kernel) if not torch.is_tensor(kernel) else kernel)
        expected = library.double()
        diff = float((got.double() - expected).abs().max()) if expected.numel() else 0.0
        scale = 1.0 + float(expected.abs().max()) if expected.numel() else 1.0
        tolerance = SLACK * ROUNDOFF[backend] * scale * max(steps, 1)
        self.diff[backend] = max(self.diff[backend], diff)
        self.tolerance[backend] = max(self.tolerance[backend], tolerance)
        self.ratio[backend] = max(self.ratio[backend], diff / tolerance)

    @property
    def agree(self) -> bool:
        return self.batches > 0 and all(r <= 1.0 for r in self.ratio.values())

    def backends_checked(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "max_abs_diff": self.diff[name],
                "tolerance": self.tolerance[name],
                "max_diff_over_tolerance": self.ratio[name],
                "agree": self.batches > 0 and self.ratio[name] <= 1.0,
            }
            for name in BACKENDS
        ]


def check_token_gae(checker, rewards, values, mask, raw, returns, whitened) -> None:
    """The loop's verl-style GAE (raw, returns, whitened) against numeric.llm, on the
    response tokens (verl leaves the carried values on masked ones)."""
    steps = rewards.shape[1]
    as64 = [x.double().numpy() for x in (rewards, values, mask)]
    for backend, inputs in (("numpy", as64), ("torch", (rewards, values, mask))):
        adv, ret = kernels.token_gae(*inputs, gamma=GAMMA, lam=LAM)
        checker.compare(backend, raw * mask, adv, steps)
        checker.compare(backend, returns * mask, ret, steps)
        white = kernels.whiten(adv, inputs[2], eps=1e-8)
        checker.compare(backend, whitened * mask, white, steps)


def check_group(checker, estimator, scores, ids, library) -> None:
    for backend, inputs in (
        ("numpy", (scores.double().numpy(), ids.numpy())),
        ("torch", (scores, ids)),
    ):
        if estimator == "grpo":
            got = kernels.grpo_advantage(*inputs, eps=GRPO_EPS, std="unbiased")
        elif estimator == "drgrpo":
            got = kernels.drgrpo_advantage(*inputs)
        else:
            got = kernels.rloo_advantage(*inputs)
        checker.compare(backend, library, got, GROUP_SIZE)


# --- training ------------------------------------------------------------------------------


def ppo_update(policy, optimizer, tokens, mask, old_logp, advantages, returns, estimator):
    """Clipped PPO on the response tokens; a value loss for ``gae`` only."""
    tokens_per_batch = mask.shape[0] * (mask.shape[1] - 1)
    for _ in range(PPO_EPOCHS):
        logp, entropy, values = policy.token_stats(tokens)
        ratio = torch.exp(logp - old_logp)
        clipped = torch.clamp(ratio, 1 - CLIP, 1 + CLIP)
        per_token = -torch.min(ratio * advantages, clipped * advantages)
        per_token = per_token - ENTROPY_COEF * entropy
        if estimator == "drgrpo":
            # Dr. GRPO: sum over tokens divided by a constant, not by each response's length.
            loss = (per_token * mask).sum() / tokens_per_batch
        else:
            loss = (per_token * mask).sum() / mask.sum()
        if estimator == "gae":
            loss = loss + 0.5 * (((values - returns) ** 2) * mask).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def run(
    estimator: str = "gae",
    seed: int = 0,
    batches: int = 120,
    multi_turn: bool = False,
    progress=None,
) -> dict[str, Any]:
    """Train with ``estimator``; check every batch's advantages; return the report."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(estimator, seed, batches, multi_turn, progress)
    finally:
        torch.set_num_threads(threads)


def _train(estimator, seed, batches, multi_turn, progress) -> dict[str, Any]:
    start = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    policy = Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=LEARNING_RATE)
    checker = Checker()
    curve: list[float] = []
    content = torch.tensor(CONTENT)
    for batch in range(batches):
        if estimator == "gae":
            choice = torch.randint(len(CONTENT), (PPO_BATCH,), generator=generator)
            group_ids = torch.arange(PPO_BATCH)
        else:
            choice = torch.randint(len(CONTENT), (PROMPTS_PER_BATCH,), generator=generator)
            choice = choice.repeat_interleave(GROUP_SIZE)
            group_ids = torch.arange(PROMPTS_PER_BATCH).repeat_interleave(GROUP_SIZE)
        tokens, mask, last = generate(policy, content[choice], multi_turn, generator)
        scores = rewards_of(tokens, mask)
        curve.append(float(scores.mean()))
        with torch.no_grad():
            old_logp, _, values = policy.token_stats(tokens)
        token_level_rewards = torch.zeros_like(mask)
        token_level_rewards[torch.arange(len(last)), last] = scores

        if estimator == "gae":
            raw, returns, advantages = library_gae(token_level_rewards, values, mask, GAMMA, LAM)
            check_token_gae(checker, token_level_rewards, values, mask, raw, returns, advantages)
        else:
            index = group_ids.tolist()
            if estimator == "rloo":
                per_response = library_rloo(scores, index)
            else:
                per_response = library_grpo(
                    scores, index, GRPO_EPS, norm_adv_by_std_in_grpo=(estimator == "grpo")
                )
            check_group(checker, estimator, scores, group_ids, per_response)
            advantages = per_response.unsqueeze(-1) * mask
            returns = advantages
        checker.batches += 1
        ppo_update(policy, optimizer, tokens, mask, old_logp, advantages, returns, estimator)
        if progress is not None:
            progress(batch + 1, curve[-1])

    tenth = max(1, batches // 10)
    return {
        "estimator": estimator,
        "seed": seed,
        "multi_turn": multi_turn,
        "batches": batches,
        "batches_checked": checker.batches,
        "responses_per_batch": PPO_BATCH if estimator == "gae" else PROMPTS_PER_BATCH * GROUP_SIZE,
        "group_size": None if estimator == "gae" else GROUP_SIZE,
        "sequence_length": sequence_length(multi_turn),
        "backends_checked": checker.backends_checked(),
        "max_abs_diff": max(checker.diff.values()),
        "tolerance": max(checker.tolerance.values()),
        "tolerance_why": (
            f"per batch: {SLACK} x 2^-24 (the loop computes in float32) x (1 + the largest "
            "magnitude) x the steps an error can travel (L for token GAE, K for a group)"
        ),
        "agree": checker.agree,
        "initial_reward": float(np.mean(curve[:tenth])),
        "final_reward": float(np.mean(curve[-tenth:])),
        "learning_curve": [round(x, 4) for x in curve],
        "seconds": round(time.perf_counter() - start, 2),
    }


__all__ = ["ESTIMATORS", "run", "sequence_reward"]
