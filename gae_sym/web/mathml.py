"""LaTeX → MathML on the server, sanitised, so the page typesets offline with no script.

``latex2mathml`` writes MathML that Chromium and Firefox render natively. Its output is
not trusted as HTML: it can be malformed (``\\&`` comes out as a bare ``&``), so every
fragment is parsed as XML, kept only if each element and attribute is on a MathML
allow-list, and serialised again by :mod:`xml.etree` (which escapes every text node).
Anything else is refused and the caller shows the LaTeX as plain text instead.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
MAX_LATEX_CHARS = 20_000
"""Longer LaTeX is not typeset (the converter is a parser: its time grows with the input)."""

_ELEMENTS = """math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mover
munder munderover mstyle mpadded mphantom mfenced menclose mtable mtr mtd semantics"""
ALLOWED_ELEMENTS = frozenset(_ELEMENTS.split())
_ATTRIBUTES = """display mathvariant stretchy fence form separator accent accentunder largeop
movablelimits symmetric lspace rspace width height depth linethickness columnalign rowspacing
columnspacing displaystyle scriptlevel notation open close separators"""
ALLOWED_ATTRIBUTES = frozenset(_ATTRIBUTES.split())
_ATTRIBUTE_VALUE = re.compile(r"^[A-Za-z0-9 .\-#%]*$")


class UnsafeMathML(ValueError):
    """The converter's output is not plain, well-formed MathML."""


def sanitise(markup: str) -> str:
    """Well-formed MathML with allow-listed elements and attributes only, re-serialised.

    Raises :class:`UnsafeMathML` for anything else (a ``<script>``, an ``on*`` handler,
    an ``href``, malformed XML).
    """
    ET.register_namespace("", MATHML_NS)
    if "<!" in markup or "<?" in markup:
        # No DOCTYPE (entity definitions expand), comment, CDATA or processing instruction.
        raise UnsafeMathML("declarations are not allowed")
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as error:
        raise UnsafeMathML(f"not well-formed: {error}") from None
    for element in root.iter():
        namespace, _, name = element.tag.rpartition("}")
        if namespace.lstrip("{") != MATHML_NS or name not in ALLOWED_ELEMENTS:
            raise UnsafeMathML(f"element {name!r} is not allowed")
        for attribute, value in element.attrib.items():
            if attribute not in ALLOWED_ATTRIBUTES or not _ATTRIBUTE_VALUE.match(value):
                raise UnsafeMathML(f"attribute {attribute!r} is not allowed")
    if root.tag != f"{{{MATHML_NS}}}math":
        raise UnsafeMathML("the root is not <math>")
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


def latex_to_mathml(latex: str, display: str = "inline") -> str | None:
    """Sanitised MathML for ``latex``, or None when it cannot be typeset safely."""
    if not latex or len(latex) > MAX_LATEX_CHARS:
        return None
    try:
        from latex2mathml.converter import convert
    except ImportError:  # the `web` extra is not installed: the page shows LaTeX as text
        return None
    try:
        markup = convert(latex, display=display)
    except Exception:  # the converter's own parse errors are of many types
        return None
    try:
        return sanitise(markup)
    except UnsafeMathML:
        return None


# The question texts of `check --list` write their symbols in a Unicode shorthand
# (δ_t, A^(K)_t, A^GAE_t, G^λ_t, GAE(γ, λ), λ = 0); these are typeset, the words stay words.
_GREEK = {"δ": r"\delta", "γ": r"\gamma", "λ": r"\lambda"}
_MATH_TOKEN = re.compile(
    r"(?P<sym>[A-Za-zδγλ](?:\^(?:\([^)\s]+\)|[A-Za-zλ]+))?_[a-z]+)"
    r"|(?P<greek>[δγλ](?:\s*(?:=|<|>|<=|>=)\s*[0-9]+)?)"
)


def _token_latex(token: str) -> str:
    base, _, subscript = token.partition("_")
    if "^" in base:
        base, superscript = base.split("^", 1)
        if superscript.isalpha() and len(superscript) > 1:
            superscript = r"\mathrm{" + superscript + "}"
        base = f"{base}^{{{superscript}}}"
    latex = f"{base}_{{{subscript}}}" if subscript else base
    for letter, command in _GREEK.items():
        latex = latex.replace(letter, command + " ")
    return latex.replace("<=", r"\le ").replace(">=", r"\ge ").strip()


