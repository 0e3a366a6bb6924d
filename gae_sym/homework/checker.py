"""Check one answer against a question, in layers (STACK-style), in the current process.

1. read: screen, parse, echo the answer back in LaTeX;
2. structural: same tree as a reference form up to the name of the summation index;
3. algebraic: same canonical form (δ expanded, sums split, shifted, bounds normalised) as a
   reference form — a form other than the definition is equal by a proven theorem, whose
   assumptions are reported;
4. numeric: values at fixed edge points (γ, λ ∈ {0, 1}, n = 1) and seeded random points
   on concrete trajectories; a difference is a counterexample, and the answer is compared
   with the catalogue of known mistakes for a hint; an answer with no algebraic proof is
   also probed where the fixed points cannot look (fresh parameters, other t, impulses at
   far steps) and compared for an exact constant offset before it is called correct;
5. finite horizon: a finite answer to an infinite-horizon question is incorrect even when
   the decaying test trajectories cannot tell (a truncation at l = 300), shown on an
   impulse trajectory just past the answer's last step.

Every verdict is taken inside the question's stated assumptions (its first form's, e.g.
0 <= γλ < 1 for GAE): points outside them decide nothing, a difference seen only there is
moved just inside (γ = 1 − ε) or dropped, and every counterexample lies inside them. An
answer is correct by the first form it equals inside that form's own assumptions, which are
then the ones reported (the λ-weighted average with (1 − λ) inside the sum: 0 <= λ < 1).

An algebraic match is cross-checked numerically; a structural match needs no check.
This module runs whatever it is given: :mod:`gae_sym.homework.worker` runs it in a child
process under a hard time limit, which is how untrusted answers must be checked.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from fractions import Fraction

from sympy import Expr, Indexed, Sum, expand, oo

from gae_sym.homework.build import AnswerError
from gae_sym.homework.canonical import (
    _NotCanonical,
    canonical,
    equal_canonical,
    equal_structural,
)
from gae_sym.homework.questions import (
    Form,
    Question,
    mistake_expr,
    question,
    question_steps,
)
from gae_sym.homework.reader import read_answer
from gae_sym.printing import lecture_latex
from gae_sym.symbols import gamma, lam, n

MIN_COMPARED_POINTS = 3
_SPLIT_ASSUMPTION = (
    "infinite sums split term by term (each part converges: gamma < 1, bounded r, V)"
)


@dataclass
class CheckResult:
    """The outcome of one check; ``as_dict`` is the ``--json`` document of ``gae-sym check``."""

    verdict: str  # "correct" | "incorrect" | "unreadable"
    feedback: str
    parsed_latex: str | None = None
    counterexample: dict | None = None
    mistake: dict | None = None
    layer: str | None = None  # "structural" | "algebraic" | "numeric" | None
    assumptions: list[str] = field(default_factory=list)
    question: str | None = None
    reason: str | None = None  # for unreadable: "unreadable", "unknown-symbol", "too-complex", ...

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "parsed_latex": self.parsed_latex,
            "feedback": self.feedback,
            "counterexample": self.counterexample,
            "mistake": self.mistake,
            "question": self.question,
            "layer": self.layer,
            "assumptions": self.assumptions,
            "reason": self.reason,
        }


def unreadable(
    message: str, reason: str = "unreadable", question_id: str | None = None
) -> CheckResult:
    """A refusal; "too complex to check" always appears in the message of a too-complex one."""
    text = (
        message
        if reason != "too-complex" or "too complex" in message
        else (f"too complex to check: {message}")
    )
    return CheckResult("unreadable", text, question=question_id, reason=reason)


_FINITE_HORIZON = {
    "id": "finite-horizon",
    "hint": "the sum must run to infinity (\\infty), over every future step",
}
_REFERENCE_CACHE: dict[str, tuple[list, list[float], list[tuple[object, list[float]]]]] = {}


def resolve(question_id: str | None, expected: str | None) -> Question:
    """The question to check against: a catalogue id or a grader's expected expression."""
    if question_id is not None:
        return question(question_id)
    if expected is None:
        raise AnswerError("give --question ID or --expected EXPR", "unknown-question")
    try:
        reading = read_answer(expected)
    except AnswerError as error:
        raise AnswerError(
            f"the expected expression cannot be read: {error}", "bad-expected"
        ) from None
    return Question(
        "expected",
        "The expected expression given by the grader.",
        (Form("expected expression", reading.expr),),
        ("delta", "advantage", "return"),
        uses_n=reading.expr.has(n),
    )


