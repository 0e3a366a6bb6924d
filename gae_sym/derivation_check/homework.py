"""A student's derivation for a homework question (``check --question ID --derivation FILE``).

The last derivation block of the file is the answer. It is **correct** when every line
is justified (:mod:`.engine`) and its last line equals, in the kernel, the question's
reference or one of its equivalent forms (each a proved theorem, e.g. the n-step
advantage in rewards and values); **incorrect** when a line is false or unjustified, or
the last line is not the reference (then the first wrong line, its counterexample, and
the hint of a known mistake that the wrong line or the last line matches);
**unreadable** when there is no block or a line cannot be read. A block without
``% gae-sym: assume`` gets the question's assumptions (inside one segment; n >= 1;
bounded TD errors with γλ < 1 for the infinite sums).
"""

from __future__ import annotations

from sympy import Expr

from gae_sym.derivation_check.blocks import BlockError, find_blocks
from gae_sym.derivation_check.engine import check_block, read_block
from gae_sym.derivation_check.search import BUDGET_S

_QUESTION_ASSUMPTIONS = {
    "0 <= gamma*lambda < 1": "bounded-delta",
    "bounded TD errors": "bounded-delta",
    "0 <= lambda < 1": "lambda-lt-1",
    "0 <= gamma < 1": "gamma-lt-1",
    "bounded rewards and values": "bounded-r-V",
    "n >= 1": "n-ge-1",
}


def question_assumptions(q) -> list[str]:
    """The assumption ids of a homework question's reference form (segment always)."""
    ids = ["segment"]
    if q.uses_n:
        ids.append("n-ge-1")
    for text in q.forms[0].assumptions:
        name = _QUESTION_ASSUMPTIONS.get(text)
        if name and name not in ids:
            ids.append(name)
    if "bounded-delta" in ids:
        # Splitting Σ (γλ)^l δ_{t+l} into its reward and value sums needs each to converge:
        # bounded r and V, as the answer checker assumes for the same step (a right
        # derivation was "unjustified: needs a bounded V").
        ids.append("bounded-r-V")
    return ids


_QUESTION_THEOREMS = {
    "gae-lambda0": "gae-lambda0",
    "gae-lambda1": "gae-lambda1",
    "llm-terminal": "llm-terminal-reward",
}
"""Questions that set a parameter (GAE at λ = 1), and the theorem whose proofs set it."""


def question_settings(q) -> list[tuple]:
    """The (parameter, value) pairs a derivation answering ``q`` may set: a line
    ``\\hat{A}^{\\mathrm{GAE}}_t = Σ (γλ)^l δ_{t+l}`` then ``= Σ γ^l δ_{t+l}`` answers
    "GAE at λ = 1" (it was false at λ = 0.6)."""
    import derivations

    theorem = _QUESTION_THEOREMS.get(q.id)
    if theorem is None:
        return []
    return sorted(
        {(k, v) for p in derivations.get(theorem).proofs for k, v in p.statement.at.items()},
        key=str,
    )


