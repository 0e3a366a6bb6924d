"""Summaries and figures of a CartPole sweep, from its run records (``OUT/runs.jsonl``).

Plain numpy and matplotlib, no torch, no Ray, nothing from ``numeric``: the notes build their
section "Does λ matter for learning?" from the committed records with these same functions.

Per group of runs that differ only in their seed (same variant, γ, λ, lr, budget, options):

* ``solved`` / ``runs``: the runs whose 100-episode mean return reached 475;
* steps to solve, **median and IQR over all runs**, an unsolved run counting as "more than the
  budget" (a censored value, +∞ in the order statistics). A median that falls on an unsolved run
  is reported as not reached (``None``), never as the budget: that would claim a number the run
  never gave. The median's 95% interval is a percentile bootstrap (resampling the runs);
* final return: the mean over runs of each run's last-100-episode mean, with a 95% percentile
  bootstrap interval.

The bootstrap uses a fixed seed, so the same records always give the same numbers (the notes
are checked for staleness by text).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

BOOTSTRAP_SAMPLES = 4000
BOOTSTRAP_SEED = 20160601  # fixed: the same records give the same intervals everywhere
LEVEL = 0.95
GROUP_FIELDS = ("variant", "label", "lr", "gamma", "lam", "max_env_steps", "max_seconds")


# --- statistics ---------------------------------------------------------------------------------


def censored_quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation, where +∞ marks a value beyond the budget.

    If the interpolation touches a +∞ the quantile is +∞ (not reached): between a solved run
    and an unsolved one nothing is known but "more than the solved one".
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan
    return float(censored_quantile_rows(x[None, :], q)[0])


def censored_quantile_rows(rows: np.ndarray, q: float) -> np.ndarray:
    """:func:`censored_quantile` of every row of a 2-D array at once."""
    x = np.sort(rows, axis=1)
    h = (x.shape[1] - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    a, b = x[:, lo], x[:, hi]
    out = np.full(x.shape[0], np.inf)
    finite = np.isfinite(a) & np.isfinite(b)
    out[finite] = a[finite] + (h - lo) * (b[finite] - a[finite])
    return out


def bootstrap_interval(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` (resampling ``values`` with replacement).

    ``statistic`` maps a 2-D array (one resample per row) to one value per row.

    The bounds are order statistics of the bootstrap distribution (lower/higher, no
    interpolation), so a distribution that holds +∞ (a median not reached) gives +∞, not NaN.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, x.size, size=(samples, x.size))
    stats = np.asarray(statistic(x[draws]), dtype=float)
    alpha = (1.0 - level) / 2.0
    return (
        float(np.quantile(stats, alpha, method="lower")),
        float(np.quantile(stats, 1.0 - alpha, method="higher")),
    )


def _finite_or_none(value: float, digits: int = 0) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) if digits else float(round(value))


def group_key(config: dict[str, Any]) -> tuple:
    overrides = tuple(sorted((config.get("overrides") or {}).items()))
    return (*(config.get(f) for f in GROUP_FIELDS), overrides)


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per group of seeds: counts, steps to solve (median, IQR, 95% CI), final return (mean, CI).

    ``records`` are run records (the last one per key counts); failed runs are counted apart and
    enter no statistic.
    """
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["key"]] = record
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for record in latest.values():
        groups.setdefault(group_key(record["config"]), []).append(record)
    rows = []
    for key in sorted(groups, key=_sort_key):
        members = groups[key]
        config = members[0]["config"]
        ok = [r for r in members if r.get("status") == "ok"]
        steps = [
            math.inf if r.get("steps_to_solve") is None else float(r["steps_to_solve"]) for r in ok
        ]
        finals = [float(r["final_mean_return"]) for r in ok]
        median = censored_quantile(steps, 0.5) if steps else math.nan
        steps_ci = (
            bootstrap_interval(steps, lambda rows: censored_quantile_rows(rows, 0.5))
            if steps
            else None
        )
        final_ci = bootstrap_interval(finals, lambda rows: rows.mean(axis=1)) if finals else None
        rows.append(
            {
                **{f: config.get(f) for f in GROUP_FIELDS},
                "overrides": dict(config.get("overrides") or {}),
                "runs": len(ok),
                "failed": len(members) - len(ok),
                "seeds": sorted(int(r["config"]["seed"]) for r in members),
                "solved": sum(bool(r.get("solved")) for r in ok),
                "solved_fraction": round(sum(bool(r.get("solved")) for r in ok) / len(ok), 3)
                if ok
                else None,
                "steps_to_solve": {
                    "median": _finite_or_none(median),
                    "q25": _finite_or_none(censored_quantile(steps, 0.25)) if steps else None,
                    "q75": _finite_or_none(censored_quantile(steps, 0.75)) if steps else None,
                    "ci95": None
                    if steps_ci is None
                    else [_finite_or_none(steps_ci[0]), _finite_or_none(steps_ci[1])],
                    "solved_values": sorted(int(s) for s in steps if math.isfinite(s)),
                },
                "final_mean_return": {
                    "mean": round(float(np.mean(finals)), 1) if finals else None,
                    "ci95": None
                    if final_ci is None
                    else [round(final_ci[0], 1), round(final_ci[1], 1)],
                },
                "agree": sum(bool(r.get("agree")) for r in ok),
                "max_abs_diff": max(
                    (float(r.get("max_abs_diff") or 0.0) for r in ok), default=None
                ),
                "median_seconds": round(float(np.median([r["seconds"] for r in ok])), 2)
                if ok
                else None,
            }
        )
    ok_all = [r for r in latest.values() if r.get("status") == "ok"]
    return {
        "runs": len(latest),
        "ok": len(ok_all),
        "failed": len(latest) - len(ok_all),
        "solved": sum(bool(r.get("solved")) for r in ok_all),
        "agree": sum(bool(r.get("agree")) for r in ok_all),
        "max_abs_diff": max((float(r.get("max_abs_diff") or 0.0) for r in ok_all), default=None),
        "failures": [
            {"config": r["config"], "error": r.get("error")}
            for r in latest.values()
            if r.get("status") != "ok"
        ],
        "groups": rows,
    }


