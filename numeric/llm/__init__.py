"""RL on language models: token-level GAE with response masks, group (outcome)
estimators, and the toy run that checks them (``numeric.llm.toy``, ``gae-sym llm-toy``).

See :mod:`numeric.llm.estimators` for the conventions (shapes ``(B, L)`` and ``(B,)``,
skip masks, returns before whitening, GRPO's std)."""

from numeric.llm.estimators import (
    STDS,
    broadcast,
    drgrpo_advantage,
    grpo_advantage,
    reinforce_pp_returns,
    rloo_advantage,
    token_gae,
    whiten,
)

__all__ = [
    "STDS",
    "broadcast",
    "drgrpo_advantage",
    "grpo_advantage",
    "reinforce_pp_returns",
    "rloo_advantage",
    "token_gae",
    "whiten",
]
