"""The notes themselves: sections in teaching order, written as Markdown pages and one .tex.

Order (the order a course teaches it): the TD error → n-step advantages and their
telescoping → the λ-weighted average → GAE → the λ = 0 and λ = 1 limits → the recursion
used in code → the λ-return; then the bias–variance study, the CartPole runs, and the
lecture's own claims checked. Every derivation section is labelled/anchored by its
theorem id, the id ``gae-sym prove`` prints.

Rendering is deterministic: the text depends only on the derivations, the estimator
definitions and the committed data files (numbers rounded for display).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from gae_sym import estimators as est
from gae_sym.notes import figures
from gae_sym.notes.claims import Claim, fmt, fmt_lr, lecture_claims
from gae_sym.notes.data import CARTPOLE_COMMAND, RUNS_FILE, STUDY_FILE, NotesData, sweep_table
from gae_sym.notes.document import (
    Block,
    Bullets,
    Code,
    Figure,
    Heading,
    Math,
    Para,
    Raw,
    Section,
    Table,
    to_latex_document,
    to_markdown,
)
from gae_sym.printing import lecture_latex

TITLE = "Generalized Advantage Estimation, derived and checked"
TEX_FILE = "notes.tex"
INDEX_FILE = "index.md"
FIGURE_DIR = "figures"

LECTURE_COMPUTE_GAE = """\
def compute_gae(rewards, values, next_value, gamma=0.99, lam=0.95):
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
        next_value = values[t]
    return advantages"""


@dataclass(frozen=True)
class FigureJob:
    """A PNG to draw: its file name under ``figures/`` and the function that draws it."""

    file: str
    draw: Callable[[Path], Path]


@dataclass(frozen=True)
class Notes:
    """The rendered notes: text files by relative path, and the figures to draw."""

    files: dict[str, str]
    figures: tuple[FigureJob, ...]


# --- definitions ---------------------------------------------------------------------------


def _definition(name: str, in_rewards: bool = False) -> Math:
    e = est.estimators()[name]
    body = lecture_latex(e.in_rewards if in_rewards else e.definition)
    return Math((f"{e.symbol_latex} &= {body}",))


def td_error_section() -> Section:
    return Section(
        id="td-error",
        title="The one-step TD error",
        blocks=[
            Para(
                "Every estimator in these notes is built from one quantity: the temporal-"
                "difference (TD) error of the critic $V$ at step $t$, the reward plus the "
                "discounted value of the next state minus the value of the current one."
            ),
            _definition("td-error"),
            Para(
                "In code, trajectories have episode ends. The convention used throughout the "
                "tool: `terminated` switches the bootstrap off (the episode really ended, "
                "the future is worth 0), and $V(s'_t)$ is the value of the state observed "
                "right after step $t$, also when a time limit truncated the episode there:"
            ),
            Math((r"\delta_t &= " + lecture_latex(est.td_error_flagged()),)),
            Para(
                "Why it is an advantage estimate: if $V = V^π$, then $E[δ_t | s_t, a_t] = "
                "Q^π(s_t, a_t) − V^π(s_t) = A^π(s_t, a_t)$. With the true critic the TD error "
                "is an unbiased one-step advantage; with any other critic it is biased (the "
                "study in the section on bias and variance measures by how much)."
            ),
        ],
    )


# --- derivations -----------------------------------------------------------------------------


def _context(derivation_id: str) -> list[Block]:
    """Teaching material shown before a derivation: definitions, figures, the lecture's code."""
    if derivation_id == "nstep-telescoping":
        return [
            Para(
                "Adding up n TD errors, discounted, gives the n-step advantage. The lecture "
                "writes the first two by hand: "
                "$\\hat{A}^{(1)}_t = δ_t = r_t + γV(s_{t+1}) − V(s_t)$ and "
                "$\\hat{A}^{(2)}_t = δ_t + γδ_{t+1} = r_t + γr_{t+1} + γ^2 V(s_{t+2}) − V(s_t)$. "
                "In general:"
            ),
            _definition("nstep"),
            Para("and in rewards and values, after the intermediate values cancel:"),
            _definition("nstep", in_rewards=True),
        ]
    if derivation_id == "gae-weighted-average":
        return [
            Para(
                "GAE averages the n-step advantages with geometric weights $(1 − λ)λ^{n−1}$. "
                "On a segment of $N$ steps the last advantage takes the whole tail $λ^{N−1}$, so "
                "the weights sum to one exactly. Small $λ$ trusts the critic early (short "
                "lookahead: low variance, biased if $V$ is wrong); $λ$ near 1 spreads the weight "
                "over long lookaheads (less bias, more variance). Over an infinite horizon the "
                "mean lookahead is $1/(1 − λ)$ steps: 2 at $λ = 0.5$, 20 at $λ = 0.95$."
            ),
            Math(
                (
                    r"\hat{A}^{\mathrm{GAE}}_t &= "
                    + lecture_latex(est.gae_weighted_average_segment()),
                )
            ),
            Figure(
                "lambda-weights.png",
                "Weights $(1 − λ)λ^{n−1}$ of the n-step advantages for several $λ$.",
            ),
        ]
    if derivation_id == "gae-infinite":
        return [
            Para(
                "Without an end of segment the λ-average becomes an infinite series, and GAE "
                "gets the form used everywhere, a discounted sum of TD errors with discount $γλ$:"
            ),
            _definition("gae"),
        ]
    if derivation_id == "gae-lambda1":
        return [
            Para(
                "The Monte-Carlo advantage, over an infinite horizon and on a segment of $N$ "
                "steps (bootstrapped at its end):"
            ),
            _definition("mc"),
            Math(
                (
                    r"\hat{A}^{\mathrm{MC}}_t &= "
                    + lecture_latex(est.mc_advantage_segment())
                    + r" \quad \text{(segment of } N \text{ steps)}",
                )
            ),
            Para(
                "In what sense it is unbiased 'for an exact baseline or not' (below): with "
                "$V̂ = V^π$ its expectation given $(s_t, a_t)$ is $A^π(s_t, a_t)$; with a wrong "
                "critic it is off by $−(V̂ − V^π)(s_t)$, which depends on the state only. That "
                "is a baseline: the policy gradient stays unbiased, the estimate of $A^π$ does "
                "not (the section on bias and variance measures both). On a segment cut by a "
                "time limit the bootstrap $γ^N V̂(s_{t+N})$ adds $γ^N E[(V̂ − V^π)(s_{t+N})]$, "
                "small when $γ^N$ is."
            ),
        ]
    if derivation_id == "gae-recursion":
        return [
            Para(
                "Code never evaluates the sum term by term: it runs backwards through the "
                "trajectory with one multiply-add per step, $\\hat{A}_T = 0$ and"
            ),
            Math((r"\hat{A}_t &= " + lecture_latex(est.gae_recursion()),)),
            Para(
                "where $d_t = \\mathrm{terminated}_t ∨ \\mathrm{truncated}_t$ cuts the chain at "
                "every episode end. "
                "The lecture's code is this recursion for one segment with no episode end "
                "inside it (the 'mask' its notes mention does not appear in the code, so it is "
                "only right when the list holds exactly one episode, bootstrapped with "
                "`next_value`):"
            ),
            Code(LECTURE_COMPUTE_GAE),
        ]
    if derivation_id == "lambda-return":
        return [
            Para(
                "The critic's regression target in the lecture is `returns = advantages + "
                "values`. That target has a name, the λ-return, and it is itself a λ-weighted "
                "average, of n-step returns:"
            ),
            _definition("lambda-return"),
            _definition("lambda-return", in_rewards=True),
        ]
    return []


