"""LaTeX answers: SymPy's ANTLR ``parse_latex(strict=True)`` plus a post-processing walk.

``parse_latex`` reads ``r_{t+1}`` as a *symbol named* ``r_{t + 1}``, ``V(s_{t+1})`` as a
function ``V`` applied to a symbol ``s_{t + 1}``, and ``\\gamma(1-\\lambda)`` or
``r_{t}(1-\\lambda)`` as function calls. The walk rebuilds every node through the guarded
constructors of :mod:`gae_sym.homework.build`: subscripted names become
``IndexedBase(name)[index]`` (the subscript re-read by our own grammar), ``V(s_x)`` becomes
``V[x]``, a "call" of γ, λ or a sequence becomes a product, and every other name must be in
the whitelist. The raw text has already passed :mod:`gae_sym.homework.screen`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sympy import (
    Add,
    Expr,
    Float,
    Integer,
    Limit,
    Mul,
    Pow,
    Product,
    Rational,
    Sum,
    Symbol,
    oo,
)
from sympy.core.function import AppliedUndef
from sympy.core.numbers import Infinity, NegativeInfinity

from gae_sym.homework import build
from gae_sym.homework.build import AnswerError
from gae_sym.homework.text_reader import parse_index

_SUBSCRIPTED = re.compile(r"^(?P<head>[A-Za-z]+)_(?:\{(?P<braced>.*)\}|(?P<bare>[A-Za-z0-9]))$")
_STATE = re.compile(r"^\s*s_(?:\{(?P<braced>.*)\}|(?P<bare>[A-Za-z0-9]))\s*$")
_PARSER_READY = False


def warm_up() -> None:
    """Load the ANTLR parser (~0.5 s the first time) so that later answers parse fast."""
    global _PARSER_READY
    if not _PARSER_READY:
        from sympy.parsing.latex import parse_latex

        parse_latex("x", strict=True)
        _PARSER_READY = True


def parse_latex_answer(text: str) -> Expr:
    """The screened LaTeX right-hand side ``text`` as a SymPy expression."""
    from sympy.parsing.latex import LaTeXParsingError

    try:
        raw = _parse_strict(text)
    except LaTeXParsingError as error:
        first_line = str(error).splitlines()[0] if str(error) else "invalid LaTeX"
        raise AnswerError(f"cannot read the LaTeX: {first_line}") from None
    except RecursionError:
        message = "the answer is nested too deeply: too complex to check"
        raise AnswerError(message, "too-complex") from None
    except Exception as error:  # the ANTLR runtime raises assorted errors on odd input
        raise AnswerError(f"cannot read the LaTeX ({type(error).__name__})") from None
    return _convert(raw)


def _parse_strict(text: str):
    """``parse_latex(text, strict=True)``, predicting in ANTLR's SLL mode first.

    SymPy's ``parse_latex`` runs ANTLR's full-context (LL) prediction, which spends ~0.3 s
    per answer in ``execATNWithFullContext``; SLL prediction reads the same answers ~30x
    faster (146 distinct test and class answers: identical trees). This is the standard
    two-stage ANTLR strategy: when SLL reports a syntax error, the text is parsed again by
    ``parse_latex`` itself, so no answer is refused that the LL parser would read. It uses
    the internals of SymPy 1.14's ANTLR module (pinned); without them, plain ``parse_latex``.
    """
    from sympy.parsing.latex import LaTeXParsingError, parse_latex

    try:
        import antlr4
        from antlr4.atn.PredictionMode import PredictionMode
        from sympy.parsing.latex import _parse_latex_antlr as antlr_module

        lexer_class, parser_class = antlr_module.LaTeXLexer, antlr_module.LaTeXParser
        listener_class = antlr_module.MathErrorListener
    except (ImportError, AttributeError):  # pragma: no cover - other SymPy versions
        return parse_latex(text, strict=True)
    text = text.strip()
    try:
        listener = listener_class(text)
        lexer = lexer_class(antlr4.InputStream(text))
        lexer.removeErrorListeners()
        lexer.addErrorListener(listener)
        parser = parser_class(antlr4.CommonTokenStream(lexer))
        parser.removeErrorListeners()
        parser.addErrorListener(listener)
        parser._interp.predictionMode = PredictionMode.SLL
        relation = parser.math().relation()
    except LaTeXParsingError:
        return parse_latex(text, strict=True)
    if relation.start.start != 0 or relation.stop.stop != len(text) - 1:
        return parse_latex(text, strict=True)
    return antlr_module.convert_relation(relation)


def _convert(node) -> Expr:
    if isinstance(node, Float):
        return build.number(_float_text(node))
    if isinstance(node, Integer):
        return build.number(str(node)) if node >= 0 else -build.number(str(-node))
    if isinstance(node, Rational):
        return _convert(Integer(node.p)) / _convert(Integer(node.q))
    if isinstance(node, Infinity):
        return oo
    if isinstance(node, NegativeInfinity):
        return -oo
    if isinstance(node, Symbol):
        return _symbol(node.name)
    if isinstance(node, AppliedUndef):
        return _call(node)
    if isinstance(node, Add):
        # The parser nests a + b + c as ((a + b) + c): one Add of all the leaves, not one per
        # level (each level re-sorts every term: quadratic in a 100-term sum written out).
        return Add(*[_convert(a) for a in _add_leaves(node)])
    if isinstance(node, Mul):
        return build.product([_convert(a) for a in node.args])
    if isinstance(node, Pow):
        return build.power(_convert(node.base), _convert(node.exp))
    if isinstance(node, Limit):
        body, variable, point = node.args[0], node.args[1], node.args[2]
        return build.limit(_convert(body), _convert(variable), _convert(point))
    if isinstance(node, Product):
        body = _convert(node.function)
        for index, lower, upper in node.limits:
            body = build.product_range(body, _convert(index), _convert(lower), _convert(upper))
        return body
    if isinstance(node, Sum):
        body = _convert(node.function)
        for index, lower, upper in node.limits:
            index_value = _convert(index)
            body = build.summation(body, index_value, _convert(lower), _convert(upper))
        return body
    raise AnswerError(f"unsupported notation: {type(node).__name__}")


def _add_leaves(node: Add) -> list:
    leaves, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Add):
            stack.extend(reversed(item.args))
        else:
            leaves.append(item)
    return leaves


def _float_text(value: Float) -> str:
    """The decimal as the student wrote it: SymPy prints 0.000000001 as 1.0e-9."""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _symbol(name: str) -> Expr:
    match = _SUBSCRIPTED.match(name)
    if match is None:
        if "_" in name or "^" in name or "{" in name:
            raise AnswerError(f"unrecognised notation '{name}'", "unknown-symbol")
        return build.name_symbol(name)
    head = match.group("head")
    index_text = match.group("braced") if match.group("braced") is not None else match.group("bare")
    if head not in build.sequences():
        if head in build.PARAMETERS:
            raise AnswerError(f"'{head}' takes no subscript ({name})", "unknown-symbol")
        raise build.unknown_symbol(head, name)
    state = _STATE.match(index_text) if head == "V" else None
    if state is not None:
        # V_{s_{t+1}}: the value of the state s_{t+1}, as V(s_{t+1}).
        index_text = (
            state.group("braced") if state.group("braced") is not None else state.group("bare")
        )
    return build.sequence(head, parse_index(index_text))


def _call(node: AppliedUndef) -> Expr:
    name = node.func.__name__
    if len(node.args) != 1:
        raise AnswerError(f"unrecognised notation '{name}(...)'", "unknown-symbol")
    argument = node.args[0]
    if name == "V":
        # V(s_{t+1}) -> V[t+1]; V(t+1) -> V[t+1].
        if isinstance(argument, Symbol):
            match = _SUBSCRIPTED.match(argument.name)
            if match and match.group("head") == "s":
                text = (
                    match.group("braced")
                    if match.group("braced") is not None
                    else match.group("bare")
                )
                return build.sequence("V", parse_index(text))
        return build.sequence("V", _convert(argument))
    # \gamma(1-\lambda), r_{t}(1-\lambda): juxtaposition read as a call; it multiplies.
    return build.product([_symbol(name), _convert(argument)])


__all__ = ["parse_latex_answer", "warm_up"]
