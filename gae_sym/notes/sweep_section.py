"""The notes' section "Does λ matter for learning?", built from a committed sweep.

Data: ``docs/data/sweep/runs.jsonl`` (one record per run, written by ``gae-sym sweep``) and
``docs/data/sweep/sweep.json`` (the command and how each session ran). Every number and every
verdict in the text is computed here from those records (with the statistics of
:mod:`gae_sym.sweep_report`), next to the exact-MDP study and to what Schulman et al. (2016)
report for cart-pole. A claim the data cannot decide is said to be unsupported, with the numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gae_sym.notes.claims import fmt
from gae_sym.notes.data import NotesData, default_data_dir
from gae_sym.notes.document import Bullets, Figure, Para, Section, Table
from gae_sym.sweep_report import (
    BOOTSTRAP_SAMPLES,
    TABLE_HEADER,
    fmt_steps,
    plot_heatmap,
    plot_steps_to_solve,
    summarize,
    table_rows,
)

SWEEP_DIR = Path("sweep")
SWEEP_COMMAND = (
    "gae-sym sweep --variant batched --lam 0,0.5,0.8,0.9,0.95,0.97,0.99,1 --gamma 0.95,0.99,1 "
    "--seeds 10 --max-env-steps 300000 --out docs/data/sweep"
)
STEPS_FIGURE, HEATMAP_FIGURE = "sweep-steps-to-solve.png", "sweep-heatmap.png"

# Schulman, Moritz, Levine, Jordan, Abbeel (2016), "High-Dimensional Continuous Control Using
# Generalized Advantage Estimation", ICLR 2016 (arXiv:1506.02438): §6.2, §6.3.1 and Figure 2,
# quoted as printed (including the caption's "obtain").
SCHULMAN_SETUP = (
    "TRPO policy updates; for cart-pole 'a linear policy, and a neural network with one "
    "20-unit hidden layer as the value function'; '20 trajectories per batch, with a maximum "
    "length of 1000 timesteps, using the physical parameters from Barto et al. (1983)'; results "
    "in terms of cost (negative reward), 'averaged across 21 experiments with different random "
    "seeds'"
)
SCHULMAN_FINDING = (
    "the best results are obtained at intermediate values of the parameters: "
    "γ ∈ [0.96, 0.99] and λ ∈ [0.92, 0.99]"
)
SCHULMAN_CAPTION = (
    "Left: learning curves for cart-pole task, using generalized advantage estimation with "
    "varying values of λ at γ = 0.99. The fastest policy improvement is obtain by intermediate "
    "values of λ in the range [0.92, 0.98]. Right: performance after 20 iterations of policy "
    "optimization, as γ and λ are varied. White means higher reward. The best results are "
    "obtained at intermediate values of both."
)
# The λ of the left panel's legend (at γ = 0.99), besides "No VF" (a time-dependent baseline).
SCHULMAN_LEFT_LAMBDAS = (0.0, 0.36, 0.68, 0.84, 0.92, 0.96, 0.98, 0.99, 1.0)
SCHULMAN_BEST_GAMMA = (0.96, 0.99)
SCHULMAN_BEST_LAMBDA = (0.92, 0.99)
SCHULMAN_FASTEST_LAMBDA = (0.92, 0.98)


def load_sweep(data_dir: Path | None = None) -> dict[str, Any] | None:
    """``{"records": [...], "meta": {...}}`` from ``data_dir/sweep`` (default: this tree's
    docs/data), or None when the sweep was never run. A torn last line is ignored."""
    folder = (default_data_dir() if data_dir is None else Path(data_dir)) / SWEEP_DIR
    runs = folder / "runs.jsonl"
    if not runs.is_file():
        return None
    lines = runs.read_text(encoding="utf-8").split("\n")[:-1]
    try:
        records = [json.loads(line) for line in lines if line.strip()]
        meta_path = folder / "sweep.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the sweep in {folder}: {error}") from error
    return {"records": records, "meta": meta}


# --- comparisons ---------------------------------------------------------------------------------


def _interval(group: dict[str, Any]) -> tuple[float, float]:
    ci = group["steps_to_solve"]["ci95"] or (None, None)
    return (math.inf if ci[0] is None else ci[0], math.inf if ci[1] is None else ci[1])


def _median(group: dict[str, Any]) -> float:
    m = group["steps_to_solve"]["median"]
    return math.inf if m is None else float(m)


def faster(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """``a`` solves in fewer steps than ``b`` beyond doubt: their 95% intervals do not overlap."""
    return _interval(a)[1] < _interval(b)[0]


def fastest(groups: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Lowest median steps to solve; ties broken by more runs solved, then higher final return."""
    solvers = [g for g in groups if math.isfinite(_median(g))]
    if not solvers:
        return None
    return min(
        solvers,
        key=lambda g: (_median(g), -g["solved"], -(g["final_mean_return"]["mean"] or 0.0)),
    )


