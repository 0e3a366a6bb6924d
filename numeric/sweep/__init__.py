"""Sweeps of CartPole runs on Ray: a grid of (variant, γ, λ, lr, seed), one Ray task per run.

    from numeric.sweep import Journal, grid, run_sweep

    configs = grid(variants=["batched"], gammas=[0.99], lams=[0, 0.95, 1], lrs=[3e-3],
                   seeds=[1, 2], max_env_steps=50_000)
    with Journal(Path("runs/demo")) as journal:
        outcome = run_sweep(configs, journal)          # ray.init() on this machine

* :mod:`numeric.sweep.grid`: :class:`RunConfig` (one run, identified by its whole config),
  :func:`grid` (a product of settings), :func:`experiments_plan` (the runs of
  ``numeric.cartpole.experiments`` as sweep runs);
* :mod:`numeric.sweep.run`: :func:`run_config`, one run on a worker (single-threaded torch and
  numba, the kernel check on every rollout), returning its record; a run that raises gives an
  error record instead;
* :mod:`numeric.sweep.journal`: ``OUT/runs.jsonl``, one fsynced line per finished run;
* :mod:`numeric.sweep.engine`: :func:`run_sweep`, the Ray driver (at most one run per core in
  flight, Ctrl-C cancels them cleanly).

The summary statistics and figures are in :mod:`gae_sym.sweep_report` (plain numpy and
matplotlib, so the notes can use them without importing this package). ``gae-sym sweep`` is
the command line.
"""

from numeric.sweep.engine import (
    Progress,
    RayUnavailable,
    SweepAborted,
    SweepInterrupted,
    SweepOutcome,
    run_sweep,
)
from numeric.sweep.grid import RunConfig, experiments_plan, grid, run_key
from numeric.sweep.journal import Journal, JournalError, latest_by_key, read_records
from numeric.sweep.run import as_experiment_record, run_config

__all__ = [
    "Journal",
    "JournalError",
    "Progress",
    "RayUnavailable",
    "RunConfig",
    "SweepAborted",
    "SweepInterrupted",
    "SweepOutcome",
    "as_experiment_record",
    "experiments_plan",
    "grid",
    "latest_by_key",
    "read_records",
    "run_config",
    "run_key",
    "run_sweep",
]
