"""`gae-sym bench`: time the project's GAE kernels against the alternatives installed."""

from __future__ import annotations

import argparse
import os
from typing import Any

from gae_sym.cli._common import add_json_flag, add_parser, print_json, progress_bar

DESCRIPTION = """\
Time the project's GAE kernels against the implementations people use, on the same data in
one run: the lecture's textbook Python loop, a numpy loop over T (CleanRL/SB3 style), scipy
lfilter per episode (RLlib/Spinning Up), a plain numba loop and, when the optional extra
`bench` is installed (pip install -c constraints.txt -e '.[bench]'), Stable-Baselines3,
Tianshou and TorchRL through their public APIs; with the `jax` extra, rlax
truncated_generalized_advantage_estimation (jit + vmap), a PureJaxRL-style lax.scan and the
project's JAX kernels: lax.scan, associative_scan, the chunked scan and the numba kernel
called from XLA through its FFI (jitted: the first call, trace + compile, is reported apart
as "compile s"); np.copyto of the same bytes is the floor.

Shapes (T, B) 2048x64, 1,000,000x1 and 128x4096, float32 and float64, plus 1,000,000x64
float32 (out of cache, the fast methods only; not with --quick); gamma=0.99, lambda=0.95,
episodes end at rate 0.005. Every method is checked against a float64 reference
before it is timed (a "!" after max |dA| marks one beyond tolerance); methods are interleaved
in a shuffled order and medians reported.
Caches: by default each timed call follows 5 ms of untimed calls of the same method (at least
one), so every method runs in its steady state with its own data as cached as its size allows
(as after a rollout); --cold writes twice the last-level cache before each timed call instead,
so every method reads from memory.
Columns: M steps/s, effective GB/s (4*itemsize+2 bytes per step), max |A - A_ref|,
speed relative to the best alternative and to Tianshou, and bandwidth relative to the
copy floor. The headline ratios at the end are the project's speed goals, measured in this run.

OMP_WAIT_POLICY=PASSIVE is set for torch unless you set it (OpenMP's default spin-wait
cost ~8 ms per torch parallel region on a 2-vCPU VM). The project's kernels run on one
thread unless GAE_SYM_THREADS says otherwise; the bench also shows them on all cores.

examples:
  gae-sym bench --quick          smaller shapes, 3 repeats, under a minute
  gae-sym bench --cold           every call from memory (caches flushed before each)
  gae-sym bench --json > bench.json

exit status: 0 the bench ran (a method that fails is a row saying so), 2 bad command line.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "bench", "time the kernels against the alternatives installed", DESCRIPTION
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller shapes (2048x64, 50000x1, 128x1024) and 3 repeats: under a minute",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="flush the caches (write twice the last-level cache) before each timed call, "
        "instead of calling the method once untimed",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Before torch (imported by the methods) starts its OpenMP runtime.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from numeric import bench

    shapes = bench.QUICK_SHAPES if args.quick else bench.SHAPES
    repeats = 3 if args.quick else 7
    budget = bench.QUICK_TIME_BUDGET_S if args.quick else bench.TIME_BUDGET_S
    total = (len(shapes) * len(bench.DTYPES) + (0 if args.quick else 1)) * repeats
    # A bar on a terminal; in a redirected log one plain line a minute, never \r redraws.
    with progress_bar(total, "gae-sym bench", "round", log_every_s=60) as bar:
        document = bench.run_bench(
            shapes,
            repeats=repeats,
            time_budget_s=budget,
            progress=lambda: bar.update(1),
            large=not args.quick,
            cache="cold" if args.cold else "warm",
        )
    document["quick"] = bool(args.quick)
    if args.json:
        print_json(document)
    else:
        print(format_table(document))
    return 0


def bench_tianshou() -> str:
    from numeric import bench

    return bench.TIANSHOU


HEADLINE_GOALS = (
    ("kernel_vs_tianshou", "kernel / Tianshou", ">= 4"),
    ("kernel_vs_plain_numba", "kernel / plain numba loop", ">= 1"),
    ("kernel_over_public", "kernel / public numeric.gae", "<= 1.5 at 2048x64 float32"),
    ("jax_numba_vs_rlax", "JAX numba-through-FFI / rlax", ">= 2"),
    ("jax_numba_threads_vs_rlax", "JAX numba-through-FFI on all cores / rlax", ">= 2"),
    ("jax_vs_rlax", "JAX lax.scan / rlax (rlax runs the same scan)", ">= 2"),
    ("jax_associative_vs_rlax", "JAX associative_scan / rlax", ""),
    ("jax_chunked_vs_rlax", "JAX chunked scan / rlax", ""),
    ("kernel_vs_rlax", "numba kernel (one core) / rlax, the ceiling of the JAX goal", ""),
    ("kernel_vs_copy", "kernel GB/s / np.copyto GB/s", ">= 0.5 at 1000000x64 float32"),
    ("public_vs_copy", "public numeric.gae GB/s / np.copyto GB/s", ">= 0.5 at 1000000x64 float32"),
)


def format_headline(entries: list[dict[str, Any]]) -> list[str]:
    """One line per case with the issue's ratios ("-": a method that did not run here)."""
    if not entries:
        return []
    lines = ["\nheadline ratios (goal):"]
    for key, label, goal in HEADLINE_GOALS:
        cells = []
        for entry in entries:
            value = entry.get(key)
            if value is not None:
                cells.append(
                    f"{entry['shape'][0]}x{entry['shape'][1]} {entry['dtype']} {value:.2f}"
                )
        if cells:
            suffix = f" (goal {goal})" if goal else ""
            lines.append(f"  {label}{suffix}: " + ", ".join(cells))
    return lines