def verification_block(derivation: Any) -> Para:
    """The derivation's machine check, in words (no timings: the text must be reproducible)."""
    try:
        result = derivation.verify()
    except Exception as error:  # a crashing check is a failed check, and the notes say so
        return Para(
            f"NOT PROVED: checking `{derivation.id}` raised {type(error).__name__}: {error}."
        )
    used = ", ".join(f"`{a}`" for a in (result.assumptions or []))
    tail = f" Assumptions used: {used}." if used else ""
    if result.status == "proved":
        return Para(
            f"Machine-checked: every step above was accepted by the proof kernel (SymPy "
            f"algebra, every side condition proved from the stated assumptions, every series "
            f"shown to converge absolutely) and then evaluated at random instances "
            f"(`gae-sym prove` reports `{derivation.id}`: proved).{tail}"
        )
    return Para(
        f"NOT PROVED: `gae-sym prove` rejects step {result.failed_step} of "
        f"`{derivation.id}`: {result.why}.{tail}"
    )


def derivation_section(derivation: Any, check: bool = True) -> Section:
    blocks = _context(derivation.id)
    markdown, latex = derivation.to_markdown(), derivation.to_latex()
    if derivation.summary.strip() not in markdown:
        blocks.append(Para(derivation.summary))
    blocks.append(Raw(markdown=markdown, latex=latex))
    if check:
        blocks.append(verification_block(derivation))
    return Section(
        id=derivation.id,
        title=derivation.title,
        blocks=blocks,
        subtitle=f"theorem `{derivation.id}`",
    )


