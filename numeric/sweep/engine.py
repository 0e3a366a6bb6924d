"""Run a list of CartPole runs on Ray, one task per run, recording each as it finishes.

    outcome = run_sweep(configs, journal, address=None)   # ray.init() on this machine

* **One Ray task per run**, ``num_cpus=1`` each, no retries (a failed run is recorded, not
  repeated behind the user's back). ``address=None`` starts Ray on this machine with every core
  (``num_cpus`` to use fewer); ``"auto"`` or ``"HOST:PORT"`` joins a running cluster, where the
  ``gae-sym`` package must be installed on every node.
* **At most ``concurrency`` tasks in flight** (= the cluster's CPUs): a task is submitted when a
  core is free, so a killed sweep loses at most those runs, and the time between submission and
  result, less the time the run took inside the worker, is Ray's own overhead for that task
  (scheduling, argument and result transfer).
* Each result is appended to the journal (flushed, fsynced) before the next one is taken.
* Ctrl-C cancels the runs in flight, shuts Ray down and raises :class:`SweepInterrupted`
  with the counts; every run finished before it is on disk.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from numeric.sweep.grid import RunConfig
from numeric.sweep.journal import Journal
from numeric.sweep.run import RunFunction, failed_record, run_config

ProgressCallback = Callable[["Progress"], None]
PROBE_TASKS = 20


@dataclass
class Progress:
    """Where a sweep stands; passed to the progress callback after every finished run."""

    total: int
    done: int = 0
    failed: int = 0
    disagree: int = 0
    in_flight: int = 0
    last: dict[str, Any] | None = None


@dataclass
class SweepOutcome:
    """What one invocation of :func:`run_sweep` did (the runs it ran, not those resumed past)."""

    ran: int
    failed: int
    concurrency: int
    address: str
    wall_seconds: float  # first submission to last result
    init_seconds: float  # ray.init (or connecting)
    task_seconds: list[float] = field(default_factory=list)  # each run's time inside its worker
    overhead_seconds: list[float] = field(default_factory=list)  # round trip minus worker time
    probe_round_trip_seconds: float | None = None  # median of sequential no-op tasks
    load_average: list[float] = field(default_factory=list)  # 1-min load, sampled per result
    ray_version: str = ""
    hosts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        tasks = self.task_seconds
        over = sorted(self.overhead_seconds)
        ideal = sum(tasks) / self.concurrency if tasks and self.concurrency else None
        return {
            "ran": self.ran,
            "failed": self.failed,
            "concurrency": self.concurrency,
            "address": self.address,
            "ray_version": self.ray_version,
            "hosts": sorted(set(self.hosts)),
            "init_seconds": round(self.init_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "sum_task_seconds": round(sum(tasks), 3),
            "ideal_seconds": None if ideal is None else round(ideal, 3),
            # 1.0 = perfect: the runs kept every core busy, no time lost to Ray or stragglers
            "wall_over_ideal": None if not ideal else round(self.wall_seconds / ideal, 3),
            "overhead_per_task_seconds": {
                "median": round(statistics.median(over), 4) if over else None,
                "p95": round(over[int(0.95 * (len(over) - 1))], 4) if over else None,
                "max": round(over[-1], 4) if over else None,
                "n": len(over),
            },
            "probe_round_trip_seconds": None
            if self.probe_round_trip_seconds is None
            else round(self.probe_round_trip_seconds, 4),
            "load_average_1min": {
                "mean": round(statistics.fmean(self.load_average), 2)
                if self.load_average
                else None,
                "max": round(max(self.load_average), 2) if self.load_average else None,
            },
        }


class SweepInterrupted(Exception):
    """Ctrl-C: the runs in flight were cancelled; ``outcome`` holds what was done."""

    def __init__(self, outcome: SweepOutcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


class SweepAborted(RuntimeError):
    """The first runs all failed with the same error: a broken setup, not a bad run.

    (A package missing on a cluster node, a learner that no longer imports.) Recording the same
    error for every run of the grid would only hide it; the records written so far are kept.
    """

    def __init__(self, error: str, outcome: SweepOutcome) -> None:
        super().__init__(error)
        self.outcome = outcome


ABORT_AFTER_SAME_FAILURES = 3


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster at ``--address`` cannot be reached."""


def _noop(x: int) -> int:
    return x


def _task(run_fn: RunFunction, config: dict[str, Any]) -> dict[str, Any]:
    return run_fn(config)