def _sort_key(key: tuple) -> tuple:
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in key)


# --- text ---------------------------------------------------------------------------------------


def fmt_steps(value: float | None) -> str:
    """Env steps for a table: ``118k``; ``None`` (not reached within the budget) as ``–``."""
    if value is None:
        return "–"
    return f"{value / 1000:.0f}k" if value >= 10_000 else f"{value:.0f}"


def fmt_range(lo: float | None, hi: float | None, known: bool = True) -> str:
    """``95k–130k``; a bound not reached within the budget is ``∞`` (``95k–∞``)."""
    if not known:
        return "–"
    return f"{fmt_steps(lo) if lo is not None else '∞'}–{fmt_steps(hi) if hi is not None else '∞'}"


def group_label(group: dict[str, Any]) -> str:
    """What varies besides γ and λ: variant, lr, label and options (``batched lr=0.003``)."""
    parts = [str(group["variant"]), f"lr={group['lr']:g}"]
    if group.get("label") not in (None, "grid"):
        parts.append(str(group["label"]))
    parts += [f"{k}={v}" for k, v in sorted(group.get("overrides", {}).items())]
    return " ".join(parts)


def table_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per group: setting, γ, λ, solved, median [IQR] and 95% CI of steps, final return."""
    rows = []
    for g in summary["groups"]:
        s, f = g["steps_to_solve"], g["final_mean_return"]
        iqr = fmt_range(s["q25"], s["q75"], known=g["runs"] > 0)
        ci = s["ci95"]
        steps_ci = fmt_range(*(ci or (None, None)), known=ci is not None)
        final_ci = "–" if f["ci95"] is None else f"{f['ci95'][0]:.0f}–{f['ci95'][1]:.0f}"
        rows.append(
            (
                group_label(g),
                f"{g['gamma']:g}",
                f"{g['lam']:g}",
                f"{g['solved']}/{g['runs']}" + (f" ({g['failed']} failed)" if g["failed"] else ""),
                fmt_steps(s["median"]),
                iqr,
                steps_ci,
                "–" if f["mean"] is None else f"{f['mean']:.0f}",
                final_ci,
            )
        )
    return rows


TABLE_HEADER = (
    "setting",
    "γ",
    "λ",
    "solved",
    "median steps to solve",
    "IQR",
    "95% CI of median",
    "final return (mean)",
    "95% CI",
)


def summary_markdown(summary: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """``OUT/summary.md``: how the sweep was made, the table, the failures."""
    meta = meta or {}
    lines = ["# CartPole-v1 sweep", ""]
    if meta.get("command"):
        lines += [f"Made by `{meta['command']}`.", ""]
    lines += [
        f"{summary['runs']} runs: {summary['ok']} finished, {summary['failed']} failed; "
        f"{summary['solved']} solved (100-episode mean return ≥ 475); the kernel check agreed "
        f"on {summary['agree']} of {summary['ok']}"
        + (
            f" (largest |difference| {summary['max_abs_diff']:.1e})."
            if summary["max_abs_diff"] is not None
            else "."
        ),
        "",
        "Steps to solve: median and IQR over all runs of the cell, an unsolved run counting as "
        "more than the budget ('–' or '∞': not reached within the budget); 95% CI: "
        f"percentile bootstrap ({BOOTSTRAP_SAMPLES} resamples of the runs). Final return: mean "
        "over runs of the last-100-episode mean return, with its bootstrap 95% CI.",
        "",
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|" + " --- |" * len(TABLE_HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary)]
    if summary["failures"]:
        lines += ["", "## Failed runs", ""]
        for failure in summary["failures"]:
            c = failure["config"]
            lines.append(
                f"- {c.get('variant')} γ={c.get('gamma')} λ={c.get('lam')} lr={c.get('lr')} "
                f"seed={c.get('seed')}: {failure['error']}"
            )
    sessions = meta.get("sessions") or []
    if sessions:
        lines += ["", "## Sessions", ""]
        for s in sessions:
            o = s.get("outcome", {})
            over = o.get("overhead_per_task_seconds", {})
            lines.append(
                f"- {s.get('started')}: {o.get('ran')} runs on {o.get('concurrency')} CPUs "
                f"({o.get('address')}), wall {o.get('wall_seconds')} s, sum of run times "
                f"{o.get('sum_task_seconds')} s, wall / (sum / CPUs) = {o.get('wall_over_ideal')}, "
                f"Ray overhead per task median {over.get('median')} s (max {over.get('max')} s), "
                f"1-min load average mean {o.get('load_average_1min', {}).get('mean')}"
                + (" (interrupted)" if s.get("interrupted") else "")
            )
    return "\n".join(lines) + "\n"


# --- figures ------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panels(summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    panels: dict[str, list[dict[str, Any]]] = {}
    for g in summary["groups"]:
        if g["runs"]:
            panels.setdefault(group_label(g), []).append(g)
    return panels


def plot_steps_to_solve(path: Path, summary: dict[str, Any], title: str = "") -> Path:
    """Median env steps to solve against λ, one line per γ, bootstrap 95% interval shaded.

    λ is on an even categorical axis (the values cluster near 1). A median not reached within
    the budget is drawn at the budget with an open marker; an interval bound not reached runs to
    the top of the axes.
    """
    plt = _pyplot()
    panels = _panels(summary)
    fig, axes = plt.subplots(
        1, max(1, len(panels)), figsize=(6.4 * max(1, len(panels)), 3.8), dpi=120, squeeze=False
    )
    for ax, (label, groups) in zip(axes[0], panels.items(), strict=False):
        lams = sorted({g["lam"] for g in groups})
        x_of = {lam: i for i, lam in enumerate(lams)}
        budget = max(int(g["max_env_steps"]) for g in groups)
        top = budget * 1.08
        for gamma in sorted({g["gamma"] for g in groups}):
            mine = sorted((g for g in groups if g["gamma"] == gamma), key=lambda g: g["lam"])
            x = np.array([x_of[g["lam"]] for g in mine], dtype=float)
            s = [g["steps_to_solve"] for g in mine]
            med = np.array([budget if v["median"] is None else v["median"] for v in s], float)
            lo = np.array(
                [top if v["ci95"] is None or v["ci95"][0] is None else v["ci95"][0] for v in s]
            )
            hi = np.array(
                [top if v["ci95"] is None or v["ci95"][1] is None else v["ci95"][1] for v in s]
            )
            (line,) = ax.plot(x, med, marker="o", label=f"γ = {gamma:g}")
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.18, lw=0)
            unreached = [v["median"] is None for v in s]
            if any(unreached):
                ax.plot(
                    x[unreached], med[unreached], "o", mfc="white", color=line.get_color(), ms=7
                )
        ax.axhline(budget, color="grey", ls="--", lw=0.8, label=f"budget ({budget:,} steps)")
        ax.set_xticks(range(len(lams)), [f"{lam:g}" for lam in lams])
        ax.set_ylim(0, top)
        ax.set_xlabel("λ")
        ax.set_ylabel("env steps to solve (median)")
        ax.set_title(title or f"CartPole-v1, {label}: steps to solve vs λ", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.text(
        0.01,
        0.01,
        "shaded: bootstrap 95% CI of the median; open marker: median not reached (unsolved)",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_heatmap(path: Path, summary: dict[str, Any], title: str = "") -> Path:
    """γ × λ: colour = median steps to solve (darker = faster; a median not reached within the
    budget is drawn at the budget and labelled '> budget'), text = solved k/n and the median."""
    plt = _pyplot()
    panels = _panels(summary)
    fig, axes = plt.subplots(
        1, max(1, len(panels)), figsize=(7.0 * max(1, len(panels)), 3.6), dpi=120, squeeze=False
    )
    for ax, (label, groups) in zip(axes[0], panels.items(), strict=False):
        lams = sorted({g["lam"] for g in groups})
        gammas = sorted({g["gamma"] for g in groups})
        budget = max(int(g["max_env_steps"]) for g in groups)
        grid = np.full((len(gammas), len(lams)), np.nan)
        for g in groups:
            i, j = gammas.index(g["gamma"]), lams.index(g["lam"])
            median = g["steps_to_solve"]["median"]
            grid[i, j] = budget if median is None else median
        image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=budget, aspect="auto", origin="lower")
        for g in groups:
            i, j = gammas.index(g["gamma"]), lams.index(g["lam"])
            median = g["steps_to_solve"]["median"]
            text = f"{g['solved']}/{g['runs']}\n{fmt_steps(median) if median else '> budget'}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if grid[i, j] < 0.6 * budget else "black",
            )
        ax.set_xticks(range(len(lams)), [f"{lam:g}" for lam in lams])
        ax.set_yticks(range(len(gammas)), [f"{gamma:g}" for gamma in gammas])
        ax.set_xlabel("λ")
        ax.set_ylabel("γ")
        ax.set_title(title or f"CartPole-v1, {label}: median steps to solve", fontsize=10)
        fig.colorbar(image, ax=ax, label="env steps (at the budget: median not reached)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


__all__ = [
    "BOOTSTRAP_SAMPLES",
    "TABLE_HEADER",
    "bootstrap_interval",
    "censored_quantile",
    "fmt_steps",
    "group_label",
    "plot_heatmap",
    "plot_steps_to_solve",
    "summarize",
    "summary_markdown",
    "table_rows",
]
