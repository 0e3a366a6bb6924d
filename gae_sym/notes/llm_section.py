"""The notes' chapter "From CartPole to language models".

Built from the theorems of ``derivations/`` (token-gae-masked, llm-terminal-reward, rloo,
baseline-unbiased: their own sections carry the proofs) and from the committed data file
``docs/data/llm/llm.json`` (written by ``python -m numeric.llm.experiments --out
docs/data/llm``): the exact bias/variance of the group estimators on a problem with known
gradient, and the toy run of ``gae-sym llm-toy`` with its kernel check. A missing file is
not an error: the chapter then says how to produce it. Only numbers read from the file
enter the text, rounded for display.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gae_sym.notes.data import default_data_dir
from gae_sym.notes.document import Bullets, Figure, Math, Para, Section, Table

LLM_FILE = Path("llm") / "llm.json"
LLM_COMMAND = "python -m numeric.llm.experiments --out docs/data/llm"
CURVES_FIGURE = "llm-toy-curves.png"
ESTIMATOR_NAMES = {
    "reinforce": "REINFORCE (no baseline)",
    "rloo": "RLOO",
    "drgrpo": "Dr. GRPO",
    "grpo": "GRPO (unbiased std)",
    "grpo-biased": "GRPO (biased std)",
    "gae": "PPO + token GAE",
}


def _read(data_dir: Path | None) -> dict[str, Any] | None:
    path = (data_dir or default_data_dir()) / LLM_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from error


def _conventions() -> list:
    return [
        Para(
            "A language model's RL problem is an MDP over tokens: the state is the prompt "
            "and the tokens generated so far, the action is the next token, the episode ends "
            "at EOS or at a length cap, and the reward usually comes once, on the last "
            "generated token (a verifier's score or a reward model's), sometimes with a "
            "per-token KL penalty. The discount is usually γ = 1. What changes from "
            "CartPole is the bookkeeping: a batch is an array of shape (B, L) of B "
            "responses padded to L positions, and a response mask says which positions the "
            "policy generated (1) and which are prompt, padding or, in multi-turn agents, "
            "observation tokens a tool inserted (0)."
        ),
        Para(
            "GAE over a response skips the masked tokens: scanning backwards, a response "
            "token computes its TD error from the value of the next response token and "
            "its advantage from that token's advantage; a masked token passes both through "
            "unchanged (this is verl's multi-turn form; older code handled only padding at "
            "the end):"
        ),
        Math(
            (
                r"\delta_t &= r_t + \gamma V_{\mathrm{next}} - V_t, \qquad "
                r"\hat{A}_t = \delta_t + \gamma\lambda \hat{A}_{\mathrm{next}} "
                r"&& \text{response token}",
                r"V_{\mathrm{next}} &\leftarrow m_t V_t + (1 - m_t) V_{\mathrm{next}}, \qquad "
                r"\hat{A}_{\mathrm{next}} \leftarrow m_t \hat{A}_t + (1 - m_t) "
                r"\hat{A}_{\mathrm{next}} && \text{every token}",
            )
        ),
        Para(
            "starting from zero after the last position: the last response token bootstraps "
            "from nothing, the state after it is terminal. The result is GAE on the "
            "compacted sequence of response tokens (theorem token-gae-masked, for any mask: "
            "across a gap of g masked tokens the scan carries the next response token's "
            "value and advantage unchanged, for symbolic g and response length). "
            "Returns are advantages + values, taken before the advantages are whitened over "
            "the batch's response tokens; whitening is a separate step "
            "(numeric.whiten). With γ = λ = 1 and one terminal reward R, every response "
            "token gets R − V_t (theorem llm-terminal-reward, which also gives the "
            "Monte-Carlo form at λ = 1)."
        ),
        Para(
            "Critic-free methods sample K responses per prompt and use the group as the "
            "baseline, one advantage per response, broadcast over its response tokens:"
        ),
        Table(
            ("estimator", "advantage of response i", "notes"),
            (
                (
                    "GRPO",
                    r"$(r_i - \bar r_g)/(\mathrm{std}_g + \varepsilon)$",
                    "std unbiased (K − 1, torch.std, verl, TRL) or biased (K)",
                ),
                ("Dr. GRPO", r"$r_i - \bar r_g$", "no std; loss summed over tokens / a constant"),
                (
                    "RLOO",
                    r"$r_i - \frac{1}{K-1}\sum_{j \ne i} r_j = \frac{K}{K-1}(r_i - \bar r_g)$",
                    "theorem rloo",
                ),
                (
                    "REINFORCE++",
                    r"$\sum_{l} \gamma^{l} r_{t+l}$ over the response, whitened",
                    "token level, no critic; mask: reset (verl) or skip",
                ),
            ),
            caption="The group and outcome estimators of numeric.llm.",
        ),
        Para(
            "Which of these keep the policy gradient unbiased? A baseline that does not "
            "depend on the sampled response does, because the score has mean zero, and so "
            "does the reward of another, independent sample (theorem baseline-unbiased). "
            "RLOO's baseline is a mean of such samples: unbiased. The group mean contains "
            r"$r_i/K$ itself, which scales the expected gradient by $(K - 1)/K$ (Dr. GRPO: "
            "a positive rescaling, harmless for the direction). Dividing by the group's std "
            "has no such argument: the std depends on every sample, r_i included. That part "
            "is only shown numerically, below."
        ),
    ]


def _exact(document: dict[str, Any]) -> list:
    problems = document["problems"]
    blocks: list = [
        Para(
            "Exact bias and variance. One prompt, a softmax policy over 4 responses with "
            "known probabilities and rewards; K responses are sampled independently and each "
            r"estimator gives $g = \frac{1}{K}\sum_i A_i \nabla_\theta \log\pi(a_i)$. All "
            r"$4^K$ groups are enumerated with their probabilities, so $\mathbb{E}[g]$ and "
            r"its variance are exact, and are compared with the true gradient $\nabla J$: "
            r"scale = $\langle \mathbb{E}[g], \nabla J\rangle / \|\nabla J\|^2$, cosine of "
            r"the angle, and variance $\mathbb{E}\|g - \mathbb{E}[g]\|^2 / \|\nabla J\|^2$ "
            f"(ε = {document['eps']:g})."
        ),
    ]
    for name, problem in problems.items():
        rows = [r for r in document["exact"] if r["problem"] == name]
        sizes = sorted({r["K"] for r in rows})
        table_rows = []
        for estimator in dict.fromkeys(r["estimator"] for r in rows):
            cells = [ESTIMATOR_NAMES.get(estimator, estimator)]
            for k in sizes:
                r = next(x for x in rows if x["K"] == k and x["estimator"] == estimator)
                cells.append(f"{r['scale']:.3f} / {r['cosine']:.3f} / {r['relative_variance']:.2f}")
            table_rows.append(tuple(cells))
        probs = ", ".join(f"{p:g}" for p in problem["probs"])
        rewards = ", ".join(f"{f:g}" for f in problem["rewards"])
        blocks.append(
            Table(
                ("estimator", *[f"K = {k}" for k in sizes]),
                tuple(table_rows),
                caption=(
                    f"{problem['what']}: π = ({probs}), f = ({rewards}); each cell "
                    "scale / cosine / variance."
                ),
            )
        )
    exact = document["exact"]

    def pick(problem, estimator):
        return [r for r in exact if r["problem"] == problem and r["estimator"] == estimator]

    lower = []
    for problem in problems:
        ks = [
            str(r["K"])
            for r, base in zip(pick(problem, "rloo"), pick(problem, "reinforce"), strict=True)
            if r["relative_variance"] < base["relative_variance"]
        ]
        lower.append(f"{problem}: K = {', '.join(ks) if ks else 'none'}")
    grpo = [r for r in exact if r["estimator"] == "grpo"]
    worst = min(grpo, key=lambda r: r["cosine"])
    best_problem = {
        problem: min(r["cosine"] for r in grpo if r["problem"] == problem) for problem in problems
    }
    kept = [p for p, c in best_problem.items() if c > 0.9999]
    blocks.append(
        Bullets(
            (
                "REINFORCE and RLOO: scale "
                + ", ".join(
                    sorted(
                        {
                            f"{r['scale']:.3f}"
                            for r in exact
                            if r["estimator"] in ("reinforce", "rloo")
                        }
                    )
                )
                + " and cosine 1 for every K, as the theorems say; RLOO's baseline lowers the "
                "variance below REINFORCE's at " + "; ".join(lower) + ".",
                "Dr. GRPO: scale (K − 1)/K ("
                + ", ".join(f"K = {r['K']}: {r['scale']:.3f}" for r in pick("graded", "drgrpo"))
                + "), cosine 1: the mean baseline includes the sample itself (RLOO identity).",
                "GRPO: the std division changes the scale with K and with the problem (so, "
                "across prompts, it reweights them), and it can turn the direction: cosine "
                f"{worst['cosine']:.3f} on '{worst['problem']}' at K = {worst['K']}."
                + (
                    f" On {', '.join(repr(p) for p in kept)} the direction survives (cosine 1)."
                    if kept
                    else ""
                ),
            )
        )
    )
    return blocks


def _toy(document: dict[str, Any]) -> tuple[list, list]:
    runs = document["toy"]
    rows = []
    for run in runs:
        # "numpy, torch, jax": every backend checked is a generated one (the header says so)
        backends = ", ".join(b["name"].removesuffix("-generated") for b in run["backends_checked"])
        rows.append(
            (
                ESTIMATOR_NAMES.get(run["estimator"], run["estimator"]),
                "yes" if run["multi_turn"] else "no",
                f"{run['initial_reward']:.3f} → {run['final_reward']:.3f}",
                str(run["batches_checked"]),
                backends,
                f"{run['max_abs_diff']:.2g}",
                "agree" if run["agree"] else "DISAGREE",
            )
        )
    blocks = [
        Para(
            "The toy run (gae-sym llm-toy): a GRU policy over 8 tokens answers a prompt "
            'token c, and should say "c c c EOS"; the reward, on the last generated token, '
            "is (matches among the first three + [fourth is EOS]) / 4; responses are padded; "
            "the multi-turn variant inserts a masked observation token after the second "
            "generated token. On every batch the advantages the loop computed, written the "
            "way verl writes them, are compared with numeric.llm's kernels (numpy with "
            "float64 inputs, torch with the loop's float32 tensors). Reward: mean over the "
            f"first and the last tenth of {runs[0]['batches']} batches, seed {runs[0]['seed']}."
        ),
        Table(
            (
                "estimator",
                "multi-turn",
                "reward",
                "batches",
                "backends (generated)",
                "max |diff|",
                "kernels",
            ),
            tuple(rows),
            caption=f"The toy run, from {LLM_COMMAND}.",
        ),
        Figure(CURVES_FIGURE, "Mean reward per batch of the toy run, each estimator."),
    ]
    single = [run["final_reward"] for run in runs if not run["multi_turn"]]
    if single:
        blocks.append(
            Para(
                f"Single-turn runs end at {min(single):.3f} to {max(single):.3f} mean reward; "
                '0.75 is the reward of "c c c" without the EOS at the fourth position. Every '
                "batch of every run was checked; a run whose kernels disagreed would say "
                "DISAGREE above."
            )
        )

    def draw(path: Path) -> Path:
        return plot_llm_curves(path, runs)

    from gae_sym.notes.render import FigureJob

    return blocks, [FigureJob(CURVES_FIGURE, draw)]


def plot_llm_curves(path: Path, runs: list[dict[str, Any]]) -> Path:
    from gae_sym.notes.figures import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), dpi=120, sharey=True)
    for ax, multi in zip(axes, (False, True), strict=True):
        for run in runs:
            if run["multi_turn"] != multi:
                continue
            curve = run["learning_curve"]
            ax.plot(
                range(1, len(curve) + 1), curve, lw=1.0, label=ESTIMATOR_NAMES[run["estimator"]]
            )
        ax.set_title("multi-turn (masked observation)" if multi else "single turn, padded")
        ax.set_xlabel("batch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean reward")
    axes[0].set_ylim(0, 1.05)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def verify_blocks() -> list:
    return [
        Para(
            "The same conventions are what gae-sym verify-impl checks in library code: "
            "--convention token calls f(token_level_rewards, values, response_mask, gamma, "
            "lam) and compares on response tokens; --convention group calls f(scores, "
            "group_ids[, eps]) against --estimator grpo, grpo-biased, drgrpo or rloo. Its "
            "catalogue names the usual mistakes: the mask on the carry but not on the value "
            "(or the reverse), padding or observation tokens inside the chain, the last "
            "response token bootstrapping from a padding value, whitened advantages (over "
            "padding too), returns from whitened advantages, the biased against the unbiased "
            "std, the std or the mean of the whole batch, RLOO dividing by K, a group of one "
            "giving 0 or NaN. With --estimator reinforce-pp the token convention calls "
            "f(token_level_rewards, response_mask, gamma) and compares the whitened "
            "return-to-go, under --mask-mode reset (verl restarts the running return after "
            "a masked token; its function passes as shipped) or skip (the return passes "
            "through masked tokens; the two agree when the mask only pads the end)."
        )
    ]


def llm_section(data_dir: Path | None = None) -> tuple[Section, list]:
    """The chapter, and the figure it draws (none without the data file)."""
    section = Section(id="llm", title="From CartPole to language models")
    section.blocks += _conventions()
    document = _read(data_dir)
    jobs: list = []
    if document is None:
        section.blocks.append(
            Para(
                "The exact comparison and the toy run are read from "
                f"docs/data/{LLM_FILE.as_posix()}, which is not there yet: run {LLM_COMMAND}."
            )
        )
    else:
        section.blocks += _exact(document)
        toy_blocks, jobs = _toy(document)
        section.blocks += toy_blocks
    section.blocks += verify_blocks()
    return section, jobs


__all__ = ["LLM_COMMAND", "LLM_FILE", "llm_section", "plot_llm_curves"]
