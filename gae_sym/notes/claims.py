"""The lecture's own claims, each checked against evidence the tool produced.

Three claims from the lecture (``seed/000_6487fa503b8f34cf.txt``): the CartPole return
"~910", the run that "settled down to 9–10" and was called stable, and the comparison
table of REINFORCE / actor-critic / GAE / Monte Carlo. Each verdict is computed from the
committed data (the study and the CartPole runs); when a data file is missing the
verdict says what is missing and how to produce it, and never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gae_sym.notes.data import (
    CARTPOLE_COMMAND,
    CARTPOLE_MAX_RETURN,
    COLLAPSED_BELOW,
    NotesData,
    is_collapsed,
    max_episode_return,
    sweep_table,
    total_episodes,
)
from gae_sym.notes.document import Block, Bullets, Para, Table

RUNS_HINT = (
    "The CartPole evidence is missing: `docs/data/cartpole/runs.json` does not exist yet "
    f"(it is written by `{CARTPOLE_COMMAND}`)."
)
STUDY_HINT = (
    "The study evidence is missing: run `gae-sym study --out docs/data/study` "
    "and then `gae-sym notes` again."
)


@dataclass(frozen=True)
class Claim:
    """One claim of the lecture: where it is, what it says, the verdict and the evidence."""

    id: str
    title: str
    source: str
    quote: str
    verdict: str
    evidence: tuple[Block, ...]


def fmt(x: float, digits: int = 3) -> str:
    """A number for display: ``digits`` significant digits; below 1e-9 (rounding) it is 0.

    Between 1e-9 and 1e-6 (the size of the truncation effect of the study) "< 1e-6".
    """
    if abs(x) < 1e-9:
        return "0"
    if abs(x) < 1e-6:
        return "< 1e-6"
    return f"{x:.{digits}g}"


def fmt_lr(lr: float) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")


def claim_910(data: NotesData) -> Claim:
    blocks: list[Block] = [
        Para(
            f"CartPole-v1 gives a reward of +1 per step and its time limit ends every episode "
            f"after at most {CARTPOLE_MAX_RETURN} steps (gymnasium registers it with "
            f"`max_episode_steps={CARTPOLE_MAX_RETURN}`; the truncation flag is set there). "
            f"An episode return is therefore at most {CARTPOLE_MAX_RETURN}, and 'solved' "
            "means a 100-episode mean of at least 475."
        )
    ]
    if data.runs:
        best = max_episode_return(data.runs)
        blocks.append(
            Para(
                f"In the recorded runs ({len(data.runs)} runs, "
                f"{total_episodes(data.runs)} episodes, `{data.runs_path}`) the largest "
                f"episode return is {fmt(best or 0.0, 4)}."
            )
        )
        verdict = "Wrong: impossible on CartPole-v1" + (
            "" if best is None or best <= CARTPOLE_MAX_RETURN else " (DATA DISAGREES: check it)"
        )
    else:
        blocks.append(Para(RUNS_HINT))
        verdict = "Wrong: impossible on CartPole-v1 (by the environment's time limit)"
    blocks.append(
        Para(
            "A value near 910 can only be something other than a CartPole-v1 episode return "
            "(a sum over several episodes, or another environment)."
        )
    )
    return Claim(
        id="claim-910",
        title="“Converges to reward ~910 quickly”",
        source="lecture notes, §6 Results & Observations",
        quote="Converges to reward ~910 quickly",
        verdict=verdict,
        evidence=tuple(blocks),
    )


def claim_settled(data: NotesData) -> Claim:
    blocks: list[Block] = [
        Para(
            "In CartPole every step earns +1, so the return is the episode length. A policy "
            "that always pushes the cart the same way drops the pole in 8–11 steps (about 9 "
            "on average); a uniformly random policy lasts about 22 steps. A return that "
            "'settles down to 9–10' after a first episode of 27 is a policy that has "
            "collapsed to a single action: worse than random, and stable only because it can "
            "hardly change any more (its entropy and its policy gradient are close to zero)."
        )
    ]
    verdict = "Wrong: 9–10 is a collapsed policy, not a stable one"
    if data.runs:
        cells = [c for c in sweep_table(data.runs) if c.label != "default" or c.collapsed]
        collapsed = [c for c in cells if c.collapsed]
        if cells:
            blocks.append(
                Table(
                    header=(
                        "variant",
                        "setting",
                        "lr",
                        "runs",
                        "solved",
                        "collapsed",
                        "final means",
                    ),
                    rows=tuple(
                        (
                            c.variant,
                            c.label,
                            fmt_lr(c.lr),
                            str(c.runs),
                            str(c.solved),
                            str(c.collapsed),
                            ", ".join(f"{m:g}" for m in c.collapsed_means[:6])
                            + ("…" if len(c.collapsed_means) > 6 else ""),
                        )
                        for c in cells
                    ),
                    caption=(
                        "CartPole runs by setting: 'collapsed' = last-100-episode mean return "
                        f"below {COLLAPSED_BELOW:g} (final means listed)"
                    ),
                )
            )
        if collapsed:
            runs = sum(c.collapsed for c in collapsed)
            means = sorted(m for c in collapsed for m in c.collapsed_means)
            blocks.append(
                Para(
                    f"The tool reproduces the collapse: {runs} recorded "
                    f"run{'s' if runs != 1 else ''} ended with a "
                    f"100-episode mean return between {means[0]:g} and {means[-1]:g}, at the "
                    "settings listed above (too large a learning rate, or one of the bugs "
                    "named in the 'setting' column)." + _others_sentence(data.runs)
                )
            )
        else:
            blocks.append(
                Para(
                    "No recorded run collapsed (no last-100 mean below "
                    f"{COLLAPSED_BELOW:g}): the reproduction of the collapse is missing "
                    "from the data; the argument above still stands."
                )
            )
    else:
        blocks.append(Para(RUNS_HINT))
    return Claim(
        id="claim-settled",
        title="“Settling down to 10, the value of nine 10 … a stable algorithm”",
        source="transcript, 01:13:21–01:13:57",
        quote=(
            "However, it is settling down to 10, the value of nine 10, okay? So it is "
            "basically providing a stable version."
        ),
        verdict=verdict,
        evidence=tuple(blocks),
    )


def _others_sentence(runs: list[dict[str, Any]]) -> str:
    others = [
        float(r["mean_return_last_100"])
        for r in runs
        if r.get("mean_return_last_100") is not None and not is_collapsed(r)
    ]
    if not others:
        return ""
    return (
        f" The other {len(others)} runs end with 100-episode means of "
        f"{min(others):.0f}–{max(others):.0f}."
    )


# The lecture's comparison table (notes §8): method -> (variance, bias).
LECTURE_TABLE = (
    ("REINFORCE", "reinforce", None, "Very High", "Low"),
    ("Actor-Critic (1-step)", "gae", 0.0, "Medium", "Medium"),
    ("GAE (λ=0.95)", "gae", 0.95, "Low", "Low-Medium"),
    ("Monte Carlo (GAE λ=1)", "gae", 1.0, "High", "Very Low"),
)


def _row(study: dict[str, Any], estimator: str, value: Any, critic: str) -> dict[str, Any]:
    for row in study["rows"]:
        if row["estimator"] != estimator or (value is not None and row["value"] != value):
            continue
        if estimator == "reinforce" or row["critic_error"] == critic:
            return row
    raise KeyError(f"the study has no row {estimator} {value} {critic}")


def comparison_numbers(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Per method of the lecture's table: its measured variances and gradient biases."""
    out = []
    for name, estimator, value, lecture_var, lecture_bias in LECTURE_TABLE:
        exact = _row(study, estimator, value, "exact")
        noisy = _row(study, estimator, value, "noise")
        shifted = _row(study, estimator, value, "bias")
        out.append(
            {
                "method": name,
                "lecture_variance": lecture_var,
                "lecture_bias": lecture_bias,
                "variance": exact["variance"],
                "gradient_variance": exact["gradient_variance"],
                "gradient_bias_noise": noisy["gradient_bias_rms_exact"],
                "gradient_bias_shift": shifted["gradient_bias_rms_exact"],
                "bias_noise": noisy["bias_rms_exact"],
            }
        )
    return out