# --- evidence ---------------------------------------------------------------------------------


# The study's headline checks (``numeric.study.headline_checks``) in the notes' words.
CHECK_WORDS = {
    "gae-unbiased-with-true-values": (
        "with $V̂ = V^π$, GAE($γ$, $λ$) is unbiased for $A^π(s, a)$ for every $λ$ (exact bias "
        "0, sampled bias at the sampling-noise floor)"
    ),
    "lambda1-unbiased-whatever-critic": (
        "GAE($γ$, 1) has no gradient bias whatever $V̂$: its bias is $−(V̂ − V^π)(s_t)$, a baseline"
    ),
    "lambda-below-1-biased-with-wrong-critic": (
        "with a wrong $V̂$, GAE($γ$, $λ < 1$) has a gradient bias, which falls to 0 at "
        "$λ = 1$ (steadily for the noisy critic; its plain bias, for the shifted critic, grows "
        "with $λ$ to the critic's error)"
    ),
    "variance-grows-with-lambda": "with $V̂ = V^π$ the variance of GAE($γ$, $λ$) grows with $λ$",
}


def study_section(data: NotesData) -> tuple[Section, list[FigureJob]]:
    section = Section(id="bias-variance", title="Bias and variance, measured against exact values")
    study = data.study
    if not study:
        section.blocks.append(
            Para(
                f"The study is missing: `{data.study_path}` does not exist. Run "
                "`gae-sym study --out docs/data/study` and then `gae-sym notes` again."
            )
        )
        return section, []
    mdp, config = study["mdp"], study["config"]
    term_lo, term_hi = mdp["termination_per_step"]
    section.blocks += [
        Para(
            f"A random MDP with {mdp['states']} states and {mdp['actions']} actions, "
            f"$γ = {mdp['gamma']}$, episodes ending with probability {term_lo:.2f}–{term_hi:.2f} "
            f"per step, and a fixed stochastic policy $π$. Its $V^π$ and $Q^π$ are solved "
            f"exactly by linear algebra, so the true advantage $A^π(s, a) = Q^π(s, a) − V^π(s)$ "
            f"is known. From every start pair $(s, a)$, {config['samples_per_pair']} "
            f"trajectories of "
            f"{config['horizon']} steps are sampled at once and fed to the numeric kernels "
            f"with three critics: $V̂ = V^π$ ('exact'), $V̂ = V^π + ε(s)$ with a fixed "
            f"per-state error $ε$ of standard deviation {config['noise_scale']:g} ('noise'), "
            f"and $V̂ = V^π + {config['bias']:g}$ ('bias'). Trajectories still running after "
            f"{config['horizon']} steps are truncated and bootstrapped; the weight the cut "
            f"can carry, $\\max γ^T P(\\text{{alive at }} T)$, is "
            f"{config['truncation_weight']:.1e}, "
            "negligible."
        ),
        Para(
            "Two biases are reported. The bias is $b(s, a) = E[Â | s, a] − A^π(s, a)$. The "
            "gradient bias is its action-dependent part, $b(s, a) − Σ_{a'} π(a'|s) b(s, a')$: "
            "a bias that depends "
            "on the state only is a baseline and cancels in the policy gradient, so only the "
            "gradient bias misleads learning. Both biases are also computed exactly, by "
            "linear algebra on the MDP (the bias columns of the tables); the sampled biases "
            "agree with them within sampling error. The variances are sampled."
        ),
        Figure(
            "bias-variance.png",
            "GAE(γ, λ) against λ for three critics V̂: bias, gradient bias (biases exact as "
            "lines, sampled as dots), variance of Â and of the policy-gradient estimate.",
        ),
    ]
    gae_rows = [r for r in study["rows"] if r["estimator"] == "gae"]
    lambdas = sorted({r["value"] for r in gae_rows})

    def cell(kind: str, lam: float, key: str) -> str:
        for r in gae_rows:
            if r["critic_error"] == kind and r["value"] == lam:
                return fmt(r[key])
        return "–"

    section.blocks.append(
        Table(
            header=(
                "λ",
                "var., V̂ exact",
                "grad. var., V̂ exact",
                "bias, V̂ exact",
                "grad. bias, V̂ noise",
                "grad. bias, V̂ bias",
                "bias, V̂ bias",
            ),
            rows=tuple(
                (
                    f"{lam:g}",
                    cell("exact", lam, "variance"),
                    cell("exact", lam, "gradient_variance"),
                    cell("exact", lam, "bias_rms_exact"),
                    cell("noise", lam, "gradient_bias_rms_exact"),
                    cell("bias", lam, "gradient_bias_rms_exact"),
                    cell("bias", lam, "bias_rms_exact"),
                )
                for lam in lambdas
            ),
            caption=(
                "GAE(γ, λ) by critic V̂ (exact, noise, bias): exact biases (RMS over start "
                "pairs (s, a)) and sampled variances (mean over start pairs)"
            ),
        )
    )
    others = [r for r in study["rows"] if r["estimator"] != "gae"]
    section.blocks.append(
        Table(
            header=("estimator", "critic", "variance", "grad. variance", "bias", "grad. bias"),
            rows=tuple(
                (
                    r["estimator"] + (f" (n={r['value']})" if r["param"] == "n" else ""),
                    r["critic_error"],
                    fmt(r["variance"]),
                    fmt(r["gradient_variance"]),
                    fmt(r["bias_rms_exact"]),
                    fmt(r["gradient_bias_rms_exact"]),
                )
                for r in others
            ),
            caption="The other estimators (exact biases, sampled variances)",
        )
    )
    findings = []
    for check in study["checks"]:
        claim = CHECK_WORDS.get(check["id"], check["claim"])
        findings.append(f"{'Holds' if check['holds'] else 'FAILS'}: {claim}.")
    section.blocks += [
        Para("What the numbers show (each decided by the study itself, `gae-sym study`):"),
        Bullets(tuple(findings)),
        Para(
            "Why $λ = 1$ is unbiased 'whatever $V̂$' but still off: $Â = G_t − V̂(s_t)$ is off "
            "by $−(V̂ − V^π)(s_t)$, which does not depend on the action. As an estimate of "
            "$A(s, a)$ "
            "it is biased (the 'bias' column is exactly the critic's error), as a policy-"
            "gradient signal it is not (the gradient bias is 0). A constant shift of the "
            "critic biases $λ < 1$ only through the episode ends and the discount ($δ$ changes "
            "by $(γ − 1)c$, and by $−c$ at a termination), which is why its gradient bias is "
            "small."
        ),
    ]
    jobs = [FigureJob("bias-variance.png", lambda path: figures.plot_study(path, study))]
    return section, jobs