def check(answer: str, question_id: str | None = None, expected: str | None = None) -> dict:
    """Check ``answer``; returns :meth:`CheckResult.as_dict`. Unknown ids raise AnswerError."""
    q = resolve(question_id, expected)
    return check_against(q, answer, expected or "").as_dict()


def check_against(q: Question, answer: str, cache_key: str = "") -> CheckResult:
    """The layers of the module docstring, in order, for one answer to ``q``."""
    try:
        reading = read_answer(answer)
    except AnswerError as error:
        return unreadable(str(error), error.kind, q.id)
    except RecursionError:
        return unreadable("the answer is nested too deeply", "too-complex", q.id)
    screened = reading.screened
    if screened.lhs_quantity is not None:
        refusal = _lhs_refusal(q, screened.lhs_quantity, screened.lhs_steps, screened.lhs_text)
        if refusal:
            return unreadable(refusal, "wrong-quantity", q.id)
    expr = reading.expr
    parsed = lecture_latex(expr)
    circular = _uses_what_is_asked(q, expr)
    if circular is not None:
        return CheckResult(
            "incorrect",
            f"Incorrect: the answer is written with {circular}, which is what the question "
            f"asks for. Hint: {_CIRCULAR['hint']}.",
            parsed,
            mistake=dict(_CIRCULAR),
            layer="structural",
            question=q.id,
        )
    for form in q.forms:
        if equal_structural(expr, form.expr):
            return CheckResult(
                "correct",
                _correct_text(form, "structural"),
                parsed,
                layer="structural",
                assumptions=list(form.assumptions),
                question=q.id,
            )
    algebraic_form = None
    for form in q.forms:
        try:
            if equal_canonical(expr, form.expr):
                algebraic_form = form
                break
        except AnswerError:
            # Too large to canonicalise (e.g. a 100-term sum): the numeric layer decides.
            continue
    return _numeric(q, expr, parsed, algebraic_form, cache_key)


_CIRCULAR = {
    "id": "circular",
    "hint": "write δ_t out in terms of the reward r_t and the values V(s_t), V(s_{t+1})",
}


def _uses_what_is_asked(q: Question, expr: Expr) -> str | None:
    """The LaTeX of the first sequence element in ``expr`` that the question asks for."""
    for item in sorted(expr.atoms(Indexed), key=str):
        if str(item.base.label) in q.asked_for:
            return f"${lecture_latex(item)}$"
    return None


def _lhs_refusal(q: Question, quantity: str, steps: str | None, text: str | None) -> str | None:
    names = {"delta": "a TD error", "advantage": "an advantage", "return": "a return"}
    if quantity not in q.quantities:
        wanted = " or ".join(names[x] for x in q.quantities)
        return (
            f"the left-hand side '{text}' names {names[quantity]}, "
            f"but the question asks for {wanted}"
        )
    if steps is not None and q.steps is not None and steps != q.steps and quantity == "advantage":
        return (
            f"the left-hand side '{text}' names A^({steps}), "
            f"but the question asks for A^({q.steps})"
        )
    return None


def _correct_text(form: Form, layer: str) -> str:
    how = {
        "structural": "the same expression as",
        "algebraic": "algebraically equal to",
        "numeric": "equal at every test point to",
    }[layer]
    text = f"Correct: {how} the {form.name}"
    if form.theorem != "definition":
        text += f", which equals the reference by {form.theorem}"
    return text + "."


