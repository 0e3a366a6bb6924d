"""The notes' figures as PNG (matplotlib, Agg backend), drawn from formulas and data files.

Every function takes plain data (dicts and lists read from JSON), writes one PNG and
returns its path; nothing here imports ``numeric`` or torch. Figures are not compared by
``gae-sym notes --check`` (PNG bytes vary across matplotlib versions), only the text is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

WEIGHT_LAMBDAS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95)
WEIGHT_MAX_N = 40
ERROR_STYLE = {"exact": "tab:blue", "noise": "tab:orange", "bias": "tab:green"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def lambda_weights(lam: float, max_n: int) -> np.ndarray:
    """w_n = (1 − λ) λ^{n−1} for n = 1..max_n−1 and the tail λ^{max_n−1} on n = max_n.

    These are the weights of the finite-segment λ-average (theorem ``gae-weighted-average``):
    they sum to one exactly, the last weight carrying the whole tail.
    """
    n = np.arange(1, max_n + 1)
    w = (1.0 - lam) * lam ** (n - 1.0)
    w[-1] = lam ** (max_n - 1)
    return w


def plot_lambda_weights(
    path: Path, lambdas: Sequence[float] = WEIGHT_LAMBDAS, max_n: int = WEIGHT_MAX_N
) -> Path:
    """Stem-like plot of (1 − λ) λ^{n−1} over n for several λ (tail weight marked)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=120)
    n = np.arange(1, max_n + 1)
    for lam in lambdas:
        w = lambda_weights(lam, max_n)
        ax.plot(n[:-1], w[:-1], marker="o", markersize=3, label=f"λ = {lam:g}")
    ax.set_xlabel("n (steps in the n-step advantage)")
    ax.set_ylabel(r"weight $(1-\lambda)\lambda^{n-1}$")
    ax.set_title("GAE weights on the n-step advantages (each curve sums to 1)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_study(path: Path, study: dict[str, Any]) -> Path:
    """Bias, gradient bias, variance and gradient variance of GAE(γ, λ) against λ.

    A 2×2 grid sized for the width of a page (the fonts stay readable when the figure is
    scaled to the text width); one colour per critic error; biases exact (lines) and sampled (dots),
    variances sampled.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 5.6), dpi=120, sharex=True)
    (bias_ax, grad_bias_ax), (var_ax, grad_var_ax) = axes
    panels = (
        (bias_ax, "bias_rms_exact", "bias_rms", r"bias of $\hat{A}$ against $A^\pi(s,a)$"),
        (
            grad_bias_ax,
            "gradient_bias_rms_exact",
            "gradient_bias_rms",
            "gradient bias (action-dependent part)",
        ),
        (var_ax, "variance", None, r"variance $\mathrm{Var}[\hat{A}\,|\,s,a]$"),
        (grad_var_ax, "gradient_variance", None, "variance of the gradient estimate"),
    )
    rows = [r for r in study["rows"] if r["estimator"] == "gae"]
    for kind, color in ERROR_STYLE.items():
        mine = sorted((r for r in rows if r["critic_error"] == kind), key=lambda r: r["value"])
        if not mine:
            continue
        lam = [r["value"] for r in mine]
        for ax, exact, sampled, _ in panels:
            ax.plot(lam, [r[exact] for r in mine], color=color, label=f"$\\hat{{V}}$: {kind}")
            if sampled:
                ax.plot(lam, [r[sampled] for r in mine], "o", color=color, markersize=3)
    floor = max((r["noise_floor"] for r in rows), default=0.0)
    for ax, _, sampled, title in panels:
        if sampled:
            ax.axhline(floor, color="grey", lw=0.8, ls=":", label="sampling noise")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    bias_ax.set_ylabel("RMS over start pairs (s, a)")
    var_ax.set_ylabel("mean over start pairs (s, a)")
    for ax in (var_ax, grad_var_ax):
        ax.set_xlabel(r"$\lambda$")
    bias_ax.legend(fontsize=8)
    fig.suptitle(
        r"GAE($\gamma, \lambda$) on a random MDP with exact $V^\pi$"
        "\n(biases: lines exact, dots sampled; variances sampled)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _moving_average(x: Sequence[float], window: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return x
    cumulative = np.cumsum(np.insert(x, 0, 0.0))
    out = np.empty_like(x)
    for i in range(x.size):
        lo = max(0, i + 1 - window)
        out[i] = (cumulative[i + 1] - cumulative[lo]) / (i + 1 - lo)
    return out


def plot_learning_curves(
    path: Path,
    runs: Sequence[dict[str, Any]],
    title: str,
    label_of,
    window: int = 20,
    x_axis: str = "steps",
) -> Path:
    """Episode return (moving average over ``window`` episodes) against env steps or episodes.

    CartPole pays +1 per step, so the environment steps up to an episode are the running
    sum of the returns (for a batched learner: of the episodes finished so far).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    seen: set[str] = set()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = sorted({label_of(run) for run in runs})
    color_of = {label: colors[i % len(colors)] for i, label in enumerate(labels)}
    for run in runs:
        returns = run.get("episode_returns") or []
        if not returns:
            continue
        x = np.cumsum(returns) if x_axis == "steps" else np.arange(1, len(returns) + 1)
        label = label_of(run)
        ax.plot(
            x,
            _moving_average(returns, window),
            color=color_of[label],
            lw=1.0,
            alpha=0.8,
            label=None if label in seen else label,
        )
        seen.add(label)
    ax.axhline(500, color="grey", lw=0.8, ls=":", label="CartPole-v1 cap (500)")
    ax.axhline(475, color="grey", lw=0.8, ls="--", label="solved (475)")
    if x_axis == "steps":
        ax.set_xlabel("environment steps")
    else:
        # Collapsed runs last thousands of 9-step episodes: only a log axis shows both kinds.
        ax.set_xscale("log")
        ax.set_xlabel("episode (log scale)")
    ax.set_ylabel(f"episode return ({window}-episode mean)")
    ax.set_title(title)
    ax.set_ylim(0, 520)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = [
    "lambda_weights",
    "plot_lambda_weights",
    "plot_learning_curves",
    "plot_study",
]
