"""Read one line of a derivation with the homework reader (no eval), in the trajectory symbols.

The homework reader (:mod:`gae_sym.homework.screen` and
:mod:`gae_sym.homework.latex_reader`) reads the expressions; this module adds what a
derivation needs on top of an answer:

- the names of known quantities, unfolded to their definitions (as text, before the
  reader sees it, so the reader's limits apply to the unfolded text):
  ``\\hat{A}^{(X)}_{Y}`` = Σ_{k=0}^{X−1} γ^k δ_{Y+k},
  ``\\hat{A}^{\\mathrm{GAE}}_{Y}`` (also ``GAE(\\gamma,\\lambda)``) = Σ_{k≥0} (γλ)^k δ_{Y+k},
  ``\\hat{A}^{\\mathrm{GAE},N}_{Y}`` = Σ_{k=0}^{N−1} (γλ)^k δ_{Y+k},
  ``G^{(X)}_{Y}`` = Σ_{k=0}^{X−1} γ^k r_{Y+k} + γ^X V(s_{Y+X}),
  ``G^{\\lambda}_{Y}`` = \\hat{A}^{\\mathrm{GAE}}_{Y} + V(s_Y);
- the sequence ``\\hat{A}_t`` of the backward recursion, the done flags ``d_t`` and
  products ``\\prod`` (the reader's derivation vocabulary, never read in answers);
- the segment length ``N`` (a positive integer, :data:`gae_sym.symbols.N`) besides t and n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Expr, Indexed, Symbol, nan, zoo

from gae_sym.homework.build import AnswerError, derivation_vocabulary
from gae_sym.symbols import N, gamma, lam, n, t

FREE = {"t": t, "n": n, "N": N}
"""Integer symbols a derivation line may use free (the reader makes N a plain integer)."""

_SCRIPT = r"(?:\{(?P<{name}>(?:[^{{}}]|\{{[^{{}}]*\}})*)\}|(?P<{name}_bare>[A-Za-z0-9]))"


def _script(name: str) -> str:
    return _SCRIPT.replace("{name}", name).replace("{{", "{").replace("}}", "}")


_HAT = r"(?:\\(?:hat|widehat)\s*\{\s*A\s*\}|\\(?:hat|widehat)\s*A|(?<![A-Za-z\\])A)"
_QUANTITY = re.compile(
    rf"(?P<name>{_HAT}|(?<![A-Za-z\\])G)"
    rf"(?:\s*\^\s*{_script('supa')}\s*_\s*{_script('suba')}"
    rf"|\s*_\s*{_script('subb')}\s*\^\s*{_script('supb')})"
)
_GAE = re.compile(
    r"^\s*(?:\\(?:mathrm|text|operatorname)\s*\{\s*GAE\s*\}|GAE)\s*"
    r"(?:\(\s*\\gamma\s*,\s*\\lambda\s*\))?\s*(?P<segment>,\s*N)?\s*$"
)
_STEPS = re.compile(r"^\s*\((?P<steps>[^()]+)\)\s*$")
_LAMBDA = re.compile(r"^\s*\\lambda\s*$")
_INDEX_LETTERS = "kjimpquwxyz"
_HATTED_A = re.compile(r"\\(?:hat|widehat)\s*(?:\{\s*A\s*\}|A(?![A-Za-z]))(?=\s*_)")


@dataclass(frozen=True)
class ReadLine:
    expr: Expr
    unfolded: tuple[str, ...]  # the known quantities named in the line, as written


def _group(match: re.Match, name: str) -> str:
    for key in (name + "a", name + "a_bare", name + "b", name + "b_bare"):
        if match.group(key) is not None:
            return match.group(key)
    return ""


def _free_letter(text: str) -> str:
    plain = re.sub(r"\\[A-Za-z]+", " ", text)
    for letter in _INDEX_LETTERS:
        if not re.search(rf"(?<![A-Za-z]){letter}(?![A-Za-z])", plain):
            return letter
    raise AnswerError("no free letter left for the index of an unfolded quantity")


def unfold_names(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with every known quantity replaced by its definition (as LaTeX)."""
    named: list[str] = []

    def replace(match: re.Match) -> str:
        sup, sub = _group(match, "sup"), _group(match, "sub")
        k = _free_letter(text)
        is_g = match.group("name").strip() == "G"
        steps = _STEPS.match(sup)
        if steps:
            x = steps.group("steps")
            named.append(match.group(0))
            if is_g:
                return (
                    rf"\left(\sum_{{{k}=0}}^{{({x})-1}} \gamma^{{{k}}} r_{{{sub}+{k}}}"
                    rf" + \gamma^{{{x}}} V(s_{{{sub}+({x})}})\right)"
                )
            return rf"\left(\sum_{{{k}=0}}^{{({x})-1}} \gamma^{{{k}}} \delta_{{{sub}+{k}}}\right)"
        gae = _GAE.match(sup)
        if gae and not is_g:
            named.append(match.group(0))
            upper = "N-1" if gae.group("segment") else r"\infty"
            return (
                rf"\left(\sum_{{{k}=0}}^{{{upper}}} (\gamma\lambda)^{{{k}}}"
                rf" \delta_{{{sub}+{k}}}\right)"
            )
        if is_g and _LAMBDA.match(sup):
            named.append(match.group(0))
            return (
                rf"\left(\sum_{{{k}=0}}^{{\infty}} (\gamma\lambda)^{{{k}}} \delta_{{{sub}+{k}}}"
                rf" + V(s_{{{sub}}})\right)"
            )
        raise AnswerError(
            f"unknown quantity '{match.group(0)}': the names read are \\hat{{A}}^{{(n)}}_t, "
            "\\hat{A}^{\\mathrm{GAE}}_t, \\hat{A}^{\\mathrm{GAE},N}_t, G^{(n)}_t, G^{\\lambda}_t",
            "unknown-symbol",
        )

    return _QUANTITY.sub(replace, text), tuple(named)