def question_parts(text: str) -> list[dict]:
    """A question text as parts: ``{"text": ...}`` (words) or ``{"mathml": ..., "text": ...}``.

    The page inserts words with ``textContent`` and MathML (sanitised here) as markup.
    """
    parts: list[dict] = []
    position = 0
    for match in _MATH_TOKEN.finditer(text):
        if match.start() > position:
            parts.append({"text": text[position : match.start()]})
        token = match.group(0)
        mathml = latex_to_mathml(_token_latex(token))
        parts.append({"text": token, "mathml": mathml} if mathml else {"text": token})
        position = match.end()
    if position < len(text):
        parts.append({"text": text[position:]})
    return parts


# Math inside a checker's message: $…$ (the circular-answer hint), a quoted answer fragment
# with LaTeX in it ('\hat{A}_t^{(3)}'), or a bare run with a command or a braced script
# (\gamma\lambda^l, (\infty), V(s_{t+1}), γ^{n−1}). Everything else is words.
_MESSAGE_MATH = re.compile(
    r"\$(?P<dollar>[^$]+)\$"
    r"|'(?P<quoted>[^'\s][^']*)'"
    r"|(?P<bare>[^\s,;:'\"$]*(?:\\[A-Za-z]+|[_^]\{)[^\s,;:'\"$]*)"
)
_LATEXISH = re.compile(r"\\[A-Za-z]+|[_^]\{")
_PLAIN_COMMANDS = {
    "gamma": "γ",
    "lambda": "λ",
    "delta": "δ",
    "infty": "∞",
    "sum": "Σ",
    "cdot": "·",
    "times": "×",
    "ell": "ℓ",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "to": "→",
}
_FRAC = re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_DECORATION = re.compile(r"\\(?:hat|widehat|bar|tilde|mathrm|text|mathit|left|right)(?![A-Za-z])")


def _script(match: re.Match[str]) -> str:
    body = match.group(2).strip()
    grouped = len(body) == 1 or (body.startswith("(") and body.endswith(")"))
    return match.group(1) + (body if grouped else f"({body})")


def plain_math(latex: str) -> str:
    """LaTeX as plain Unicode text: ``\\frac{a}{b}`` → ``(a)/(b)``, ``\\gamma`` → γ, no braces.

    The words shown where a fragment cannot be typeset (and the text that goes with MathML).
    """
    text = _DECORATION.sub("", latex)
    # s_{t+1} → s_(t+1), as the counterexamples write indices; one character needs no group.
    for _ in range(10):
        replaced = re.sub(r"([_^])\{([^{}]*)\}", _script, text)
        if replaced == text:
            break
        text = replaced
    for _ in range(10):  # nested fractions, innermost first
        replaced = _FRAC.sub(r"(\1)/(\2)", text)
        if replaced == text:
            break
        text = replaced
    text = re.sub(
        r"\\([A-Za-z]+)", lambda m: _PLAIN_COMMANDS.get(m.group(1), "\\" + m.group(1)), text
    )
    return text.replace("{", "").replace("}", "").replace("\\,", " ")


def message_parts(message: str | None) -> list[dict]:
    """A message as parts for the page, as :func:`question_parts`: words as ``{"text"}``,
    math as ``{"text": plain, "mathml": ...}`` (``{"text": plain}`` when it cannot be
    typeset), so that no ``\\frac{..}{..}`` or ``s_{t+1}`` reaches a student as source."""
    if not message:
        return []
    parts: list[dict] = []
    position = 0
    for match in _MESSAGE_MATH.finditer(message):
        quoted = match.group("quoted")
        if quoted is not None and not _LATEXISH.search(quoted):
            continue  # a quoted word ('x', 'A_t' in plain text) stays as written
        latex = match.group("dollar") or quoted or match.group("bare")
        if match.start() > position:
            parts.append({"text": message[position : match.start()]})
        mathml = latex_to_mathml(latex)
        plain = plain_math(latex)
        if quoted is not None:
            plain = f"'{plain}'"
        parts.append({"text": plain, "mathml": mathml} if mathml else {"text": plain})
        position = match.end()
    if position < len(message):
        parts.append({"text": message[position:]})
    return parts