def start_ray(address: str | None, num_cpus: int | None) -> tuple[Any, bool]:
    """``ray`` after ``ray.init``; whether this call started it (then it shuts it down)."""
    try:
        import ray
    except ImportError as error:
        raise RayUnavailable(
            "ray is not installed; install the sweep extra: "
            "pip install -c constraints.txt -e '.[sweep]'"
        ) from error
    if ray.is_initialized():
        return ray, False
    # No runtime_env: setting one up costs seconds per worker. Ray already sets OMP_NUM_THREADS
    # to a task's num_cpus (1), and each run pins torch and numba to one thread itself.
    quiet = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
    try:
        if address is None:
            # Ray lowers its workers' priority by 15 (to 19 under `nice -n 10`), below every
            # other job here; let them keep the driver's niceness: `nice` decides, as it says.
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(num_cpus=num_cpus or os.cpu_count(), **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "this machine"
        raise RayUnavailable(f"cannot start or reach Ray at {where}: {error}") from error
    return ray, True


def probe_overhead(ray: Any, n: int = PROBE_TASKS) -> float:
    """Median round trip of a no-op task (after one warm-up), one at a time."""
    noop = ray.remote(num_cpus=1, max_retries=0)(_noop)
    ray.get(noop.remote(0))
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        ray.get(noop.remote(i))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_sweep(
    configs: Sequence[RunConfig],
    journal: Journal,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    run_fn: RunFunction = run_config,
    on_progress: ProgressCallback | None = None,
    probe: bool = True,
) -> SweepOutcome:
    """Run every config as a Ray task, appending each record to ``journal`` as it arrives."""
    t_init = time.perf_counter()
    ray, started_here = start_ray(address, num_cpus)
    try:
        init_seconds = time.perf_counter() - t_init
        concurrency = max(1, int(ray.cluster_resources().get("CPU", 1)))
        outcome = SweepOutcome(
            ran=0,
            failed=0,
            concurrency=concurrency,
            address=address or "local",
            wall_seconds=0.0,
            init_seconds=init_seconds,
            ray_version=ray.__version__,
        )
        if probe:
            outcome.probe_round_trip_seconds = probe_overhead(ray)
        progress = Progress(total=len(configs))
        task = ray.remote(num_cpus=1, max_retries=0)(_task)
        pending = deque(configs)
        in_flight: dict[Any, tuple[RunConfig, float]] = {}
        first_errors: list[str | None] = []
        t_start = time.perf_counter()
        try:
            while pending or in_flight:
                while pending and len(in_flight) < concurrency:
                    config = pending.popleft()
                    ref = task.remote(run_fn, config.as_dict())
                    in_flight[ref] = (config, time.perf_counter())
                progress.in_flight = len(in_flight)
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    config, submitted = in_flight.pop(ref)
                    record = _result(ray, ref, config)
                    round_trip = time.perf_counter() - submitted
                    worker = record.get("seconds")
                    if worker is not None:
                        outcome.task_seconds.append(float(worker))
                        record["ray_overhead_seconds"] = round(max(0.0, round_trip - worker), 4)
                        outcome.overhead_seconds.append(record["ray_overhead_seconds"])
                    journal.append(record)
                    outcome.ran += 1
                    outcome.failed += record["status"] != "ok"
                    outcome.hosts.append(str(record.get("host")))
                    outcome.load_average.append(os.getloadavg()[0])
                    outcome.wall_seconds = time.perf_counter() - t_start
                    progress.done += 1
                    progress.failed += record["status"] != "ok"
                    progress.disagree += record["status"] == "ok" and not record.get("agree")
                    progress.in_flight = len(in_flight)
                    progress.last = record
                    if on_progress is not None:
                        on_progress(progress)
                    first_errors.append(record.get("error") if record["status"] != "ok" else None)
                    if _same_failure(first_errors, len(configs)):
                        for other in in_flight:
                            ray.cancel(other, force=True)
                        raise SweepAborted(str(first_errors[0]), outcome)
        except KeyboardInterrupt:
            # No ray.cancel(force=True) here: a reply arriving for a task just cancelled
            # made Ray's core worker abort ("Tried to complete task that was not pending",
            # seen once in CI), and the exit was not the clean 130. The Ctrl-C reached
            # the workers too, and ray.shutdown() below stops whatever is left.
            outcome.wall_seconds = time.perf_counter() - t_start
            raise SweepInterrupted(outcome) from None
        outcome.wall_seconds = time.perf_counter() - t_start
        return outcome
    finally:
        if started_here:
            ray.shutdown()


def _same_failure(errors: list[str | None], total: int) -> bool:
    """The first ``ABORT_AFTER_SAME_FAILURES`` runs (all of them, if fewer) failed alike."""
    n = min(ABORT_AFTER_SAME_FAILURES, total)
    if total < 2 or len(errors) != n:
        return False
    return errors[0] is not None and all(e == errors[0] for e in errors)


def _result(ray: Any, ref: Any, config: RunConfig) -> dict[str, Any]:
    """The task's record; a task that died in Ray (worker crashed, killed) becomes an error one."""
    try:
        return ray.get(ref)
    except KeyboardInterrupt:
        raise
    except Exception as error:
        cause = getattr(error, "cause", None)  # a RayTaskError wraps what the task raised
        if isinstance(cause, KeyboardInterrupt):
            raise KeyboardInterrupt from None  # the worker got the user's Ctrl-C too
        record = failed_record(config.as_dict(), cause if isinstance(cause, Exception) else error)
        record["traceback"] = str(error)[-4000:]  # Ray's text holds the remote traceback
        return record


__all__ = [
    "Progress",
    "RayUnavailable",
    "SweepAborted",
    "SweepInterrupted",
    "SweepOutcome",
    "probe_overhead",
    "run_sweep",
    "start_ray",
]