def read_line(text: str) -> ReadLine:
    """The expression of one side of a derivation line; :class:`AnswerError` when unreadable."""
    from gae_sym.homework.latex_reader import parse_latex_answer
    from gae_sym.homework.screen import screen

    unfolded_text, named = unfold_names(text)
    # \hat{A}_t with no superscript is the sequence of the backward recursion.
    unfolded_text = _HATTED_A.sub("A", unfolded_text)
    with derivation_vocabulary():
        screened = screen(unfolded_text)
        if screened.lhs_text is not None:
            raise AnswerError("more than one '=' in this line")
        expr = parse_latex_answer(screened.rhs)
    if not isinstance(expr, Expr):
        raise AnswerError("the line is not an expression")
    if expr.has(zoo, nan):
        raise AnswerError("the line divides by zero (1/0 or 0^{-1})")
    expr = _in_project_symbols(expr)
    _check_free(expr)
    return ReadLine(expr, named)


def _in_project_symbols(expr: Expr) -> Expr:
    mapping = {
        s: FREE[s.name]
        for s in expr.free_symbols
        if isinstance(s, Symbol) and s.name in FREE and s != FREE[s.name]
    }
    return expr.xreplace(mapping) if mapping else expr


def _check_free(expr: Expr) -> None:
    allowed = set(FREE.values()) | {gamma, lam}
    labels = {e.base.label for e in expr.atoms(Indexed)}
    stray = sorted(
        str(s)
        for s in expr.free_symbols
        if isinstance(s, Symbol) and s not in allowed and s not in labels
    )
    if stray:
        raise AnswerError(
            f"unknown symbol(s) {', '.join(stray)} (free symbols allowed: t, n, N, gamma, "
            "lambda; any other letter only as the index of a sum over it)",
            "unknown-symbol",
        )


__all__ = ["FREE", "ReadLine", "read_line", "unfold_names"]
