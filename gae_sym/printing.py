"""Lecture-notation LaTeX: a small extension of SymPy's ``LatexPrinter``.

SymPy prints ``V[l + t]`` as ``V_{l + t}`` and orders terms by its internal sort. A
lecturer writes ``V(s_{t+l})``, the time symbol first in every index, ``\\delta_{t+l}``,
and terms in the order of the formula. This printer does the first three; display order
is kept by building display expressions with ``evaluate=False`` and printing with
``order="none"``.
"""

from __future__ import annotations

from sympy import Add, Expr, Indexed, Mul, Number, Sum, Symbol
from sympy.printing.latex import LatexPrinter

from gae_sym.symbols import TIME_SYMBOL

# How each sequence is written in lecture notation: base name -> (prefix, suffix)
# around the subscript. V(s_t) for the value function, V(s'_t) for next values.
_FUNCTION_STYLE = {"V": ("V(s_{", "})"), "V'": ("V(s'_{", "})")}
_NAME_STYLE = {
    "delta": r"\delta",
    "term": r"\mathrm{term}",
    "d": "d",
    "r": "r",
    "A": r"\hat{A}",
}


class LectureLatexPrinter(LatexPrinter):
    """``LatexPrinter`` with lecture conventions for trajectory sequences and indices."""

    def _as_ordered_terms(self, expr: Expr, order=None) -> list[Expr]:
        """Terms in the order a lecturer writes them, unless ``order="none"`` keeps them.

        Integer-valued sums (indices, limits, exponents) read ``n - 1``: symbols, then the
        constant, whatever the order setting. Other sums read ``r_t + γV(s_{t+1}) − V(s_t)``:
        subtracted terms last, then by the earliest time step they mention, rewards before
        TD errors before values.
        """
        # Indices, limits and exponents always read t + l + 1, also in display order.
        if expr.is_integer:
            return self._index_terms(expr)
        if (order or self._settings["order"]) == "none":
            return list(expr.args)
        return sorted(expr.args, key=_lecture_rank)

    def _index_terms(self, index: Expr) -> list[Expr]:
        """Terms of an index, time symbol first, other symbols next, the constant last."""
        terms = list(Add.make_args(index))

        def rank(term: Expr) -> tuple[int, str]:
            if term.has(TIME_SYMBOL):
                return (0, "")
            if isinstance(term, Number):
                return (2, "")
            return (1, str(term))

        return sorted(terms, key=rank)

    def print_index(self, index: Expr) -> str:
        """``t + l + 1`` printed as ``t+l+1`` (compact, as written in subscripts)."""
        out = ""
        for i, term in enumerate(self._index_terms(index)):
            coeff = term.as_coeff_Mul()[0]
            negative = coeff.is_negative if isinstance(coeff, Number) else False
            if negative:
                body = self._print(-term)
                out += "-" + body
            else:
                body = self._print(term)
                out += ("+" if i else "") + body
        return out

    def _print_Add(self, expr: Expr, order=None) -> str:
        # Indices, summation limits and exponents read compactly: t+l+1, n-1.
        if expr.is_integer and expr.free_symbols:
            return self.print_index(expr)
        return super()._print_Add(expr, order=order)

    def _print_Pow(self, expr: Expr, exp=None) -> str:
        base = expr.base
        # (γλ)^l as a lecturer writes it, not \left(\gamma \lambda\right)^{l}.
        symbolic_base = isinstance(base, Mul) and all(isinstance(f, Symbol) for f in base.args)
        if exp is None and symbolic_base and not (expr.exp.is_Rational and not expr.exp.is_Integer):
            inner = "".join(self._print(f) for f in base.args)
            return f"({inner})^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr) if exp is None else super()._print_Pow(expr, exp)

    def _print_Sum(self, expr: Sum) -> str:
        # Σ_{n=1}^{∞} Σ_{l=0}^{n-1} f, not one \sum with stacked limits: SymPy stores a
        # sum of a sum as one Sum whose first limit is the innermost.
        if len(expr.limits) == 1:
            return super()._print_Sum(expr)
        inner = Sum(expr.function, *expr.limits[:-1])
        var, lower, upper = expr.limits[-1]
        head = rf"\sum_{{{self._print(var)}={self._print(lower)}}}^{{{self._print(upper)}}} "
        return head + self._print(inner)

    def _print_Indexed(self, expr: Indexed) -> str:
        name = str(expr.base.label)
        index = ",".join(self.print_index(i) for i in expr.indices)
        if name in _FUNCTION_STYLE:
            prefix, suffix = _FUNCTION_STYLE[name]
            return f"{prefix}{index}{suffix}"
        head = _NAME_STYLE.get(name, self._print(Symbol(name)))
        return f"{head}_{{{index}}}"


_KIND_RANK = {"r": 0, "delta": 1, "V": 2, "V'": 2, "A": 3}


def _lecture_rank(term: Expr) -> tuple:
    """Sort key: added terms before subtracted ones, then by the earliest time step the
    term mentions (a sum by its first term: δ_t + Σ_{l≥1} ..., Σ_{l≥0} ... + γ^n V),
    sums before single terms at the same step, rewards before TD errors before values."""
    coeff, _ = term.as_coeff_Mul()
    negative = bool(coeff.is_negative) if isinstance(coeff, Number) else False
    indexed = sorted(term.atoms(Indexed), key=str)
    if not indexed:
        return (negative, 0, 0, 9, str(term))
    first_terms = term.replace(
        lambda e: isinstance(e, Sum),
        lambda e: e.function.subs({x: a for x, a, _ in e.limits}),
    )
    offsets = []
    for item in first_terms.atoms(Indexed):
        rest = item.indices[0] - TIME_SYMBOL
        offsets.append(int(rest) if rest.is_Integer else 10**6)
    kind = min(_KIND_RANK.get(str(item.base.label), 5) for item in indexed)
    earliest = min(offsets, default=10**6)
    return (negative, earliest, 0 if term.has(Sum) else 1, kind, str(term))


def lecture_latex(expr: Expr, **settings) -> str:
    """LaTeX of ``expr`` in lecture notation (see :class:`LectureLatexPrinter`)."""
    return LectureLatexPrinter(settings).doprint(expr)


__all__ = ["LectureLatexPrinter", "lecture_latex"]
