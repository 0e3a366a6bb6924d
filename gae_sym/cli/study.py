"""`gae-sym study`: bias and variance of each estimator on an MDP with exact values."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gae_sym.cli._common import add_json_flag, add_parser, int_flag, print_json, progress_bar
from gae_sym.errors import UserError

DESCRIPTION = """\
Bias and variance of the advantage estimators against the *exact* advantage
A(s, a) = Q(s, a) - V(s) of a small random MDP (6 states, 2 actions, gamma 0.95,
terminating 3-12% per step; V and Q solved by linear algebra).

Every start pair (s0, a0) is rolled out many times (vectorised, through the numeric
kernels) with three critics: V-hat = V (exact), V + fixed per-state noise, V + 2.
For each estimator (TD error, n-step for n = 2, 4, 8, 16, GAE for a grid of lambda,
Monte Carlo, and REINFORCE's plain discounted return) it reports:
  bias       RMS over pairs of E[A-hat | s, a] - A(s, a), sampled and exact
  grad bias  the action-dependent part of that bias: the only part that moves the
             policy gradient (a state-only bias is a baseline)
  variance   Var[A-hat | s, a], and the variance of the policy-gradient estimate
  floor      sampling noise: a sampled bias this small is zero
and checks the textbook facts: GAE is unbiased for every lambda when V-hat = V;
lambda = 1 has no gradient bias whatever V-hat; variance grows with lambda.
Default run: 8000 rollouts per pair, 128 steps, about 10 s.

examples:
  gae-sym study
  gae-sym study --out docs/data/study      # + study.json and study.png there
  gae-sym study --json --samples 2000      # numbers only, quicker

exit status: 0 the study ran (its checks are in the report, "holds" or "FAILS");
2 bad input (a flag out of range, an --out folder that cannot be created)."""


MAX_SAMPLES = 50_000
"""Rollouts per start pair: memory and time grow linearly (8,000 take ~10 s and ~1 GB)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers,
        "study",
        "bias and variance of each estimator on an MDP with exact values",
        DESCRIPTION,
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="write study.json (the numbers) and study.png (bias/variance vs lambda) here",
    )
    parser.add_argument(
        "--samples",
        type=int_flag(2, MAX_SAMPLES),
        default=8000,
        metavar="N",
        help=f"rollouts per start pair, 2 to {MAX_SAMPLES:,} (default 8000; the sampling noise "
        "shrinks as 1/sqrt(N))",
    )
    parser.add_argument(
        "--seed",
        type=int_flag(0, 2**32 - 1),
        default=0,
        metavar="S",
        help="seed of the MDP and the rollouts, 0 to 2**32-1 (default 0)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out is not None:
        # Fail before a minute of sampling, not after it.
        _make_output_dir(args.out)
    from numeric.study import run_study

    # A bar on a terminal only: a pipe or a log gets nothing (the CLI contract).
    with progress_bar(desc="study", unit="critic") as bar:

        def progress(message: str) -> None:
            bar.set_postfix(now=message)
            bar.update(1)

        result = run_study(samples_per_pair=args.samples, seed=args.seed, progress=progress)
    document = result.to_dict()
    if args.out is not None:
        write_outputs(document, args.out)
    if args.json:
        print_json(document)
    else:
        print(format_report(document))
        if args.out is not None:
            print(f"\nwrote {args.out / 'study.json'} and {args.out / 'study.png'}")
    return 0


def write_outputs(document: dict[str, Any], out: Path) -> None:
    from gae_sym.notes.figures import plot_study

    _make_output_dir(out)
    (out / "study.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    plot_study(out / "study.png", document)


def _make_output_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create output directory {out}: {error}") from error


def _param(row: dict[str, Any]) -> str:
    if row["param"] is None:
        return ""
    return f"{'λ' if row['param'] == 'lambda' else row['param']}={row['value']:g}"


def critic_label(kind: str, config: dict[str, Any]) -> str:
    """The JSON's critic_error kind in words (the table's "bias" column is another thing)."""
    labels = {
        "exact": "exact (V̂ = V)",
        "noise": f"noisy (V̂ = V + fixed per-state noise, sd {config.get('noise_scale', '?')})",
        "bias": f"shifted (V̂ = V + {config.get('bias', '?')})",
    }
    return labels.get(kind, kind)


def format_report(document: dict[str, Any]) -> str:
    """The study as plain-text tables (one per critic), then the headline checks."""
    config, mdp = document["config"], document["mdp"]
    lines = [
        f"random MDP: {mdp['states']} states, {mdp['actions']} actions, γ = {mdp['gamma']}, "
        f"termination {mdp['termination_per_step'][0]:.3f}-{mdp['termination_per_step'][1]:.3f}"
        f" per step; {config['samples_per_pair']} rollouts per (s, a), "
        f"{config['horizon']} steps (truncation weight {config['truncation_weight']:.2g})",
        "bias = RMS over (s, a) of E[Â|s,a] − A(s,a); grad bias = its action-dependent part;"
        " floor = sampling noise",
    ]
    header = (
        f"{'estimator':<10} {'param':<7} {'bias':>8} {'(exact)':>9} {'grad bias':>10} "
        f"{'(exact)':>9} {'floor':>7} {'variance':>9} {'grad var':>9}"
    )
    kinds: list[str] = []
    for row in document["rows"]:
        if row["critic_error"] not in kinds:
            kinds.append(row["critic_error"])
    for kind in kinds:
        lines += ["", f"critic: {critic_label(kind, config)}", header, "-" * len(header)]
        for row in document["rows"]:
            if row["critic_error"] != kind:
                continue
            lines.append(
                f"{row['estimator']:<10} {_param(row):<7} {row['bias_rms']:>8.4f} "
                f"{row['bias_rms_exact']:>9.4f} {row['gradient_bias_rms']:>10.4f} "
                f"{row['gradient_bias_rms_exact']:>9.4f} {row['noise_floor']:>7.4f} "
                f"{row['variance']:>9.3f} {row['gradient_variance']:>9.3f}"
            )
    lines += ["", "checks:"]
    for check in document["checks"]:
        lines.append(f"  [{'holds' if check['holds'] else 'FAILS'}] {check['claim']}")
    return "\n".join(lines)
