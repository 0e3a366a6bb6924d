"""The data of the notes' chapter "From CartPole to language models".

Two parts, written to ``docs/data/llm/llm.json`` by::

    python -m numeric.llm.experiments --out docs/data/llm

* ``exact``: the group estimators on a problem where the answer is known. A softmax policy
  over M = 4 responses to one prompt, with known rewards f(a); K responses are sampled
  independently; each estimator gives g = (1/K) Σ_i A_i ∇_θ log π(a_i). Every one of the
  M^K groups is enumerated with its probability, so E[g] and E‖g − E[g]‖² are exact (no
  sampling), and compared with the true gradient ∇J = Σ_a π(a) f(a) ∇ log π(a).
* ``toy``: ``gae-sym llm-toy`` for each estimator, single- and multi-turn, its learning
  curve and its kernel check.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

GROUP_ESTIMATORS = ("reinforce", "rloo", "drgrpo", "grpo", "grpo-biased")
EPS = 1e-6
PROBLEMS = {
    "rare-correct": {
        "what": "binary reward, the correct response is the least likely",
        "probs": (0.1, 0.2, 0.3, 0.4),
        "rewards": (1.0, 0.0, 0.0, 0.0),
    },
    "graded": {
        "what": "graded rewards",
        "probs": (0.4, 0.3, 0.2, 0.1),
        "rewards": (0.0, 0.2, 0.7, 1.0),
    },
}
GROUP_SIZES = (2, 4, 8)


def group_advantages(rewards: np.ndarray, estimator: str) -> np.ndarray:
    """A_i for groups in the rows of ``rewards`` (G, K), computed by numeric.llm's generated
    kernels (one group id per row); ``reinforce`` is the score itself (no baseline)."""
    if estimator == "reinforce":
        return rewards
    from numeric import llm

    scores = rewards.reshape(-1)
    ids = np.repeat(np.arange(rewards.shape[0]), rewards.shape[1])
    if estimator == "drgrpo":
        advantages = llm.drgrpo_advantage(scores, ids)
    elif estimator == "rloo":
        advantages = llm.rloo_advantage(scores, ids)
    else:
        std = "unbiased" if estimator == "grpo" else "biased"
        advantages = llm.grpo_advantage(scores, ids, eps=EPS, std=std)
    return advantages.reshape(rewards.shape)


def exact_moments(probs, rewards, k: int, estimator: str) -> dict[str, float]:
    """E[g] against ∇J, and the variance of g, by enumerating all M^K groups."""
    p, f = np.asarray(probs, float), np.asarray(rewards, float)
    m = len(p)
    score = np.eye(m) - p[None, :]  # ∇_θ log π(a) for softmax logits θ, one row per a
    true = (p * f) @ score
    groups = np.array(list(itertools.product(range(m), repeat=k)))  # (M^K, K)
    weight = np.prod(p[groups], axis=1)
    adv = group_advantages(f[groups], estimator)
    g = np.einsum("gk,gkd->gd", adv, score[groups]) / k
    mean = weight @ g
    variance = float(weight @ ((g - mean) ** 2).sum(axis=1))
    norm2 = float(true @ true)
    scale = float(mean @ true) / norm2
    cosine = float(mean @ true) / (np.linalg.norm(mean) * np.sqrt(norm2) + 1e-300)
    return {
        "scale": scale,
        "cosine": cosine,
        "direction_error": float(np.linalg.norm(mean - scale * true) / np.sqrt(norm2)),
        "relative_variance": variance / norm2,
        "unbiased": bool(np.allclose(mean, true, atol=1e-12)),
    }


def exact_study() -> list[dict[str, Any]]:
    rows = []
    for name, problem in PROBLEMS.items():
        for k in GROUP_SIZES:
            for estimator in GROUP_ESTIMATORS:
                moments = exact_moments(problem["probs"], problem["rewards"], k, estimator)
                rows.append({"problem": name, "K": k, "estimator": estimator, **moments})
    return rows


def toy_runs(seed: int = 0, batches: int = 120) -> list[dict[str, Any]]:
    from numeric.llm.toy import ESTIMATORS, run

    runs = []
    for estimator in ESTIMATORS:
        for multi_turn in (False, True):
            report = run(estimator, seed=seed, batches=batches, multi_turn=multi_turn)
            report.pop("tolerance_why", None)
            runs.append(report)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batches", type=int, default=120)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "command": "python -m numeric.llm.experiments --out docs/data/llm",
        "problems": PROBLEMS,
        "eps": EPS,
        "exact": exact_study(),
        "toy": toy_runs(args.seed, args.batches),
    }
    (args.out / "llm.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {args.out / 'llm.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
