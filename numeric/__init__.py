"""Numeric advantage estimators, generated from the proven formulas of ``gae_sym``.

One function per estimator, same signature everywhere (the trajectory convention of
DESIGN.md): arrays of shape ``(T, *batch)``, time-major::

    td_error(rewards, values, next_values, terminated, truncated, *, gamma)
    nstep_advantage(rewards, values, next_values, terminated, truncated, *, gamma, n)
    mc_advantage(rewards, values, next_values, terminated, truncated, *, gamma)
    gae(rewards, values, next_values, terminated, truncated, *, gamma, lam)
    lambda_return(rewards, values, next_values, terminated, truncated, *, gamma, lam)

numpy in, numpy out; torch in, torch out on the same device. ``compute_gae`` keeps the
lecture's signature. This package never imports SymPy.

For RL on language models (``numeric.llm``): ``token_gae``, ``whiten``, ``grpo_advantage``,
``drgrpo_advantage``, ``rloo_advantage``, ``reinforce_pp_returns``, ``broadcast``.
"""

from numeric._threads import set_threads
from numeric.estimators import (
    compute_gae,
    gae,
    lambda_return,
    mc_advantage,
    nstep_advantage,
    td_error,
)
from numeric.llm import (
    broadcast,
    drgrpo_advantage,
    grpo_advantage,
    reinforce_pp_returns,
    rloo_advantage,
    token_gae,
    whiten,
)

__all__ = [
    "broadcast",
    "compute_gae",
    "drgrpo_advantage",
    "gae",
    "grpo_advantage",
    "lambda_return",
    "mc_advantage",
    "nstep_advantage",
    "reinforce_pp_returns",
    "rloo_advantage",
    "set_threads",
    "td_error",
    "token_gae",
    "whiten",
]
