"""LaTeX and Markdown renderings of a derivation (deterministic: no timings, no dates).

LaTeX: the assumptions, then for each part the claim and an ``align*`` block with one
step per line and its reason beside it (``&& \\text{...}``). Markdown: the same
content with ``$$ \\begin{aligned} ... \\end{aligned} $$`` (renders on GitHub and in
MkDocs with MathJax) followed by the numbered reasons in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sympy import Add, Expr, Indexed, Mul, Pow

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


def math(expr: Expr) -> str:
    """Lecture-notation LaTeX keeping the order in which the expression was written.

    Sums built with :func:`written` (or unevaluated in a non-canonical order) keep
    their order; sums straight from the library's definitions, in SymPy's internal
    order, get the lecture order.
    """
    return lecture_latex(_as_written(expr), order="none")


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


def _lines(proof: Proof, reasons: bool) -> list[str]:
    lines = []
    for number, step in enumerate(proof.steps, start=1):
        head = _chain_start(proof) if number == 1 else ""
        tail = rf"\text{{{step.reason}}}" if reasons else rf"\text{{({number})}}"
        lines.append(rf"{head} &= {math(step.expr)} && {tail}")
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
    for proof in derivation.proofs:
        out.append(rf"\textbf{{{proof.title}.}} Uses: {_uses(proof)}.")
        out += [r"\[", rf"  {_lhs(proof)} = {_rhs(proof)}", r"\]"]
        out.append(r"\begin{align*}")
        out.append(" \\\\\n".join(_lines(proof, reasons=True)))
        out += [r"\end{align*}", ""]
    return "\n".join(out).rstrip() + "\n"


def derivation_markdown(derivation: Derivation) -> str:
    """The derivation as Markdown with ``$$`` display math and each step's reason."""
    out = [derivation.summary, ""]
    if derivation.assumptions:
        out += ["**Assumptions.**", ""]
        out += _assumption_lines(derivation, latex=False)
        out.append("")
    for proof in derivation.proofs:
        out += [f"**{proof.title}.** Uses: {_uses(proof)}.", ""]
        out += ["$$", f"{_lhs(proof)} = {_rhs(proof)}", "$$", ""]
        out += ["$$", r"\begin{aligned}"]
        out.append(" \\\\\n".join(_lines(proof, reasons=False)))
        out += [r"\end{aligned}", "$$", ""]
        for number, step in enumerate(proof.steps, start=1):
            out.append(f"{number}. {step.reason}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = ["derivation_latex", "derivation_markdown", "math", "written"]
