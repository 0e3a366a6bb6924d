"""`gae-sym llm-toy`: a token-level task trained with PPO/GRPO/RLOO, kernels checked per batch."""

from __future__ import annotations

import argparse
from typing import Any

from gae_sym.cli._common import add_json_flag, add_parser, int_flag, print_json, progress_bar
from gae_sym.errors import UserError

ESTIMATORS = ("gae", "grpo", "rloo", "drgrpo")

DESCRIPTION = """\
Train a tiny autoregressive policy (embedding + GRU, vocabulary of 8 tokens) on a task
with a reward at the end: the prompt is a token c, the answer should be "c c c EOS"
(reward = (matches among the first three tokens + [fourth is EOS]) / 4), responses are
padded to a fixed length. --multi-turn inserts an environment token after the second
generated token; it is masked (the policy did not generate it).

On every batch the advantages the training loop computed, written the way verl writes
them, are checked against numeric.llm's kernels with numpy (float64) and torch (float32)
inputs:
  gae     PPO + skip-masked token GAE (gamma 1, lambda 0.95, a critic head): raw
          advantages, returns (= advantages + values, before whitening), whitened
  grpo    K = 4 samples per prompt, (r - mean_g) / (std_g + 1e-6), unbiased std
  drgrpo  r - mean_g; loss summed over tokens / a constant
  rloo    r_i - mean of the other K - 1
Runs on one torch thread; 120 batches of 64 responses take about 10 s.

examples:
  gae-sym llm-toy --estimator gae --json
  gae-sym llm-toy --estimator grpo --seed 3 --multi-turn
  gae-sym llm-toy --estimator rloo --batches 40

exit status: 0 every check agrees, 1 a check disagrees, 2 bad input."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "llm-toy",
        "a token-level task trained with PPO/GRPO/RLOO, kernels checked on every batch",
        DESCRIPTION,
    )
    parser.add_argument(
        "--estimator", choices=ESTIMATORS, default="gae", help="advantage estimator (default gae)"
    )
    parser.add_argument(
        "--seed",
        type=int_flag(0, 2**32 - 1),
        default=0,
        metavar="S",
        help="seed of torch and the sampling, 0 to 2**32-1 (default 0)",
    )
    parser.add_argument(
        "--batches",
        type=int_flag(10, 5000),
        default=120,
        metavar="N",
        help="training batches, 10 to 5000 (default 120; the reward is averaged over the "
        "first and the last tenth)",
    )
    parser.add_argument(
        "--multi-turn",
        action="store_true",
        help="insert a masked environment token after the second generated token",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError as error:
        raise UserError(
            "torch is not installed; install the torch extra: "
            "pip install -c constraints.txt -e '.[torch]'"
        ) from error
    from numeric.llm.toy import run as train

    with progress_bar(total=args.batches, desc=f"llm-toy {args.estimator}", unit="batch") as bar:

        def progress(batch: int, reward: float) -> None:
            bar.update(1)
            bar.set_postfix(reward=f"{reward:.3f}")

        report = train(
            args.estimator,
            seed=args.seed,
            batches=args.batches,
            multi_turn=args.multi_turn,
            progress=progress,
        )
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0 if report["agree"] else 1


def format_report(report: dict[str, Any]) -> str:
    curve = report["learning_curve"]
    tenth = max(1, len(curve) // 10)
    means = [
        sum(curve[i : i + tenth]) / len(curve[i : i + tenth]) for i in range(0, len(curve), tenth)
    ]
    lines = [
        f"llm-toy {report['estimator']} (seed {report['seed']}"
        f"{', multi-turn' if report['multi_turn'] else ''}): {report['batches']} batches of "
        f"{report['responses_per_batch']} responses in {report['seconds']} s",
        f"reward: {report['initial_reward']:.3f} (first tenth) -> "
        f"{report['final_reward']:.3f} (last tenth)",
        "curve (mean per tenth): " + " ".join(f"{m:.2f}" for m in means),
        f"batches checked: {report['batches_checked']}",
    ]
    for backend in report["backends_checked"]:
        verdict = "agree" if backend["agree"] else "DISAGREE"
        lines.append(
            f"  {backend['name']:<6} max |diff| {backend['max_abs_diff']:.3g} "
            f"(tolerance {backend['tolerance']:.3g}): {verdict}"
        )
    lines.append("every check agrees" if report["agree"] else "a check DISAGREES")
    return "\n".join(lines)
