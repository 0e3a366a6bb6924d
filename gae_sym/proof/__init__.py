"""The proof engine: statements with named assumptions, chains of SymPy-checked steps.

See :mod:`gae_sym.proof.core` for the objects, :mod:`gae_sym.proof.rules` for the rules
and :mod:`gae_sym.proof.canonical` for the equality test every step goes through.
"""

from gae_sym.proof.canonical import canonical, equivalent, is_zero
from gae_sym.proof.core import Assumption, Derivation, Proof, Result, Statement, Step
from gae_sym.proof.rules import (
    ApplyTheorem,
    Canonicalise,
    GeometricSeries,
    Induction,
    Linearity,
    PartialSums,
    Rule,
    RuleError,
    ShiftIndex,
    SolveRecursion,
    SplitFirst,
    SplitLast,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
    involving,
)

__all__ = [
    "ApplyTheorem",
    "Assumption",
    "Canonicalise",
    "Derivation",
    "GeometricSeries",
    "Induction",
    "Linearity",
    "PartialSums",
    "Proof",
    "Result",
    "Rule",
    "RuleError",
    "ShiftIndex",
    "SolveRecursion",
    "SplitFirst",
    "SplitLast",
    "Statement",
    "Step",
    "Substitute",
    "SwapTriangle",
    "TakeLimit",
    "Unfold",
    "canonical",
    "equivalent",
    "involving",
    "is_zero",
]