def _by_variant_table(runs: Sequence[dict[str, Any]]) -> Table:
    variants = sorted({str(r.get("variant")) for r in runs})
    rows = []
    for variant in variants:
        mine = [r for r in runs if r.get("variant") == variant]
        solved = [r for r in mine if r.get("solved")]
        steps = [float(r["solved_at_step"]) for r in solved if r.get("solved_at_step")]
        seconds = [float(r["seconds"]) for r in mine if r.get("seconds") is not None]
        finals = [float(r["mean_return_last_100"]) for r in mine if r.get("mean_return_last_100")]
        rows.append(
            (
                variant,
                str(len(mine)),
                str(len(solved)),
                f"{median(steps):,.0f}" if steps else "–",
                f"{median(seconds):.1f}" if seconds else "–",
                f"{median(finals):.1f}" if finals else "–",
            )
        )
    return Table(
        header=(
            "variant",
            "runs",
            "solved",
            "median env steps to solve",
            "median seconds",
            "median last-100 mean",
        ),
        rows=tuple(rows),
        caption="Default settings: the lecture's per-episode loop against the batched learner",
    )


def cartpole_section(data: NotesData) -> tuple[Section, list[FigureJob]]:
    section = Section(id="cartpole", title="CartPole: the actor-critic of the lecture, run")
    runs = data.runs
    if not runs:
        section.blocks.append(
            Para(
                "The CartPole evidence is missing: `docs/data/cartpole/runs.json` does not "
                f"exist yet (it is written by `{CARTPOLE_COMMAND}`). The learning curves, the "
                "learning-rate sweep and the kernel check will appear here once it does."
            )
        )
        return section, []
    jobs: list[FigureJob] = []
    section.blocks.append(
        Para(
            f"{len(runs)} runs read from `{data.runs_path}` (written by `{CARTPOLE_COMMAND}`: "
            "the learners of `gae-sym cartpole`, each checked against the numeric kernels). "
            "The episode return in CartPole-v1 is the episode length, capped at 500; 'solved' "
            "is a 100-episode mean of at least 475. Seconds are the wall clock of the machine "
            "that wrote the file."
        )
    )
    default = [r for r in runs if r.get("label") == "default"]
    if default:
        section.blocks.append(_by_variant_table(default))
        section.blocks.append(
            Figure(
                "cartpole-default.png",
                "Learning curves with default settings, lecture loop against batched learner.",
            )
        )
        jobs.append(
            FigureJob(
                "cartpole-default.png",
                lambda path: figures.plot_learning_curves(
                    path,
                    default,
                    "CartPole-v1: lecture vs batched (default settings)",
                    lambda r: str(r.get("variant")),
                ),
            )
        )
    swept = {r.get("variant") for r in runs if r.get("label") == "lr-sweep"}
    # The default runs are the sweep's point at the default learning rate.
    sweep = [
        r
        for r in runs
        if r.get("label") == "lr-sweep"
        or (r.get("label") == "default" and r.get("variant") in swept)
    ]
    if swept:
        section.blocks.append(
            Table(
                header=("variant", "lr", "runs", "solved", "collapsed (last-100 mean < 15)"),
                rows=tuple(
                    (c.variant, fmt_lr(c.lr), str(c.runs), str(c.solved), str(c.collapsed))
                    for c in sweep_table(sweep)
                ),
                caption="Learning-rate sweep (with the default runs at their learning rate)",
            )
        )
        section.blocks.append(
            Figure(
                "cartpole-lr-sweep.png",
                "The learning-rate sweep (episodes on a log scale): too large a step collapses "
                "the policy to a return of about 9, too small a step learns slowly.",
            )
        )
        jobs.append(
            FigureJob(
                "cartpole-lr-sweep.png",
                lambda path: figures.plot_learning_curves(
                    path,
                    sweep,
                    "CartPole-v1: learning-rate sweep",
                    lambda r: f"{r.get('variant')} lr={fmt_lr(float(r.get('lr') or 0.0))}",
                    x_axis="episodes",
                ),
            )
        )
    checked = [r for r in runs if r.get("agree") is not None]
    if checked:
        agree = sum(bool(r["agree"]) for r in checked)
        worst = max(float(r.get("max_abs_diff") or 0.0) for r in checked)
        section.blocks.append(
            Para(
                f"Kernel check: in {agree} of {len(checked)} runs the generated kernels "
                f"reproduce the advantages the training loop used (largest |difference| "
                f"{worst:.1e}, float32 training against a float64 recomputation)."
            )
        )
    return section, jobs


