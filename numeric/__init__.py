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

__all__ = [
    "compute_gae",
    "gae",
    "lambda_return",
    "mc_advantage",
    "nstep_advantage",
    "set_threads",
    "td_error",
]
