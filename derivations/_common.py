"""Named assumptions and display helpers shared by the derivation modules."""

from __future__ import annotations

from sympy import Expr, Mul

from gae_sym.proof.render import written


def plus(*terms: Expr) -> Expr:
    """A sum written in the given order (unevaluated, so the printer keeps the order)."""
    return written(*terms)


def times(*factors: Expr) -> Expr:
    """A product written in the given order (unevaluated)."""
    return Mul(*factors, evaluate=False)


def minus(term: Expr) -> Expr:
    """−(term), kept as written."""
    return Mul(-1, term, evaluate=False)


# The named assumptions (with the typed facts they grant) live in the engine, so that a
# proof's assumption names mean the same thing wherever it is cited.
from gae_sym.proof.assumptions import (  # noqa: E402
    BOUNDED_DELTA,
    BOUNDED_RV,
    BOUNDED_V,
    GAMMA_LT_1,
    HORIZON,
    LAMBDA_LT_1,
    N_STEPS,
    RECURSION,
    SEGMENT,
)

__all__ = [
    "BOUNDED_DELTA",
    "BOUNDED_RV",
    "BOUNDED_V",
    "GAMMA_LT_1",
    "HORIZON",
    "LAMBDA_LT_1",
    "N_STEPS",
    "RECURSION",
    "SEGMENT",
    "minus",
    "plus",
    "times",
]
