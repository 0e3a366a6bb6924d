"""LaTeX and Markdown renderings of a derivation (deterministic: no timings, no dates).

LaTeX: the assumptions, then for each part the claim and an ``align*`` block with one
step per line and its reason beside it (``&& \\text{...}``). Markdown: the same
content with ``$$ \\begin{aligned} ... \\end{aligned} $$`` (renders on GitHub and in
MkDocs with MathJax) followed by the numbered reasons in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sympy import Add, Expr, Indexed, Mul, Pow, expand

from gae_sym.printing import _lecture_rank, lecture_latex

if TYPE_CHECKING:
    from gae_sym.proof.core import Derivation, Proof


# Sums whose term order was chosen by the author of a derivation (see ``written``).
_WRITTEN: set[Expr] = set()


def written(*terms: Expr) -> Expr:
    """``a + b + ...`` in exactly this order on the page (an unevaluated ``Add``)."""
    expr = Add(*terms, evaluate=False)
    _WRITTEN.add(expr)
    return expr


@dataclass(frozen=True)
class Notation:
    """A display abbreviation: every subexpression equal to ``pattern(u)`` (for an index u
    of ``key``) is printed as ``shown[u]``; ``meaning`` is the definition, in LaTeX, that
    the rendering states once. Display only: the kernel checks the full expressions."""

    pattern: Callable[[Expr], Expr]
    key: Any
    shown: Any
    meaning: str


def math(expr: Expr, notation: Sequence[Notation] = ()) -> str:
    """Lecture-notation LaTeX keeping the order in which the expression was written.

    Sums built with :func:`written` (or unevaluated in a non-canonical order) keep
    their order; sums straight from the library's definitions, in SymPy's internal
    order, get the lecture order. ``notation`` abbreviates subexpressions for display.
    """
    return lecture_latex(_as_written(_abbreviate(expr, notation)), order="none")


def _abbreviate(expr: Expr, notation: Sequence[Notation]) -> Expr:
    if not notation or not expr.args or isinstance(expr, Indexed):
        return expr
    if isinstance(expr, (Add, Mul)):
        for item in notation:
            for element in expr.atoms(Indexed):
                if element.base != item.key:
                    continue
                index = element.indices[0]
                if expand(expr - item.pattern(index)) == 0:
                    return item.shown[index]
    args = [_abbreviate(a, notation) for a in expr.args]
    if isinstance(expr, Add):
        built = Add(*args, evaluate=False)
        if expr in _WRITTEN:
            _WRITTEN.add(built)
        return built
    if isinstance(expr, Mul):
        return Mul(*args, evaluate=False)
    return expr.func(*args)


def _rows(expr: Expr, notation: Sequence[Notation], head: int = 0) -> list[str]:
    """The line's LaTeX, broken before a top-level + or − into rows of at most about
    _ROW_GLYPHS visible glyphs, ``head`` of them taken by the left side on the first row
    (a long chain line would run into the margin)."""
    shown = _as_written(_abbreviate(expr, notation))
    whole = lecture_latex(shown, order="none")
    width = max(_ROW_GLYPHS - head, _ROW_GLYPHS // 2)
    if not isinstance(shown, Add) or _glyphs(whole) <= width:
        return [whole]
    rows: list[list[Expr]] = [[]]
    for term in shown.args:
        trial = rows[-1] + [term]
        if rows[-1] and _glyphs(lecture_latex(Add(*trial, evaluate=False), order="none")) > (width):
            rows.append([term])
        else:
            rows[-1] = trial
    out = []
    for number, row in enumerate(rows):
        text = lecture_latex(Add(*row, evaluate=False), order="none")
        if number and not text.startswith("-"):
            text = "+ " + text
        out.append(text)
    return out


_ROW_GLYPHS = 52
"""Visible glyphs a row of maths may hold beside the = sign (the notes' text width)."""
_HEAD_GLYPHS = 30
"""A chain's left side longer than this goes on a row of its own."""


def _glyphs(latex: str) -> int:
    """A rough count of the glyphs ``latex`` typesets: commands count one, sub- and
    superscripts two thirds, braces and sizing nothing."""
    text = re.sub(r"\\(left|right|big|Big|bigl|bigr)\b", "", latex)
    text = re.sub(
        r"\\(?:sum|prod)_\{([^{}]*)\}\^\{([^{}]*)\}",
        lambda m: "S" * (2 + max(len(m.group(1)), len(m.group(2))) // 2),
        text,
    )
    text = re.sub(r"\\[a-zA-Z]+", "c", text)
    scripts = sum(len(m) for m in re.findall(r"[_^]\{([^{}]*)\}", text))
    plain = re.sub(r"[_^]\{[^{}]*\}", "", text)
    plain = re.sub(r"[{}\s\\]", "", plain)
    return len(plain) + (2 * scripts) // 3


def _as_written(expr: Expr) -> Expr:
    if not expr.args or isinstance(expr, Indexed):
        return expr
    args = [_as_written(a) for a in expr.args]
    if isinstance(expr, Add):
        # An Add in SymPy's own order that nobody wrote that way gets the lecture order.
        if expr not in _WRITTEN and Add(*expr.args).args == expr.args:
            args = sorted(args, key=_lecture_rank)
        return Add(*args, evaluate=False)
    if isinstance(expr, Mul):
        return Mul(*args, evaluate=False)
    if isinstance(expr, Pow):
        return Pow(*args, evaluate=False)
    return expr.func(*args)


def _lhs(proof: Proof) -> str:
    # Statement sides are the library's (evaluated) definitions: lecture term order.
    return proof.statement.lhs_latex or lecture_latex(proof.statement.lhs)


def _rhs(proof: Proof) -> str:
    return proof.statement.rhs_latex or lecture_latex(proof.statement.rhs)


def _chain_start(proof: Proof) -> str:
    # A specialised statement (λ = 0) is proved by a chain that starts from the general
    # left side and substitutes on the way: show that general side.
    if proof.statement.at:
        return lecture_latex(proof.statement.lhs)
    return _lhs(proof)


def _lines(proof: Proof, reasons: bool, notation: Sequence[Notation] = ()) -> list[str]:
    lines = []
    start = _chain_start(proof)
    if _glyphs(start) > _HEAD_GLYPHS:
        # a long left side gets a row of its own, so the = column does not push every
        # line of the chain into the margin
        lines.append(rf" & {start}")
        start = ""
    for number, step in enumerate(proof.steps, start=1):
        head = start if number == 1 else ""
        tail = rf"\text{{{step.reason}}}" if reasons else rf"\text{{({number})}}"
        rows = _rows(step.expr, notation, _glyphs(head))
        # a long line continues on rows of its own; the reason stands beside the last
        for row in rows[:-1]:
            lines.append(rf"{head} &= {row}" if row is rows[0] else rf" &\quad {row}")
        last = rows[-1]
        if len(rows) == 1:
            lines.append(rf"{head} &= {last} && {tail}")
        else:
            lines.append(rf" &\quad {last} && {tail}")
    return lines


def _assumption_lines(derivation: Derivation, latex: bool) -> list[str]:
    lines = []
    for a in derivation.assumptions:
        if latex:
            lines.append(rf"  \item[\textsf{{{a.name}}}] {a.text}: ${a.latex}$.")
        else:
            lines.append(f"- **{a.name}**: {a.text}: ${a.latex}$.")
    return lines


def _uses(proof: Proof) -> str:
    names = proof.assumption_names()
    return ", ".join(names) if names else "none"


def derivation_latex(derivation: Derivation) -> str:
    """The derivation as LaTeX: assumptions, then per part a claim and an align* block."""
    out = [derivation.summary, ""]
    if derivation.assumptions:
        # Never strand the heading at the foot of a page, apart from its list: no break
        # after it, and none at the list's start (LaTeX's @beginparpenalty invites one).
        out += [
            r"\begingroup\csname @beginparpenalty\endcsname=10000",
            r"\textbf{Assumptions.}\par\nopagebreak",
            r"\begin{description}",
        ]
        out += _assumption_lines(derivation, latex=True)
        out += [r"\end{description}", r"\endgroup", ""]
    if derivation.notation:
        meanings = ", ".join(f"${n.meaning}$" for n in derivation.notation)
        out += [rf"\textbf{{Notation.}} {meanings}.", ""]
    for proof in derivation.proofs:
        out.append(rf"\textbf{{{proof.title}.}} Uses: {_uses(proof)}.")
        out += [r"\[", rf"  {_lhs(proof)} = {_rhs(proof)}", r"\]"]
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(_lines(proof, reasons=True, notation=derivation.notation)))
        out += [r"\end{align*}", ""]
    return "\n".join(out).rstrip() + "\n"


def derivation_markdown(derivation: Derivation) -> str:
    """The derivation as Markdown with ``$$`` display math and each step's reason."""
    out = [derivation.summary, ""]
    if derivation.assumptions:
        out += ["**Assumptions.**", ""]
        out += _assumption_lines(derivation, latex=False)
        out.append("")
    if derivation.notation:
        meanings = ", ".join(f"${n.meaning}$" for n in derivation.notation)
        out += [f"**Notation.** {meanings}.", ""]
    for proof in derivation.proofs:
        out += [f"**{proof.title}.** Uses: {_uses(proof)}.", ""]
        out += ["$$", f"{_lhs(proof)} = {_rhs(proof)}", "$$", ""]
        out += ["$$", r"\begin{aligned}"]
        out.append(" \\\\\n".join(_lines(proof, reasons=False, notation=derivation.notation)))
        out += [r"\end{aligned}", "$$", ""]
        for number, step in enumerate(proof.steps, start=1):
            out.append(f"{number}. {step.reason}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = ["Notation", "derivation_latex", "derivation_markdown", "math", "written"]
