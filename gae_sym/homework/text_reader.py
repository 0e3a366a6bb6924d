"""Plain-text answers: a tokenizer and a recursive-descent grammar of our own (no ``eval``).

The notation, for people without LaTeX::

    r[t] + gamma*V[t+1] - V[t]            TD error; V(s[t+1]) also reads as V[t+1]
    delta[t] + gamma*delta[t+1]           δ_t + γ δ_{t+1}
    gamma^2, gamma**2, (gamma*lambda)^l   powers; `lam` and `lambda` are both λ
    sum(l=0..n-1, gamma^l*delta[t+l])     Σ_{l=0}^{n-1} γ^l δ_{t+l}
    sum(l=0..inf, (gamma*lambda)^l*delta[t+l])   an infinite sum (`inf` or `oo`)

Grammar (juxtaposition multiplies, as on paper: ``2 gamma``, ``gamma(1-lambda)``)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/" | <juxtaposition>) unary)*
    unary   := ("-" | "+") unary | power
    power   := primary (("^" | "**") unary)?
    primary := NUMBER | NAME | NAME "[" expr "]" | NAME "(" ["s"] ... ")" | "(" expr ")"
             | "sum" "(" NAME "=" expr ".." (expr | "inf") "," expr ")"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Add, Expr, Integer, oo

from gae_sym.homework import build
from gae_sym.homework.build import AnswerError
from gae_sym.homework.screen import MAX_CHARS

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?(?!\.\d))|(?P<name>[A-Za-z]+|[γλδ])|(?P<op>\*\*|\.\.|[-+*/^()\[\],=·_{}]))"
)
_ALIASES = {
    "lam": "lambda",
    "λ": "lambda",
    "γ": "gamma",
    "δ": "delta",
    "inf": "oo",
    "infty": "oo",
    "infinity": "oo",
}
MAX_TOKENS = MAX_CHARS
"""A backstop only: every token is at least one character, so the screen's character limit
(4,000: 100 terms written out fit) is the one limit a user meets."""


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into numbers, names and operators; anything else is an error."""
    tokens: list[Token] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            bad = stripped[position:].lstrip()[:1]
            raise AnswerError(f"unexpected character {bad!r} at position {position + 1}")
        kind = match.lastgroup or "op"
        value = match.group(kind)
        if kind == "name":
            value = _ALIASES.get(value, value)
        tokens.append(Token(kind, value, match.start(kind)))
        position = match.end()
        if len(tokens) > MAX_TOKENS:
            raise AnswerError("the answer is too long: too complex to check", "too-complex")
    tokens.append(Token("end", "", len(stripped)))
    return tokens


class _Parser:
    """Recursive descent over the grammar in the module docstring, depth-limited."""

    MAX_DEPTH = 40

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def accept(self, text: str) -> bool:
        if self.current.kind == "op" and self.current.text == text:
            self.position += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.current.text or "the end"
            raise AnswerError(f"expected '{text}' but found '{found}'")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.MAX_DEPTH:
            raise AnswerError(
                "the answer is nested too deeply: too complex to check", "too-complex"
            )

    def leave(self) -> None:
        self.depth -= 1

    def expression(self) -> Expr:
        self.enter()
        terms = [self.term()]
        while self.current.kind == "op" and self.current.text in "+-":
            sign = self.advance().text
            value = self.term()
            terms.append(-value if sign == "-" else value)
        self.leave()
        return Add(*terms)

    def term(self) -> Expr:
        factors = [self.unary()]
        while True:
            if self.accept("*") or self.accept("·"):
                factors.append(self.unary())
            elif self.accept("/"):
                factors.append(build.power(self.unary(), Integer(-1)))
            elif self.starts_primary():
                factors.append(self.power())
            else:
                return build.product(factors)

    def starts_primary(self) -> bool:
        token = self.current
        return token.kind in ("number", "name") or (token.kind == "op" and token.text == "(")

    def unary(self) -> Expr:
        if self.accept("-"):
            self.enter()
            value = -self.unary()
            self.leave()
            return value
        if self.accept("+"):
            return self.unary()
        return self.power()

    def power(self) -> Expr:
        base = self.primary()
        if self.accept("^") or self.accept("**"):
            self.enter()
            exponent = self.enclosed("}") if self.accept("{") else self.unary()
            self.leave()
            return build.power(base, exponent)
        return base

    def enclosed(self, closing: str) -> Expr:
        """The expression after an opening bracket already accepted, up to ``closing``."""
        value = self.expression()
        self.expect(closing)
        return value

    def primary(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            return build.number(token.text)
        if token.kind == "op" and token.text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if token.kind != "name":
            found = token.text or "the end"
            raise AnswerError(f"unexpected '{found}' at position {token.position + 1}")
        name = token.text
        if name == "oo":
            return oo
        if name == "sum":
            return self.sum_call()
        if name in build.SEQUENCES:
            return self.sequence(name)
        return build.name_symbol(name)

    def sequence(self, name: str) -> Expr:
        if self.current.kind == "op" and self.current.text in "[_":
            return build.sequence(name, self.subscript())
        if self.accept("("):
            # V(s[t+1]) or V(t+1): the value of the state at that time step; r(t) alike.
            if name == "V" and self.current.kind == "name" and self.current.text == "s":
                self.advance()
                index = self.subscript()
            else:
                index = self.expression()
            self.expect(")")
            return build.sequence(name, index)
        raise AnswerError(f"'{name}' needs a time index, e.g. {name}[t]", "unknown-symbol")

    def subscript(self) -> Expr:
        """``[expr]``, ``_{expr}`` or ``_x``: the time index of a sequence."""
        if self.accept("["):
            return self.enclosed("]")
        self.expect("_")
        return self.enclosed("}") if self.accept("{") else self.primary()

    def sum_call(self) -> Expr:
        self.expect("(")
        token = self.advance()
        if token.kind != "name":
            raise AnswerError("a sum reads sum(l=0..n-1, body)")
        index = build.index_symbol(token.text)
        self.expect("=")
        lower = self.expression()
        self.expect("..")
        upper = self.expression()
        self.expect(",")
        body = self.expression()
        self.expect(")")
        return build.summation(body, index, lower, upper)


def parse_text(text: str) -> Expr:
    """The plain-text answer ``text`` as a SymPy expression (module docstring: the notation)."""
    parser = _Parser(tokenize(text))
    value = parser.expression()
    if parser.current.kind != "end":
        raise AnswerError(
            f"unexpected '{parser.current.text}' at position {parser.current.position + 1}"
        )
    return value


def parse_index(text: str) -> Expr:
    """A subscript as SymPy's LaTeX parser prints it (``(n + t) - 1``, ``2*l + t``)."""
    value = parse_text(text)
    if value.has(oo):
        raise AnswerError(f"a time index cannot be infinite: {text}")
    return value