def check_derivation(text: str, question_id: str, markdown: bool = False, budget=BUDGET_S) -> dict:
    """The verdict document of a derivation answer (JSON of ``check --derivation``)."""
    from gae_sym.homework.questions import question

    q = question(question_id)  # AnswerError("unknown-question") for an unknown id
    try:
        blocks = find_blocks(text, markdown)
    except BlockError as error:
        return _verdict("unreadable", q, f"the file cannot be read: {error}")
    if not blocks:
        return _verdict(
            "unreadable",
            q,
            "no derivation block: write at least two lines, LHS &= … \\\\ &= … (in "
            "\\begin{align*} … \\end{align*}, or bare); a single equation is an answer: "
            "check it without --derivation",
        )
    block = blocks[-1]
    granted = question_assumptions(q)
    if not block.assumptions:
        block.assumptions = granted
    extra = [a for a in block.assumptions if a not in granted]
    if extra:
        # A student's own '% gae-sym: assume' may restate the question's assumptions, never
        # add one: with gamma-lt-1 or lambda-lt-1 added, a derivation proves a weaker claim
        # than the question asks (and the reference may agree with it only there).
        return _verdict(
            "incorrect",
            q,
            f"the derivation assumes {', '.join(extra)}, which question {q.id} does not "
            f"grant (it grants {', '.join(granted)}); drop the '% gae-sym: assume' line to "
            "use the question's own",
        )
    report = check_block(block, budget, question_settings(q))
    exprs, _ = read_block(block)
    by_line = {
        entry["source_line"]: exprs[index + 1] for index, entry in enumerate(report["lines"])
    }
    if report["status"] == "unreadable":
        line = report["first_wrong_line"]
        why = report.get("why") or next(
            (e["why"] for e in report["lines"] if e["status"] == "unreadable"), "unreadable"
        )
        return _verdict("unreadable", q, f"line {line}: {why}", report, line)
    wrong = next((e for e in report["lines"] if e["status"] != "justified"), None)
    if wrong is not None:
        if _free_recursion_sequence(wrong, block.assumptions):
            wrong["why"] += _RECURSION_NOTE
        mistake = _mistake(q, wrong, report, by_line)
        feedback = f"line {wrong['source_line']} is {wrong['status']}: {wrong['why']}"
        return _verdict(
            "incorrect",
            q,
            feedback,
            report,
            wrong["source_line"],
            wrong["counterexample"],
            mistake,
        )
    last_entry = report["lines"][-1]
    last = by_line[last_entry["source_line"]]
    verdict = _against_reference(q, last, block.assumptions)
    if verdict is None:
        return _verdict(
            "correct",
            q,
            f"every line is justified and the last line is the answer to {q.id}",
            report,
        )
    why, example = verdict
    return _verdict(
        "incorrect",
        q,
        f"line {last_entry['source_line']}: every line is justified, but {why}",
        report,
        last_entry["source_line"],
        example,
        _mistake(q, last_entry, report, by_line),
    )


_ENVIRONMENT = ("\\begin{align", "\\begin{eqnarray", "\\begin{aligned")


_RECURSION_NOTE = (
    "; here '\\hat{A}_t' (no superscript) is the sequence of the backward recursion, which "
    "nothing in this derivation defines, so its values above are arbitrary: write "
    "'\\hat{A}^{\\mathrm{GAE}}_t' for the GAE advantage, '\\hat{A}^{(n)}_t' for the n-step one"
)


def _free_recursion_sequence(entry: dict, assumptions) -> bool:
    """Whether a false line's counterexample chose values for Â_t, which no assumption of
    the block defines (a student's ``\\hat{A}_t = Σ (γλ)^l δ_{t+l}`` means GAE by it)."""
    example = entry.get("counterexample") or {}
    return "A" in (example.get("sequences") or {}) and "recursion" not in assumptions


def looks_like_derivation(answer: str) -> bool:
    """An answer cell that holds a derivation block (an align*-like environment)."""
    return any(marker in answer for marker in _ENVIRONMENT)


def grade_derivation(answer: str, question_id: str | None, required: bool) -> dict:
    """The grading result of one answer that is (or must be) a derivation."""
    from gae_sym.derivation_check.worker import check_homework_text_isolated

    def result(verdict: str, feedback: str, mistake=None) -> dict:
        hint = feedback if verdict == "incorrect" else None
        return {
            "verdict": verdict,
            "feedback": feedback,
            "parsed_latex": None,
            "mistake": mistake,
            "hint": hint,
        }

    if question_id is None:
        return result("unreadable", "a derivation answers a catalogue question (question = ID)")
    if not looks_like_derivation(answer):
        if required:
            return result(
                "incorrect", "this question asks for a derivation (\\begin{align*} … \\end{align*})"
            )
        return result("unreadable", "no derivation block")
    status, payload = check_homework_text_isolated(answer, question_id)
    if status != "ok":
        return result("unreadable", payload)
    line = payload["first_wrong_line"]
    feedback = payload["feedback"] if line is None else f"derivation {payload['feedback']}"
    return {**payload, **result(payload["verdict"], feedback, payload["mistake"])}