def claims_section(data: NotesData) -> Section:
    section = Section(id="lecture-claims", title="The lecture's claims, checked")
    section.blocks.append(
        Para(
            "The lecture (transcript and class notes) makes three empirical claims. Each is "
            "checked here with evidence produced by this tool."
        )
    )
    for claim in lecture_claims(data):
        section.blocks += _claim_blocks(claim)
    return section


def _claim_blocks(claim: Claim) -> list[Block]:
    return [
        Heading(claim.title, claim.id),
        Para(f"Source: {claim.source}. Quote: “{claim.quote}”"),
        Para(f"Verdict: {claim.verdict}."),
        *claim.evidence,
    ]


# --- assembly ----------------------------------------------------------------------------------


def intro_blocks() -> list[Block]:
    return [
        Para(
            "Lecture notes on advantage estimation for policy-gradient methods: the TD error, "
            "n-step advantages, Generalized Advantage Estimation (GAE, Schulman et al. 2016, "
            "'High-Dimensional Continuous Control Using Generalized Advantage Estimation') "
            "and the $λ$-return. Every derivation is a chain of steps, each with its reason, and "
            "every step is checked by the proof kernel of gae-sym (SymPy algebra under the "
            "stated assumptions, see docs/guide/proof-kernel.md); the numbers come from runs "
            "of the tool "
            "(a bias–variance study with exact values, and an actor-critic on CartPole-v1)."
        ),
        Para(
            "Notation: $r_t$ is the reward after action $a_t$ in state $s_t$, $V(s_t)$ the "
            "critic, $γ$ the discount, $λ$ the GAE parameter; trajectories are time-major "
            "arrays. "
            "Generated by `gae-sym notes` from `derivations/`, `gae_sym/estimators.py`, "
            f"`docs/data/{STUDY_FILE.as_posix()}` and `docs/data/{RUNS_FILE.as_posix()}`; "
            "do not edit by hand (`gae-sym notes --check` fails when these files are stale)."
        ),
    ]