def _reference_values(q: Question, cache_key: str):
    """Test points, reference values and known-mistake values (cached per question)."""
    from gae_sym.homework.numeric_check import check_points, evaluate, inside_points

    key = q.id + "\x00" + cache_key
    if key not in _REFERENCE_CACHE:
        points = _fixed_points(q, inside_points(check_points(), lambda p: _inside_all(q, p)))
        reference = [evaluate(q.reference, p) for p in points]
        steps = question_steps(q)
        mistakes = []
        for mistake in q.mistakes:
            expr = mistake_expr(mistake, steps)
            mistakes.append((mistake, [evaluate(expr, p) for p in points]))
        _REFERENCE_CACHE[key] = (points, reference, mistakes)
    return _REFERENCE_CACHE[key]


def _numeric(
    q: Question, expr: Expr, parsed: str, algebraic_form: Form | None, cache_key: str
) -> CheckResult:
    from gae_sym.homework.numeric_check import agree, evaluate

    points, reference, mistakes = _reference_values(q, cache_key)
    try:
        values = [evaluate(expr, p) for p in points]
    except AnswerError as error:
        return unreadable(str(error), error.kind, q.id)
    # Only points inside the question's stated assumptions count (its first form's: for
    # GAE 0 <= γλ < 1): outside them the reference is not what the question asks for.
    statuses = []
    for point, mine, ref in zip(points, values, reference, strict=True):
        if math.isnan(ref) or not q.forms[0].holds_at(point):
            statuses.append("skip")
        elif math.isnan(mine):
            statuses.append("undefined")
        else:
            statuses.append("agree" if agree(mine, ref) else "differ")
    base_count = len(points)
    pulled = _pulled_inside(q, expr, points, values, reference)
    if pulled:
        points = [*points, *(p for p, _, _ in pulled)]
        values = [*values, *(m for _, m, _ in pulled)]
        reference = [*reference, *(r for _, _, r in pulled)]
        statuses = [*statuses, *(["differ"] * len(pulled))]
    # The form the answer equals, judged inside that form's own assumptions: (1 − λ) written
    # inside Σ_n λ^{n−1} A^(n) is 0 at λ = 1, where GAE is not, but the λ-weighted average
    # is only claimed for 0 <= λ < 1, and there the two agree. A form in whose domain the
    # answer is defined everywhere comes first ((1 − λ) Σ_n λ^n … is 0 · ∞ at λ = 1: correct
    # for 0 <= λ < 1, not for every γλ < 1); failing that, points where only the answer
    # diverges are passed over, as for a grader's --expected formula.
    candidates = [algebraic_form] if algebraic_form is not None else list(q.forms)
    form = compared = None
    for refused in (("differ", "undefined"), ("differ",)):
        for candidate in candidates:
            inside = [st for st, pt in zip(statuses, points, strict=True) if candidate.holds_at(pt)]
            if (
                not any(st in refused for st in inside)
                and inside.count("agree") >= MIN_COMPARED_POINTS
            ):
                form, compared = candidate, inside.count("agree")
                break
        if form is not None:
            break
    if form is not None and _infinite_question(q) and not _has_infinite_sum(expr):
        # Test trajectories decay, so a long truncation Σ_{l=0}^{N} can agree to 1e-12; but
        # it ignores r_{t+N+1}, which the infinite-horizon reference does not.
        return _finite_horizon(q, expr, parsed)
    probed = offset = None
    if form is not None and algebraic_form is None:
        probed = _probe(q, expr, form)
        offset = _constant_offset(q, expr) if probed is None else None
        if probed is None and offset is None:
            exact = _exact_difference(q, expr, parsed, form, points)
            if exact is not None:
                return exact
        if offset is not None:
            # Below the numeric tolerance at every point (+ 0.000000001), yet not equal.
            i = next(i for i, st in enumerate(statuses) if st == "agree")
            probed = points[i], values[i], reference[i]
    if form is not None and probed is None:
        layer = "algebraic" if algebraic_form else "numeric"
        assumptions = list(form.assumptions)
        if _has_infinite_sum(expr) and _SPLIT_ASSUMPTION not in assumptions and layer != "numeric":
            assumptions.append(_SPLIT_ASSUMPTION)
        feedback = _correct_text(form, layer)
        if layer == "numeric":
            feedback = (
                f"Correct: equal to the {form.name} at all {compared} test points "
                "(edge points gamma, lambda in {0, 1}, n = 1 and seeded random points, inside "
                "the assumptions listed; a numeric check, not a proof)."
            )
        return CheckResult(
            "correct", feedback, parsed, layer=layer, assumptions=assumptions, question=q.id
        )
    index = _counterexample_index(q, points, statuses)
    counterexample = None
    if probed is not None:
        point, mine, ref = probed
        counterexample = _describe(q, expr, point, mine, ref)
        if offset is not None:
            counterexample["difference"] = str(offset)
    elif index is not None:
        counterexample = _describe(q, expr, points[index], values[index], reference[index])
    inside_question = [st != "skip" for st in statuses[:base_count]]
    mistake = _match_mistake(values[:base_count], mistakes, inside_question)
    if mistake is None and expr.has(Sum) and _infinite_question(q) and not _has_infinite_sum(expr):
        mistake = dict(_FINITE_HORIZON)
    steps = question_steps(q)
    if mistake is not None and steps is not None:
        mistake["hint"] += f" (here n = {steps})"
    if probed is None and "differ" not in statuses:
        feedback = "Incorrect: the answer does not converge where the reference does."
    else:
        feedback = "Incorrect: the answer and the reference differ at the point shown."
    if mistake is not None:
        feedback += f" Hint: {mistake['hint']}."
    return CheckResult(
        "incorrect",
        feedback,
        parsed,
        counterexample=counterexample,
        mistake=mistake,
        layer="numeric",
        question=q.id,
    )