def _against_reference(q, last: Expr | None, assumptions) -> tuple[str, dict | None] | None:
    from gae_sym.proof import context_for
    from gae_sym.proof.kernel import equivalent
    from gae_sym.proof.refute import counterexample

    if last is None:
        return "its last line cannot be read again", None
    ctx = context_for(assumptions)
    reference = q.reference
    for form in q.forms:
        try:
            if equivalent(last, form.expr, ctx.facts):
                return None
        except Exception:  # the kernel refuses the comparison: not shown equal
            continue
    if _equal_as_an_answer(q, last):
        return None
    example = counterexample(last, reference, ctx)
    if example is not None:
        shown = {
            "values": example["values"],
            "previous": example["left"],
            "this_line": example["right"],
        }
        return (
            f"the last line is not the answer: at {_values(example['values'])} it is "
            f"{example['left']:.6g}, the reference {example['right']:.6g}",
            shown,
        )
    return "the last line is not shown to equal the reference", None


def _equal_as_an_answer(q, last: Expr) -> bool:
    """Whether the last line equals a form of the question as ``gae-sym check`` proves an
    answer: the same canonical form (δ_t + γλ Σ_l (γλ)^l δ_{t+l+1} is GAE by an index
    shift the kernel's equivalence does not try), cross-checked at the answer checker's
    points inside the form's assumptions."""
    from gae_sym.homework.canonical import equal_canonical
    from gae_sym.homework.checker import _fixed_points, _reference_values
    from gae_sym.homework.numeric_check import agree, evaluate
    from gae_sym.symbols import A, done

    if last.has(A, done):
        return False
    points, _, _ = _reference_values(q, "")
    for form in q.forms:
        try:
            if not equal_canonical(last, form.expr):
                continue
            inside = [p for p in _fixed_points(q, points) if form.holds_at(p)]
            compared = 0
            for point in inside:
                mine, ref = evaluate(last, point), evaluate(form.expr, point)
                if mine != mine or ref != ref:  # NaN: undefined there, compares nothing
                    continue
                if not agree(mine, ref):
                    return False
                compared += 1
            return compared >= 3
        except Exception:  # a line the answer checker cannot read (a limit, a product)
            continue
    return False


def _values(values: dict) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in values.items() if k not in ("r", "V", "delta"))


def _mistake(q, entry: dict, report: dict, by_line: dict) -> dict | None:
    """The known mistake (with its hint) that the wrong line or the last line matches."""
    from gae_sym.homework.questions import mistake_expr, question_steps
    from gae_sym.proof.kernel import equivalent

    candidates = [entry]
    if report["lines"] and report["lines"][-1] is not entry:
        candidates.append(report["lines"][-1])
    steps = question_steps(q)
    for line in candidates:
        expr = by_line.get(line["source_line"])
        if expr is None:
            continue
        for mistake in q.mistakes:
            try:
                if equivalent(expr, mistake_expr(mistake, steps)):
                    return {"id": mistake.id, "hint": mistake.hint, "line": line["source_line"]}
            except Exception:  # a mistake the kernel cannot compare is not matched
                continue
    return None


def _verdict(verdict, q, feedback, report=None, line=None, example=None, mistake=None) -> dict:
    return {
        "verdict": verdict,
        "question": q.id,
        "feedback": feedback,
        "first_wrong_line": line,
        "counterexample": example,
        "mistake": mistake,
        "derivation": report,
    }


__all__ = [
    "check_derivation",
    "grade_derivation",
    "looks_like_derivation",
    "question_assumptions",
]