def _steps(group: dict[str, Any]) -> str:
    """``118k (95% CI 96k–130k), 10/10 solved``."""
    lo, hi = group["steps_to_solve"]["ci95"] or (None, None)
    ci = f"{fmt_steps(lo) if lo is not None else '∞'}–{fmt_steps(hi) if hi is not None else '∞'}"
    median = group["steps_to_solve"]["median"]
    head = "median not reached" if median is None else f"median {fmt_steps(median)} steps"
    return f"{head} (95% CI {ci}), {group['solved']}/{group['runs']} solved"


def interior_verdict(gamma: float, by_lam: dict[float, dict[str, Any]]) -> str:
    """Is an intermediate λ (0 < λ < 1) faster than both λ = 0 and λ = 1 at this γ?"""
    best = fastest(list(by_lam.values()))
    if best is None:
        return f"γ = {gamma:g}: no λ reaches a median within the budget; nothing to decide."
    lam = best["lam"]
    ends = [by_lam[e] for e in (0.0, 1.0) if e in by_lam]
    where = f"γ = {gamma:g}: the fastest λ is {lam:g} ({_steps(best)})"
    if lam in (0.0, 1.0):
        middle = [g for g in by_lam.values() if 0.0 < g["lam"] < 1.0]
        if middle and all(faster(best, g) for g in middle):
            return (
                f"{where}, an end point, faster than every intermediate λ beyond the 95% "
                "intervals: contradicts 'intermediate λ learns fastest' here."
            )
        return (
            f"{where}, an end point; no intermediate λ is faster than it beyond the 95% "
            "intervals: 'intermediate λ learns fastest' is unsupported here."
        )
    beaten = [e for e in ends if faster(best, e)]
    if len(beaten) == len(ends):
        return f"{where}; faster than both λ = 0 and λ = 1 beyond their 95% intervals: supported."
    tied = ", ".join(f"λ = {e['lam']:g} ({_steps(e)})" for e in ends if e not in beaten)
    return (
        f"{where}, but its interval overlaps {tied}: with {best['runs']} seeds an "
        "intermediate optimum is unsupported here."
    )


# --- the section --------------------------------------------------------------------------------


