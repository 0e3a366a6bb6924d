"""`gae-sym check`: check one homework answer (LaTeX or plain text), safely.

The answer is untrusted: it is screened, parsed by our own readers (never evaluated as
Python) and checked in a child process that is killed past the time limit.
"""

from __future__ import annotations

import argparse
import sys

from gae_sym.cli._common import add_json_flag, add_parser, float_flag, print_json
from gae_sym.errors import UserError

DESCRIPTION = r"""check one homework answer: verdict, the answer as read, a counterexample
and a hint naming the mistake when it is a known one.

examples:
  gae-sym check --list
  gae-sym check --question td-error 'r_t + \gamma V(s_{t+1}) - V(s_t)'
  gae-sym check --question nstep-2 '\hat{A}_t^{(2)} = \delta_t + \gamma \delta_{t+1}'
  gae-sym check --question gae 'sum(l=0..inf, (gamma*lambda)^l * delta[t+l])'
  gae-sym check --expected 'r[t] + gamma*r[t+1]' 'r_t + \gamma r_{t+1}' --json
  gae-sym check --question nstep --derivation docs/examples/derivations/homework/student_nstep.tex

derivations: --derivation FILE (.tex or .md) checks a whole derivation instead of one answer:
its last align* block, line by line (as gae-sym prove FILE does), must justify every line
and end at the question's reference; the first wrong line is named, with a counterexample
and the hint of a known mistake it matches.

notation: LaTeX (r_t, V(s_{t+1}), V_{t+1}, \hat{V}(s_{t+1}), V_{s_{t+1}}, \delta_{t+l},
\gamma, \lambda, \sum_{l=0}^{n-1}, \sum_{l=0}^{\infty}, \sum_{l \geq 0}, \sum_{0 \le k < n},
\frac, \cdot, implicit products, an optional left-hand side such as 'A_t =') or plain text
(r[t] + gamma*V[t+1] - V[t], delta[t], gamma^2, sum(l=0..n-1, gamma^l*delta[t+l]),
sum(l=0..inf, ...)). Any letter but r, s, t, V, A, G, R, Q may index a sum. Unicode from
editors and PDFs is read: γ λ δ ∞ Σ − ·, superscripts and subscripts (γ², δₜ₊₁), math
italic letters; zero-width spaces are dropped.

limits: 4,000 characters (100 terms written out fit), 30 levels of brackets, sums nested
3 deep, numbers of 6 digits, and --time-limit seconds to check it.

exit status: 0 correct, 1 incorrect, 2 unreadable answer, unknown question or refused input
(over the limits above, unknown symbols, unbalanced braces, a left-hand side naming another
quantity, or too complex to check within the time limit)."""

EXIT = {"correct": 0, "incorrect": 1, "unreadable": 2}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "check", "check one homework answer", DESCRIPTION)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--question", "-q", metavar="ID", help="question id (see --list)")
    target.add_argument(
        "--expected", metavar="EXPR", help="the expected expression, in either notation"
    )
    target.add_argument("--list", action="store_true", help="list the question ids and exit")
    parser.add_argument("answer", nargs="?", metavar="ANSWER", help="the answer to check")
    parser.add_argument(
        "--derivation",
        metavar="FILE",
        help="a .tex/.md file whose last align* block derives the answer (needs --question)",
    )
    parser.add_argument(
        "--time-limit",
        type=float_flag(0, 60, min_open=True),
        default=5.0,
        metavar="S",
        help="hard limit in seconds for checking the answer, in (0, 60] (default: 5); "
        "the program's start-up is not counted",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gae_sym.homework import AnswerError, check_answer
    from gae_sym.homework.questions import question_list

    if args.list:
        rows = question_list()
        if args.json:
            print_json({"questions": [{"id": qid, "text": text} for qid, text in rows]})
        else:
            width = max(len(qid) for qid, _ in rows)
            for qid, text in rows:
                print(f"{qid:<{width}}  {text}")
        return 0
    if args.question is None and args.expected is None:
        raise UserError("give --question ID or --expected EXPR (or --list)")
    if getattr(args, "derivation", None) is not None:
        return _run_derivation(args)
    if args.answer is None:
        raise UserError("give the ANSWER to check (quote it: 'r_t + \\gamma V(s_{t+1}) - V(s_t)')")
    try:
        # The limit is the answer's: the worker's start-up (imports, the LaTeX parser) comes
        # before its clock starts, so a busy machine cannot make r_t "too complex".
        result = check_answer(args.answer, args.question, args.expected, args.time_limit)
    except AnswerError as error:
        raise UserError(str(error)) from None
    if args.json:
        print_json(result)
    else:
        _print_human(result)
    return EXIT[result["verdict"]]


def _run_derivation(args: argparse.Namespace) -> int:
    """A derivation answer: checked line by line in a time-limited worker process."""
    from gae_sym.derivation_check.worker import check_homework_isolated
    from gae_sym.homework import AnswerError
    from gae_sym.homework.questions import question

    if args.question is None:
        raise UserError("--derivation needs --question ID (the question it answers)")
    if args.answer is not None:
        raise UserError("give either an ANSWER or --derivation FILE, not both")
    try:
        question(args.question)
    except AnswerError as error:
        raise UserError(str(error)) from None
    status, result = check_homework_isolated(args.derivation, args.question)
    if status != "ok":
        raise UserError(result)
    if args.json:
        print_json(result)
    else:
        out = sys.stdout
        out.write(f"verdict: {result['verdict']}\n{result['feedback']}\n")
        if result.get("mistake"):
            out.write(f"mistake: {result['mistake']['id']}\nhint: {result['mistake']['hint']}\n")
        if result.get("derivation"):
            from gae_sym.derivation_check.report import render_text

            out.write(render_text([{"file": args.derivation, **_one(result)}]))
    return EXIT[result["verdict"]]


def _one(result: dict) -> dict:
    block = result["derivation"]
    seconds = sum(line.get("seconds", 0.0) for line in block["lines"])
    return {"blocks": [block], "seconds": seconds}


def _print_human(result: dict) -> None:
    out = sys.stdout
    out.write(f"verdict: {result['verdict']}\n")
    if result.get("parsed_latex"):
        out.write(f"read as: {result['parsed_latex']}\n")
    out.write(f"{result['feedback']}\n")
    if result.get("assumptions"):
        out.write("assumptions: " + "; ".join(result["assumptions"]) + "\n")
    example = result.get("counterexample")
    if example:
        params = ", ".join(
            f"{name} = {example[name]}" for name in ("gamma", "lambda", "n", "t") if name in example
        )
        out.write(f"counterexample: {params}\n")
        from gae_sym.homework.numeric_check import NO_VALUES

        for name in ("rewards", "values"):
            shown = example.get(name)
            if shown is not None and shown != NO_VALUES:
                out.write(f"  {name + ':':<13} {shown}\n")
        out.write(f"  your answer = {example['answer_value']}\n")
        out.write(f"  reference   = {example['reference_value']}\n")
        if "difference" in example:
            out.write(f"  answer - reference = {example['difference']} exactly\n")
    if result.get("mistake"):
        out.write(f"mistake: {result['mistake']['id']}\n")