def build_sections(
    derivations: Sequence[Any], data: NotesData, check: bool = True
) -> tuple[list[Section], list[FigureJob]]:
    """All sections in teaching order, and the figures they reference."""
    jobs = [FigureJob("lambda-weights.png", figures.plot_lambda_weights)]
    sections = [td_error_section()]
    sections += [derivation_section(d, check=check) for d in derivations]
    study, study_jobs = study_section(data)
    cartpole, cartpole_jobs = cartpole_section(data)
    # Does λ matter for learning? (issue 16): the committed λ × γ sweep, after the CartPole runs.
    from gae_sym.notes.sweep_section import load_sweep, sweep_section

    lambda_learning, sweep_figures = sweep_section(data, load_sweep(data.folder))
    cartpole_jobs = cartpole_jobs + [FigureJob(file, draw) for file, draw in sweep_figures]
    sections += [study, cartpole, lambda_learning, claims_section(data)]
    # RL on language models (issue 17): the chapter after the lecture's own material.
    from gae_sym.notes.llm_section import llm_section

    llm, llm_jobs = llm_section(data.folder)
    sections.append(llm)
    return sections, jobs + study_jobs + cartpole_jobs + llm_jobs


def _nav(sections: Sequence[Section], i: int) -> str:
    parts = []
    if i > 0:
        parts.append(f"← [{sections[i - 1].title}]({sections[i - 1].id}.md)")
    parts.append(f"[contents]({INDEX_FILE})")
    if i + 1 < len(sections):
        parts.append(f"[{sections[i + 1].title}]({sections[i + 1].id}.md) →")
    return " · ".join(parts)


def index_markdown(sections: Sequence[Section]) -> str:
    lines = [f"# {TITLE}", ""]
    for block in intro_blocks():
        lines += [block.text, ""]  # type: ignore[union-attr]
    lines += ["## Contents", ""]
    for number, section in enumerate(sections, start=1):
        lines.append(f"{number}. [{section.title}]({section.id}.md#{section.id})")
    lines += [
        "",
        f"The same notes as one LaTeX document: [`{TEX_FILE}`]({TEX_FILE}) "
        "(`gae-sym notes --pdf` builds `notes.pdf`).",
        "",
    ]
    return "\n".join(lines)


def render_notes(
    derivations: Sequence[Any], data: NotesData, check: bool = True, extra: Sequence = ()
) -> Notes:
    """The notes as text files (``index.md``, ``<id>.md`` per section, ``notes.tex``);
    ``extra`` sections (a lecturer's own checked derivations, ``notes --extra``) go last."""
    sections, jobs = build_sections(derivations, data, check=check)
    sections = [*sections, *extra]
    files = {INDEX_FILE: index_markdown(sections)}
    for i, section in enumerate(sections):
        files[f"{section.id}.md"] = to_markdown(section, nav=_nav(sections, i))
    files[TEX_FILE] = to_latex_document(TITLE, intro_blocks(), sections)
    return Notes(files=files, figures=tuple(jobs))


__all__ = ["FIGURE_DIR", "INDEX_FILE", "TEX_FILE", "FigureJob", "Notes", "render_notes"]