def sweep_section(data: NotesData, sweep: dict[str, Any] | None) -> tuple[Section, list]:
    """The section and its figure jobs (``(file, draw)`` pairs for :class:`FigureJob`)."""
    section = Section(id="lambda-learning", title="Does λ matter for learning?")
    if not sweep or not sweep["records"]:
        section.blocks.append(
            Para(
                "The sweep is missing: `docs/data/sweep/runs.jsonl` does not exist yet. It is "
                f"written by `{SWEEP_COMMAND}` (about an hour on two cores); then run "
                "`gae-sym notes` again."
            )
        )
        return section, []
    records = [r for r in sweep["records"] if r.get("config", {}).get("label") == "grid"]
    summary = summarize(records)
    meta = sweep.get("meta") or {}
    groups = [g for g in summary["groups"] if g["variant"] == "batched" and g["runs"]]
    gammas = sorted({g["gamma"] for g in groups})
    lams = sorted({g["lam"] for g in groups})
    seeds = _seed_range(groups)
    grid_runs = int(meta.get("grid_runs") or summary["runs"])
    complete = (
        ""
        if summary["runs"] >= grid_runs
        else f" Only {summary['runs']} of the grid's {grid_runs} runs were recorded when these "
        "notes were made (the sweep was stopped; the same command with `--resume` completes "
        "it, seeds outermost, so every cell has its first seeds)."
    )
    budget = max((int(g["max_env_steps"]) for g in groups), default=0)
    by = {(g["gamma"], g["lam"]): g for g in groups}

    section.blocks += [
        Para(
            "The lecture's central claim is that λ trades bias for variance and that an "
            "intermediate λ learns best. The study above measures the bias and the variance; "
            "this section measures learning. The batched A2C learner of `gae-sym cartpole` "
            "(8 envs × 16 steps per update, Adam lr 3e-3, separate 64-64 tanh networks, the "
            "kernel check on every rollout) was trained on CartPole-v1 for every "
            f"γ ∈ {{{', '.join(f'{g:g}' for g in gammas)}}} and "
            f"λ ∈ {{{', '.join(f'{lam:g}' for lam in lams)}}}, {seeds} seeds each, until solved "
            f"(100-episode mean return ≥ 475) or {budget:,} env steps."
        ),
        Para(
            f"{summary['runs']} runs read from `docs/data/sweep/runs.jsonl`, written by "
            f"`{meta.get('command') or SWEEP_COMMAND}` (one Ray task per run). "
            f"{summary['ok']} finished, {summary['failed']} failed, {summary['solved']} solved; "
            f"the kernels agreed with the training loop in {summary['agree']} of "
            f"{summary['ok']} runs"
            + (
                f" (largest |difference| {summary['max_abs_diff']:.1e})."
                if summary["max_abs_diff"] is not None
                else "."
            )
            + complete
        ),
        Para(
            "Steps to solve are counted over all the runs of a cell: an unsolved run counts "
            "as more than the budget, so a median that falls on one is 'not reached' (–, or "
            "∞ in an interval), never the budget itself. Intervals are percentile bootstrap "
            f"95% intervals ({BOOTSTRAP_SAMPLES} resamples of the seeds, fixed random seed). "
            "'Final return' is the mean over seeds of each run's last-100-episode mean when "
            "it stopped (solved runs stop at about 475)."
        ),
        Figure(
            STEPS_FIGURE,
            "Median env steps to solve CartPole-v1 against λ, one line per γ, bootstrap 95% "
            "intervals shaded; open markers: median not reached within the budget.",
        ),
        Figure(HEATMAP_FIGURE, "The same grid as γ × λ: solved runs and median steps per cell."),
        Table(
            header=TABLE_HEADER[1:],
            rows=tuple(row[1:] for row in table_rows({"groups": groups})),
            caption=f"The sweep: batched A2C on CartPole-v1, {seeds} seeds per cell",
        ),
        Para("What the data says, decided from the intervals:"),
        Bullets(
            tuple(
                interior_verdict(g, {lam: by[(g, lam)] for lam in lams if (g, lam) in by})
                for g in gammas
            )
        ),
    ]
    section.blocks += _lecture_table_blocks(by, gammas)
    section.blocks += _study_blocks(data, by)
    section.blocks += _schulman_blocks(by, gammas, lams)
    section.blocks += _parallel_blocks(meta)

    jobs = [
        (
            STEPS_FIGURE,
            lambda path: plot_steps_to_solve(
                path, {"groups": groups}, "CartPole-v1, batched A2C: steps to solve vs λ"
            ),
        ),
        (
            HEATMAP_FIGURE,
            lambda path: plot_heatmap(
                path, {"groups": groups}, "CartPole-v1, batched A2C: median steps to solve"
            ),
        ),
    ]
    return section, jobs