_PULL_STEPS = (Fraction(1, 100), Fraction(1, 1000), Fraction(1, 10000))


def _pulled_inside(q: Question, expr: Expr, points, values, reference) -> list[tuple]:
    """Differences seen only outside the assumptions, moved just inside them.

    A point with γ = 1 is outside ``0 <= gamma < 1``, but it is where γ^{134} r_{t+6}
    weighs: when the answer differs from the reference there, γ (and λ) = 1 − ε for
    ε = 1/100, 1/1000, 1/10000 is tried, and the first twin where they still differ is a
    counterexample inside the question's domain. A difference that vanishes inside (the
    answer is wrong only on the boundary the question excludes) is no counterexample.
    """
    from gae_sym.homework.numeric_check import agree, evaluate

    found: list[tuple] = []
    for point, mine, ref in zip(points, values, reference, strict=True):
        if q.forms[0].holds_at(point) or math.isnan(ref) or math.isnan(mine) or agree(mine, ref):
            continue
        for epsilon in _PULL_STEPS:
            twin = replace(
                point,
                gamma=1 - epsilon if point.gamma == 1 else point.gamma,
                lam=1 - epsilon if point.lam == 1 else point.lam,
            )
            if not _inside_all(q, twin):
                break
            twin_mine, twin_ref = evaluate(expr, twin), evaluate(q.reference, twin)
            if math.isnan(twin_mine) or math.isnan(twin_ref):
                continue
            if not agree(twin_mine, twin_ref):
                found.append((twin, twin_mine, twin_ref))
                break
        if len(found) >= 2:
            break
    return found


def _counterexample_index(q: Question, points: list, statuses: list[str]) -> int | None:
    """The point to show: inside every form's assumptions if one differs there, else inside
    the question's; a difference before a divergence. Never outside the question's domain."""
    for wanted in ("differ", "undefined"):
        everywhere = [
            i
            for i, st in enumerate(statuses)
            if st == wanted and all(f.holds_at(points[i]) for f in q.forms)
        ]
        anywhere = [i for i, st in enumerate(statuses) if st == wanted]
        if everywhere or anywhere:
            return (everywhere or anywhere)[0]
    return None