def claim_table(data: NotesData) -> Claim:
    source = "lecture notes, §8 Comparison Table (its variance and bias columns, condensed)"
    quote = (
        "REINFORCE: variance Very High, bias Low; Actor-Critic (1-step): Medium, Medium; "
        "GAE (λ=0.95): Low, Low-Medium; Monte Carlo (GAE λ=1): High, Very Low"
    )
    title = "The comparison table of REINFORCE, actor-critic, GAE and Monte Carlo"
    if not data.study:
        return Claim("claim-table", title, source, quote, "Not checked", (Para(STUDY_HINT),))
    numbers = comparison_numbers(data.study)
    by = {n["method"]: n for n in numbers}
    reinforce, one_step, gae95, mc = (by[m[0]] for m in LECTURE_TABLE)
    blocks: list[Block] = [
        Para(
            "Measured by `gae-sym study` (see the section on bias and variance) on a random "
            "MDP with exact values. 'Variance' is $\\mathrm{Var}[Â | s, a]$ with the true "
            "critic; 'gradient variance' is the variance of the policy-gradient estimate "
            "$∇ \\log π(a|s) \\cdot Â$ at the first step (it also counts the spread of $Â$ "
            "over actions, "
            "where a baseline matters); 'gradient bias' is the action-dependent part of the "
            "bias, the only part that biases the policy gradient, for a critic with fixed "
            "per-state noise and for a critic shifted by a constant."
        ),
        Table(
            header=(
                "method",
                "lecture var.",
                "lecture bias",
                "var.",
                "grad. var.",
                "grad. bias (noisy)",
                "grad. bias (shifted)",
            ),
            rows=tuple(
                (
                    n["method"],
                    n["lecture_variance"],
                    n["lecture_bias"],
                    fmt(n["variance"]),
                    fmt(n["gradient_variance"]),
                    fmt(n["gradient_bias_noise"]),
                    fmt(n["gradient_bias_shift"]),
                )
                for n in numbers
            ),
            caption="The lecture's table against the study's numbers",
        ),
    ]
    findings = []
    gv = {k: v["gradient_variance"] for k, v in by.items()}
    highest = max(gv, key=gv.__getitem__)
    findings.append(
        f"Variance: {highest} has the largest gradient variance ({fmt(gv[highest])})"
        + (" — the lecture's 'Very High' agrees." if highest == reinforce["method"] else ".")
    )
    if one_step["gradient_variance"] < gae95["gradient_variance"]:
        findings.append(
            "Variance: the one-step actor-critic has "
            + ("the lowest variance, " if min(gv.values()) == gv[one_step["method"]] else "")
            + f"less variance than GAE(λ=0.95): {fmt(one_step['gradient_variance'])} against "
            f"{fmt(gae95['gradient_variance'])} for the gradient, "
            f"{fmt(one_step['variance'])} against {fmt(gae95['variance'])} for "
            "$\\mathrm{Var}[Â|s,a]$. The lecture's 'Medium' for the 1-step method and "
            "'Low' for GAE are in the wrong order: GAE(0.95) has less variance than Monte "
            "Carlo, not less than the TD error; it buys lower bias with more variance. "
            "This is no accident of the MDP: with the true critic the TD errors are "
            "uncorrelated ($E[δ_{t+l} | s_{t+l}] = 0$ for $l ≥ 1$, given everything before), so "
            "$\\mathrm{Var}[Â^{GAE}_t] = Σ_l (γλ)^{2l} \\mathrm{Var}[δ_{t+l}] ≥ "
            "\\mathrm{Var}[δ_t]$."
        )
    else:
        findings.append(
            f"Variance: GAE(λ=0.95) ({fmt(gae95['gradient_variance'])}) is at most the "
            f"one-step method's ({fmt(one_step['gradient_variance'])}), as the lecture says."
        )
    findings.append(
        f"Variance: Monte Carlo ({fmt(mc['gradient_variance'])}) is below REINFORCE "
        f"({fmt(reinforce['gradient_variance'])}) and above GAE(0.95): 'High' agrees."
        if reinforce["gradient_variance"] > mc["gradient_variance"] > gae95["gradient_variance"]
        else f"Variance: Monte Carlo {fmt(mc['gradient_variance'])}, REINFORCE "
        f"{fmt(reinforce['gradient_variance'])}, GAE(0.95) {fmt(gae95['gradient_variance'])}."
    )
    unbiased = [
        n["method"]
        for n in numbers
        if n["gradient_bias_noise"] < 1e-6 and n["gradient_bias_shift"] < 1e-6
    ]
    both = {reinforce["method"], mc["method"]} <= set(unbiased)
    findings.append(
        "Bias: "
        + (" and ".join(unbiased) if unbiased else "no method")
        + " have no gradient bias whatever the critic"
        + (
            " (REINFORCE uses no critic; $λ = 1$ uses it only as a baseline): 'Low' and "
            "'Very Low' are right, and REINFORCE is as unbiased as Monte Carlo."
            if both
            else "."
        )
    )
    ordered = (
        one_step["gradient_bias_noise"] > gae95["gradient_bias_noise"] > mc["gradient_bias_noise"]
    )
    findings.append(
        f"Bias: with a wrong critic the one-step method is the most biased "
        f"({fmt(one_step['gradient_bias_noise'])}), GAE(0.95) much less "
        f"({fmt(gae95['gradient_bias_noise'])}): 'Medium' and 'Low-Medium' agree."
        if ordered
        else f"Bias: one-step {fmt(one_step['gradient_bias_noise'])}, GAE(0.95) "
        f"{fmt(gae95['gradient_bias_noise'])}, Monte Carlo {fmt(mc['gradient_bias_noise'])}."
    )
    findings.append(
        "With the true critic every method except REINFORCE is exactly unbiased for $A(s, a)$; "
        "bias is a property of the critic's error, not of the estimator alone. The "
        "'Stability' and 'Speed' columns are not measured by the study."
    )
    blocks.append(Bullets(tuple(findings)))
    verdict = (
        "Partly wrong: the variance column misorders GAE and the 1-step actor-critic"
        if one_step["gradient_variance"] < gae95["gradient_variance"]
        else "Agrees with the study"
    )
    return Claim("claim-table", title, source, quote, verdict, tuple(blocks))


def lecture_claims(data: NotesData) -> list[Claim]:
    return [claim_910(data), claim_settled(data), claim_table(data)]


__all__ = ["Claim", "comparison_numbers", "fmt", "lecture_claims"]