def _seed_range(groups: list[dict[str, Any]]) -> str:
    """Seeds per cell: ``10``, or ``4–10`` while a sweep is incomplete."""
    counts = sorted({len(g["seeds"]) for g in groups}) or [0]
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def _lecture_table_blocks(by: dict, gammas: list[float]) -> list:
    """The lecture's 'Speed' column for 1-step (λ = 0), GAE λ = 0.95 and Monte Carlo (λ = 1)."""
    gamma = 0.99 if 0.99 in gammas else (gammas[-1] if gammas else None)
    cells = {lam: by.get((gamma, lam)) for lam in (0.0, 0.95, 1.0)}
    if gamma is None or any(c is None for c in cells.values()):
        return [Para("The lecture's table needs λ = 0, 0.95 and 1 in the sweep; not all ran.")]
    one, gae, mc = cells[0.0], cells[0.95], cells[1.0]

    def against_gae(cell: dict[str, Any], claim: str) -> str:
        """The table's rating of ``cell`` against GAE(0.95)'s 'Fast', decided by the intervals."""
        if faster(gae, cell):
            relation = "slower than λ = 0.95 beyond the intervals"
        elif faster(cell, gae):
            relation = "faster than λ = 0.95 beyond the intervals"
        else:
            relation = "not distinguishable from λ = 0.95 (the intervals overlap)"
        if claim == "Slow":
            verdict = {
                "slower": "supported",
                "faster": "contradicted",
                "not distinguishable": "unsupported",
            }[relation.split(" than")[0].split(" from")[0]]
        else:  # "Fast", the same rating as GAE(0.95)
            verdict = {
                "slower": "contradicted",
                "faster": "supported",
                "not distinguishable": "not contradicted, and not shown either",
            }[relation.split(" than")[0].split(" from")[0]]
        return f"{_steps(cell)}: {relation}; the table's '{claim}' is {verdict}."

    fastest_three = fastest([one, gae, mc])
    gae_rank = (
        "the fastest of the three"
        if fastest_three is gae
        else f"not the fastest of the three (λ = {fastest_three['lam']:g} is)"
        if fastest_three is not None
        else "unsolved, as are the others"
    )
    return [
        Para(
            "The lecture's comparison table rates speed as 'Fast' for the one-step "
            "actor-critic (λ = 0), 'Fast' for GAE (λ = 0.95) and 'Slow' for Monte Carlo "
            f"(GAE λ = 1). At γ = {gamma:g} (the lecture's default), against GAE(λ = 0.95):"
        ),
        Bullets(
            (
                f"GAE, λ = 0.95: {_steps(gae)}; by median it is {gae_rank}.",
                "Actor-critic (1-step), λ = 0: " + against_gae(one, "Fast"),
                "Monte Carlo, λ = 1: " + against_gae(mc, "Slow"),
            )
        ),
        Para(
            "The table's variance and bias columns are not something learning speed can "
            "show: the section on bias and variance checks them against exact values. Its "
            "'Stability' column is not measured here either."
        ),
    ]


def _study_blocks(data: NotesData, by: dict) -> list:
    """The exact-MDP study's gradient variance and gradient bias next to steps to solve."""
    study = data.study
    if not study:
        return [Para("The exact-MDP study is missing, so it cannot be set beside the sweep.")]
    rows = {(r["critic_error"], r["value"]): r for r in study["rows"] if r["estimator"] == "gae"}
    sweep_gamma = 0.99
    common = sorted({lam for (_, lam) in rows} & {lam for (g, lam) in by if g == sweep_gamma})
    if not common:
        return []
    table = Table(
        header=(
            "λ",
            "study: grad. variance, V̂ exact",
            "study: grad. bias, V̂ noise",
            f"CartPole γ = {sweep_gamma:g}: median steps to solve",
            "solved",
        ),
        rows=tuple(
            (
                f"{lam:g}",
                fmt(rows[("exact", lam)]["gradient_variance"]),
                fmt(rows[("noise", lam)]["gradient_bias_rms_exact"]),
                fmt_steps(by[(sweep_gamma, lam)]["steps_to_solve"]["median"]),
                f"{by[(sweep_gamma, lam)]['solved']}/{by[(sweep_gamma, lam)]['runs']}",
            )
            for lam in common
        ),
        caption="Bias and variance on the exact MDP (γ = "
        f"{study['mdp']['gamma']}) beside learning speed on CartPole",
    )
    return [
        Para(
            "Side by side with the exact-MDP study: there the variance of the policy-gradient "
            "estimate grows with λ and, for a wrong critic, the gradient bias falls to 0 at "
            "λ = 1; an intermediate λ balancing the two is what that trade-off predicts for "
            "learning. The sweep measures the net effect only. CartPole's critic is learned "
            "while the policy changes, not the study's fixed critic, and the sweep records "
            "neither the bias nor the variance of its advantages, so attributing a speed "
            "difference to bias or to variance is unsupported by these data."
        ),
        table,
    ]


