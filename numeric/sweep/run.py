"""One run of a sweep, as it executes on a worker: train, check, and return its record.

:func:`run_config` is what a Ray task calls. It never raises for a failing run: the record
then has ``status="error"`` and the error, so one bad run cannot stop a sweep. A record:

``key``, ``config``          the run's identity (:func:`numeric.sweep.grid.run_key`) and settings
``status``, ``error``        ``"ok"``, or ``"error"`` with ``"Type: message"`` (+ ``traceback``)
``solved``, ``steps_to_solve``, ``solved_at_episode``
                             first env step at which the 100-episode mean return reached 475
                             (CartPole-v1's threshold), ``null`` if it never did within the budget
``final_mean_return``        mean return of the last 100 episodes when the run stopped
``curve``                    the learning curve, summarised: the 100-episode mean return at every
                             ``every`` env steps (the value at the last episode end before it)
``episodes``, ``env_steps``, ``updates``
``agree``, ``max_abs_diff``, ``rollouts_checked``
                             the kernel check on every rollout (numeric.rollout_check)
``train_seconds``, ``check_seconds``, ``seconds``
                             training clock, time in the check, and the whole task in the worker
``started_at``, ``finished_at`` (Unix time), ``host``, ``pid``, ``threads``
``episode_returns``          only when the config asks for them (``keep_episode_returns``)
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

from numeric.sweep.grid import RunConfig

CURVE_EVERY = 5_000  # env steps between two points of the recorded learning curve

RunFunction = Callable[[dict[str, Any]], dict[str, Any]]


def single_thread() -> dict[str, int]:
    """One thread per run: torch intra-op (and inter-op when still settable) and numba.

    Concurrency comes from running one task per core; a task that spawned a thread pool of its
    own would fight its neighbours for the same cores.
    """
    import torch

    torch.set_num_threads(1)
    # only settable before the first parallel work of the process
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    threads = {"torch": torch.get_num_threads(), "torch_interop": torch.get_num_interop_threads()}
    try:
        import numba

        numba.set_num_threads(1)
        threads["numba"] = numba.get_num_threads()
    except ImportError:
        pass
    return threads


class _Curve:
    """Collects the 100-episode mean return at every ``every`` env steps (an episode callback)."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.points: list[float] = []
        self._last_mean = 0.0

    def __call__(self, episode: Any) -> None:
        while episode.env_steps >= (len(self.points) + 1) * self.every:
            self.points.append(round(self._last_mean, 1))
        self._last_mean = float(episode.mean_return_last_100)

    def finish(self, env_steps: int) -> list[float]:
        while env_steps >= (len(self.points) + 1) * self.every:
            self.points.append(round(self._last_mean, 1))
        return self.points


def learner_config(config: RunConfig):
    """The learner's own config dataclass for ``config`` (no wall-clock budget = infinite)."""
    experiments = _experiments()
    return experiments.make_config(
        config.variant,
        seed=config.seed,
        gamma=config.gamma,
        lam=config.lam,
        lr=config.lr,
        max_env_steps=config.max_env_steps,
        max_seconds=math.inf if config.max_seconds is None else config.max_seconds,
        **dict(config.overrides),
    )


def _experiments():
    from numeric.sweep.learners import cartpole_experiments

    return cartpole_experiments()


def run_config(config_dict: dict[str, Any]) -> dict[str, Any]:
    """Train one run with the rollout check on every rollout; its record (see module docstring)."""
    from numeric.sweep.learners import episode_log_class, rollout_checker_class

    started = time.time()
    t0 = time.perf_counter()
    base: dict[str, Any] = {
        "key": None,
        "config": config_dict,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": round(started, 3),
    }
    try:
        config = RunConfig.from_dict(config_dict)
        base["key"], base["config"] = config.key, config.as_dict()
        base["threads"] = single_thread()
        cfg = learner_config(config)
        curve = _Curve(CURVE_EVERY)
        log = episode_log_class()(on_episode=curve)
        checker = rollout_checker_class()()
        result = _experiments().train_variant(config.variant, cfg, log=log, on_rollout=checker)
        check = checker.summary()
        record = {
            **base,
            "status": "ok",
            "error": None,
            "solved": bool(log.solved),
            "steps_to_solve": log.solved_at_step,
            "solved_at_episode": log.solved_at_episode,
            "final_mean_return": round(log.mean_last_100(), 2),
            "curve": {"every": CURVE_EVERY, "mean_return_last_100": curve.finish(log.env_steps)},
            "episodes": len(log.returns),
            "env_steps": int(log.env_steps),
            "updates": int(result.updates),
            "agree": bool(check["agree"]),
            "max_abs_diff": float(check["max_abs_diff"]),
            "rollouts_checked": int(check["rollouts_checked"]),
            "train_seconds": round(log.seconds, 3),
            "check_seconds": round(log.check_seconds, 3),
        }
        if config.keep_episode_returns:
            record["episode_returns"] = [int(r) for r in log.returns]
    except Exception as error:  # a failing run is a result, not the end of the sweep
        record = failed_record(config_dict, error, base)
    record["seconds"] = round(time.perf_counter() - t0, 3)
    record["finished_at"] = round(time.time(), 3)
    return record


def failed_record(
    config_dict: dict[str, Any], error: BaseException, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record of a run that raised (on the worker, or in Ray: a crashed worker)."""
    try:
        key = RunConfig.from_dict(config_dict).key
    except Exception:  # a config that cannot even be read still gets a line
        key = repr(sorted(config_dict.items()))
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return {
        **(base or {"config": config_dict}),
        "key": key,
        "status": "error",
        "error": f"{type(error).__name__}: {error}".strip()[:2000],
        "traceback": "".join(lines)[-4000:],
        "solved": False,
        "steps_to_solve": None,
    }


def as_experiment_record(record: dict[str, Any]) -> dict[str, Any]:
    """A sweep record in the format of ``numeric.cartpole.experiments``' ``runs.json``."""
    config = record["config"]
    return {
        "variant": config["variant"],
        "seed": config["seed"],
        "lr": config["lr"],
        "label": config["label"],
        "episodes": record.get("episodes", 0),
        "env_steps": record.get("env_steps", 0),
        "seconds": round(float(record.get("train_seconds") or 0.0), 2),
        "solved": bool(record.get("solved")),
        "solved_at_episode": record.get("solved_at_episode"),
        "solved_at_step": record.get("steps_to_solve"),
        "mean_return_last_100": record.get("final_mean_return", 0.0),
        "episode_returns": record.get("episode_returns", []),
        "max_abs_diff": record.get("max_abs_diff", float("nan")),
        "agree": bool(record.get("agree")),
    }


__all__ = ["CURVE_EVERY", "as_experiment_record", "failed_record", "run_config", "single_thread"]