def _describe(q: Question, expr: Expr, point, mine: float, ref: float) -> dict:
    """A counterexample that names every free variable the values depend on, and no bound one.

    γ always; λ and n when the answer or the reference has them free (an index n of
    Σ_{n=1}^{∞} is not a variable of the point); t when the answer's value changes with t.
    """
    from gae_sym.homework.numeric_check import depends_on_time

    free = expr.free_symbols | q.reference.free_symbols
    bases = {str(item.base.label) for e in (expr, q.reference) for item in e.atoms(Indexed)}
    example = point.describe(
        n in free,
        lam in free,
        show_time=depends_on_time(expr, point),
        uses_gamma=gamma in free or "delta" in bases,
        uses_values=bool(bases & {"V", "delta"}),
    )
    example["answer_value"] = _rounded(mine)
    example["reference_value"] = _rounded(ref)
    return example


def _probe(q: Question, expr: Expr, form: Form):
    """(point, answer value, reference value) at the first probe point where they differ.

    Run before a numeric-only "correct" (no algebraic proof): the fixed test points are
    public, and an answer can be wrong only where they do not look (see ``probe_points``).
    Probes lie inside the question's and ``form``'s assumptions (impulses far out use γ, λ
    just below 1 where the question excludes 1).
    """
    from gae_sym.homework.numeric_check import agree, evaluate, probe_points

    for point in _fixed_points(q, probe_points(expr, inside=lambda p: _inside_all(q, p))):
        if not (q.forms[0].holds_at(point) and form.holds_at(point)):
            continue
        mine, ref = evaluate(expr, point), evaluate(q.reference, point)
        if not (math.isnan(mine) or math.isnan(ref)) and not agree(mine, ref):
            return point, mine, ref
    return None


def _exact_difference(
    q: Question, expr: Expr, parsed: str, form: Form, points: list
) -> CheckResult | None:
    """Incorrect when answer − reference is not zero (its sums cancelled or geometric).

    The numeric points agree with such an answer when the difference vanishes there (a
    polynomial with a root at every γ, n or t the checker uses) or is below the tolerance;
    :mod:`gae_sym.homework.exact` decides it exactly, and the counterexample is the first
    test point where its exact value is not 0 (the value is given as ``difference``).
    """
    from gae_sym.homework.canonical import MAX_EXPANDED_TERMS, expand_delta, expanded_size
    from gae_sym.homework.exact import exact_value, nonzero
    from gae_sym.homework.numeric_check import evaluate, probe_points

    if expanded_size(expand_delta(expr)) > MAX_EXPANDED_TERMS:
        return None
    try:
        difference = expand(canonical(expr) - canonical(q.reference))
    except (AnswerError, ValueError, TypeError, RecursionError, _NotCanonical):
        return None
    if difference == 0:
        return None
    fixed = {{"gamma": gamma, "lambda": lam}[name]: value for name, value in q.fixed}
    if not nonzero(difference, fixed):
        return None
    probes = probe_points(expr, seed=_seed(difference))
    # Past every n and t the fixed points and the probes use: a polynomial in n can have a
    # root at each of 1 … 20.
    rng = random.Random(_seed(difference))
    far = [replace(p, n=rng.randint(21, 500), time=rng.randint(41, 500)) for p in probes[:8]]
    candidates = [*points, *_fixed_points(q, [*probes, *far])]
    counterexample = None
    for point in candidates:
        if not (q.forms[0].holds_at(point) and form.holds_at(point) and _inside_all(q, point)):
            continue
        # Exact where no sum is left; with sums, a point where the values differ as printed.
        value = exact_value(difference, point) if not difference.has(Sum) else None
        if value == 0:
            continue
        mine, ref = evaluate(expr, point), evaluate(q.reference, point)
        shown = _describe(q, expr, point, mine, ref)
        exact = _short_number(value) if value is not None else None
        if exact is not None:
            shown["difference"] = exact
        visible = shown["answer_value"] != shown["reference_value"] and not (
            math.isnan(mine) or math.isnan(ref)
        )
        if value is None and not visible:
            continue
        if counterexample is None or visible:
            counterexample = shown
        if visible or exact is not None:
            break  # values that differ as printed, or an exact difference to read
    shown = "at the point shown" if counterexample else "for some γ, λ, n, t"
    return CheckResult(
        "incorrect",
        "Incorrect: the answer minus the reference is not zero (it vanishes at the "
        f"checker's usual test points, but not {shown}).",
        parsed,
        counterexample=counterexample,
        layer="algebraic",
        question=q.id,
    )


