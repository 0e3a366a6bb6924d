"""The proof engine: statements with named assumptions, chains of SymPy-checked steps.

See :mod:`gae_sym.proof.core` for the objects, :mod:`gae_sym.proof.rules` for the rules,
:mod:`gae_sym.proof.kernel` for the trusted kernel every step goes through (with the
typed facts of :mod:`gae_sym.proof.facts`), and :mod:`gae_sym.proof.refute` for the
random-instance check that catches a kernel that lies.
"""

from gae_sym.proof.core import Context, Derivation, Proof, Result, Statement, Step, context_for
from gae_sym.proof.facts import Assumption, Facts, Interval
from gae_sym.proof.kernel import KernelError, canonical, equivalent, is_zero
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
    SplitAt,
    SplitFirst,
    SplitLast,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
    UseValues,
    involving,
)

__all__ = [
    "ApplyTheorem",
    "Assumption",
    "Canonicalise",
    "Context",
    "Derivation",
    "Facts",
    "GeometricSeries",
    "Induction",
    "Interval",
    "KernelError",
    "Linearity",
    "PartialSums",
    "Proof",
    "Result",
    "Rule",
    "RuleError",
    "ShiftIndex",
    "SolveRecursion",
    "SplitAt",
    "SplitFirst",
    "SplitLast",
    "Statement",
    "Step",
    "Substitute",
    "SwapTriangle",
    "TakeLimit",
    "Unfold",
    "UseValues",
    "canonical",
    "context_for",
    "equivalent",
    "involving",
    "is_zero",
]
