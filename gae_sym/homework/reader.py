"""Read an untrusted answer: screen the raw text, then parse it as LaTeX or plain text."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, nan, zoo

from gae_sym.homework.build import AnswerError, check_exponents, check_free_symbols
from gae_sym.homework.screen import Screened, screen


@dataclass(frozen=True)
class Reading:
    """A parsed answer: the expression, its notation and what its left-hand side named."""

    expr: Expr
    screened: Screened


def read_answer(text: str) -> Reading:
    """Screen and parse ``text``; raise :class:`AnswerError` when it cannot be read."""
    screened = screen(text)
    if screened.notation == "latex":
        from gae_sym.homework.latex_reader import parse_latex_answer

        expr = parse_latex_answer(screened.rhs)
    else:
        from gae_sym.homework.text_reader import parse_text

        expr = parse_text(screened.rhs)
    if not isinstance(expr, Expr):
        raise AnswerError("the answer is not an expression")
    if expr.has(zoo, nan):
        raise AnswerError("the answer divides by zero (1/0 or 0^{-1})")
    check_free_symbols(expr)
    check_exponents(expr)
    return Reading(expr, screened)