def _seed(expr: Expr) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(str(expr).encode()).digest()[:8], "big")


def _short_number(value: Fraction) -> str | None:
    """An exact rational as written, or None when it is too long to read (γ^{300} terms)."""
    text = str(value)
    return text if len(text) <= 300 else None


def _constant_offset(q: Question, expr: Expr):
    """The exact constant c when answer − reference = c ≠ 0 in canonical form, else None."""
    try:
        difference = expand(canonical(expr) - canonical(q.reference))
    except (AnswerError, ValueError, TypeError, _NotCanonical):
        return None
    return difference if difference.is_Number and difference != 0 else None


def _infinite_question(q: Question) -> bool:
    return all(_has_infinite_sum(form.expr) for form in q.forms)


def _finite_horizon(q: Question, expr: Expr, parsed: str) -> CheckResult:
    """Incorrect: a finite answer to an infinite-horizon question, shown on an impulse."""
    from gae_sym.homework.numeric_check import evaluate, impulse_point, sequence_offsets

    counterexample = None
    offsets = sequence_offsets(expr)
    if offsets:
        point = impulse_point(max(offsets) + 1, inside=lambda p: _inside_all(q, p))
        point = _fixed_points(q, [point])[0]
        mine, ref = evaluate(expr, point), evaluate(q.reference, point)
        if mine != ref:
            counterexample = _describe(q, expr, point, mine, ref)
    return CheckResult(
        "incorrect",
        "Incorrect: the answer uses only finitely many steps; the reference depends on every "
        f"future step. Hint: {_FINITE_HORIZON['hint']}.",
        parsed,
        counterexample=counterexample,
        mistake=dict(_FINITE_HORIZON),
        layer="numeric" if counterexample else "structural",
        question=q.id,
    )


def _fixed_points(q: Question, points: list) -> list:
    """``points`` at the parameter values the question fixes (γ = λ = 1 for llm-terminal),
    duplicates dropped; unchanged for a question that fixes none."""
    if not q.fixed:
        return list(points)
    from dataclasses import replace
    from fractions import Fraction

    names = {"gamma": "gamma", "lambda": "lam"}
    values = {names[name]: Fraction(value) for name, value in q.fixed}
    out: list = []
    for point in points:
        moved = replace(point, **values)
        if moved not in out:
            out.append(moved)
    return out


def _inside_all(q: Question, point) -> bool:
    """Whether ``point`` satisfies the assumptions of every form of ``q``."""
    return all(form.holds_at(point) for form in q.forms)


def _match_mistake(values: list[float], mistakes, inside: list[bool]) -> dict | None:
    """The first known mistake whose values the answer's equal at every compared point."""
    from gae_sym.homework.numeric_check import agree

    for mistake, expected in mistakes:
        compared = 0
        matches = True
        for mine, wrong, counted in zip(values, expected, inside, strict=True):
            if not counted or math.isnan(mine) or math.isnan(wrong):
                continue
            compared += 1
            if not agree(mine, wrong):
                matches = False
                break
        if matches and compared >= MIN_COMPARED_POINTS:
            return {"id": mistake.id, "hint": mistake.hint}
    return None


def _rounded(value: float) -> float | str:
    if math.isnan(value):
        return "undefined (diverges)"
    return float(f"{value:.10g}")


def _has_infinite_sum(expr: Expr) -> bool:
    return any(limit[2] == oo for s in expr.atoms(Sum) for limit in s.limits)