def _schulman_blocks(by: dict, gammas: list[float], lams: list[float]) -> list:
    groups = list(by.values())
    best = fastest(groups)
    at99 = fastest([g for (gamma, _), g in by.items() if gamma == 0.99])
    blocks = [
        Para(
            "What Schulman et al. (2016, §6.3.1 and Figure 2) report for cart-pole, in their "
            f"words: '{SCHULMAN_FINDING}'; the caption of Figure 2: '{SCHULMAN_CAPTION}' Their "
            f"setup (§6.1–6.2): {SCHULMAN_SETUP}. The left panel's curves are for λ ∈ "
            f"{{{', '.join(f'{lam:g}' for lam in SCHULMAN_LEFT_LAMBDAS)}}} and 'No VF' (a "
            "time-dependent baseline). The γ and λ values of the right panel's grid are not "
            "given in the text we could read (only in the figure), so they are not quoted here."
        ),
        Para(
            "Differences that matter: TRPO with a linear policy against A2C with Adam and a "
            "64-64 network; 20 whole trajectories of up to 1000 steps per batch against 8 × 16 "
            "steps; cost after 20 iterations (or the learning curve) against env steps until a "
            "100-episode mean of 475; 21 seeds against "
            f"{_seed_range(groups)} per cell."
        ),
    ]
    if best is None or at99 is None:
        blocks.append(Para("No cell of the sweep reached a median within the budget."))
        return blocks
    inside_best = (
        SCHULMAN_BEST_GAMMA[0] <= best["gamma"] <= SCHULMAN_BEST_GAMMA[1]
        and SCHULMAN_BEST_LAMBDA[0] <= best["lam"] <= SCHULMAN_BEST_LAMBDA[1]
    )
    inside_fast = SCHULMAN_FASTEST_LAMBDA[0] <= at99["lam"] <= SCHULMAN_FASTEST_LAMBDA[1]
    rivals = [g for g in groups if g is not best and not faster(best, g)]
    blocks.append(
        Bullets(
            (
                f"Our fastest cell is γ = {best['gamma']:g}, λ = {best['lam']:g} "
                f"({_steps(best)}): "
                + ("inside" if inside_best else "outside")
                + " their best region γ ∈ [0.96, 0.99], λ ∈ [0.92, 0.99]. "
                f"{len(rivals)} of the other {len(groups) - 1} cells are not slower beyond the "
                "95% intervals, so the location of the optimum is "
                + ("resolved." if not rivals else "not resolved by these seeds."),
                f"At γ = 0.99 our fastest λ is {at99['lam']:g} ({_steps(at99)}): "
                + ("inside" if inside_fast else "outside")
                + " their fastest range λ ∈ [0.92, 0.98].",
            )
        )
    )
    return blocks


def _parallel_blocks(meta: dict[str, Any]) -> list:
    sessions = [s for s in meta.get("sessions", []) if s.get("outcome")]
    if not sessions:
        return []
    ran = sum(s["outcome"]["ran"] for s in sessions)
    wall = sum(s["outcome"]["wall_seconds"] for s in sessions)
    task = sum(s["outcome"]["sum_task_seconds"] for s in sessions)
    cpus = sessions[0]["outcome"]["concurrency"]
    medians = [s["outcome"]["overhead_per_task_seconds"]["median"] for s in sessions]
    maxima = [s["outcome"]["overhead_per_task_seconds"]["max"] for s in sessions]
    loads = [s["outcome"]["load_average_1min"]["mean"] for s in sessions]
    return [
        Para(
            f"How it ran: {ran} runs in {len(sessions)} session(s) on {cpus} CPUs, "
            f"{wall / 60:.1f} min of wall time for {task / 60:.1f} min of run time, so "
            f"wall / (run time / {cpus}) = {wall / (task / cpus):.2f}; Ray's own overhead per "
            f"task (submission to result, less the run) had a median of "
            f"{max(m for m in medians if m is not None):.3f} s and a maximum of "
            f"{max(m for m in maxima if m is not None):.2f} s (the first task of each worker "
            "process waits for it to start). The machine was shared: the 1-minute load "
            f"average during the sweep was {max(x for x in loads if x is not None):.1f} on "
            f"{cpus} cores, so run times (not env steps) depend on the load."
        )
    ]


__all__ = ["SWEEP_COMMAND", "faster", "fastest", "interior_verdict", "load_sweep", "sweep_section"]