def format_table(document: dict[str, Any]) -> str:
    """The bench as one plain-text table per (shape, dtype), then the headline ratios."""
    lines: list[str] = []
    cases: dict[tuple[tuple[int, ...], str], list[dict[str, Any]]] = {}
    for row in document["results"]:
        cases.setdefault((tuple(row["shape"]), row["dtype"]), []).append(row)
    header = (
        f"{'method':<48} {'M steps/s':>10} {'GB/s':>7} {'max|dA|':>9} "
        f"{'x best alt':>10} {'x Tianshou':>13} {'x copy':>7} {'compile s':>9}"
    )
    tianshou_missing = any(s.startswith(bench_tianshou()) for s in document["skipped"])
    for (shape, dtype), rows in cases.items():
        lines.append(f"\n{shape[0]} x {shape[1]}  {dtype}")
        lines.append(header)
        for row in sorted(rows, key=lambda r: -r.get("m_steps_per_s", -1.0)):
            if "error" in row:
                lines.append(f"{row['method']:<48} failed: {row['error'][:60]}")
                continue
            diff = "" if row["max_abs_diff"] is None else f"{row['max_abs_diff']:.1e}"
            if row.get("correct") is False:
                diff += "!"  # beyond tolerance: not a candidate for "best alternative"
            if "vs_tianshou" in row:
                tianshou = f"{row['vs_tianshou']:.2f}"
            else:
                tianshou = "not installed" if tianshou_missing else "n/a"
            compile_s = row.get("compile_seconds")
            lines.append(
                f"{row['method']:<48} {row['m_steps_per_s']:>10.1f} {row['gb_per_s']:>7.2f} "
                f"{diff:>9} {row.get('vs_best_alternative', float('nan')):>10.2f} "
                f"{tianshou:>13} {row.get('vs_copy', float('nan')):>7.2f} "
                f"{'' if compile_s is None else f'{compile_s:.2f}':>9}"
            )
    if any(row.get("correct") is False for row in document["results"]):
        lines.append("\n! = max |dA| beyond the tolerance: that method computed something else")
    lines.extend(format_headline(document.get("headline", [])))
    if document["skipped"]:
        lines.append("\nskipped: " + "; ".join(document["skipped"]))
    env = document["environment"]
    if document.get("cache") == "cold":
        state = f"each after a {document['flush_bytes'] >> 20} MiB cache flush (cold)"
    else:
        warm_ms = (document.get("warm_seconds") or 0) * 1e3
        state = f"each after {warm_ms:g} ms of untimed calls of the same method (warm)"
    lines.append(
        f"\nmedian of up to {document['repeats']} interleaved repeats, {state}; "
        f"cpus={env['cpu_count']}, load average={env['load_average']}, "
        f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}"
    )
    return "\n".join(lines)
