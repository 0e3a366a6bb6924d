"""Pre-screening of raw answer text: cheap string checks run before any parser sees it.

Refuses what no parser should be asked to read (over 2,000 characters, unbalanced braces,
LaTeX commands outside the answer vocabulary, numbers and nesting that make SymPy hang),
normalises harmless presentation commands (``\\displaystyle``, ``\\limits``,
``\\left``/``\\right``, spacing) and splits off an optional left-hand side naming the
quantity (``\\hat{A}_t^{(2)} =``), which is checked against the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gae_sym.homework.build import AnswerError

MAX_CHARS = 2000
MAX_NESTING = 30
MAX_DIGITS = 6

ALLOWED_COMMANDS = frozenset({"gamma", "lambda", "delta", "sum", "infty", "cdot", "frac", "ell"})
"""LaTeX commands an answer's right-hand side may use (after normalisation)."""
_DROPPED = (
    "displaystyle",
    "textstyle",
    "limits",
    "nolimits",
    "left",
    "right",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "big",
    "Big",
    "bigg",
    "quad",
    "qquad",
)
_RENAMED = {"dfrac": "frac", "tfrac": "frac", "times": "cdot", "ell": "l", "infin": "infty"}
_ELLIPSIS = ("cdots", "ldots", "dots")
_LHS_DECORATIONS = ("hat", "widehat", "mathrm", "text", "operatorname", "mathit", "mathbf")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_GREEK = {"gamma": "gamma", "lambda": "lambda", "lam": "lambda", "delta": "delta"}
_BARE_GREEK = re.compile(r"(?<![\\A-Za-z])(gamma|lambda|lam|delta)(?![A-Za-z])")
# Characters that copy-paste from PDFs, Word and Unicode-aware editors brings in.
_UNICODE_COMMON = {"\u2212": "-", "\u2013": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " "}
_UNICODE_LATEX = {
    "γ": "\\gamma ",
    "λ": "\\lambda ",
    "δ": "\\delta ",
    "∞": "\\infty ",
    "Σ": "\\sum",
    "∑": "\\sum",
    "·": "\\cdot ",
    "⋅": "\\cdot ",
    "×": "\\cdot ",
}
_UNICODE_TEXT = {"∞": "inf", "·": "*", "⋅": "*", "×": "*"}
# \mathrm{V}_t, \text{r}_t: a font around a name changes nothing the checker reads.
_FONT_WRAPPER = re.compile(
    r"\\(?:mathrm|mathit|mathnormal|textrm|textit|text|operatorname)\s*\{\s*([A-Za-z]+)\s*\}"
)


@dataclass(frozen=True)
class Screened:
    """An answer that passed the screen: its right-hand side and what its left-hand side named."""

    rhs: str
    notation: str  # "latex" or "text"
    lhs_quantity: str | None  # "delta", "advantage", "return" or None (no left-hand side)
    lhs_steps: str | None  # the (K) of A^{(K)}_t on the left: "2", "n", or None
    lhs_text: str | None


def notation_of(text: str) -> str:
    """LaTeX when the text uses a backslash or braces; plain text otherwise.

    The plain-text grammar also reads ``r_t`` and ``V_t``, so an answer such as
    ``r_t + gamma*V[t+1] - V_t`` is read with our own grammar.
    """
    return "latex" if re.search(r"[\\{}]", text) else "text"


def screen(text: str) -> Screened:
    """Check and normalise raw ``text``; raise :class:`AnswerError` with the reason to refuse."""
    if not isinstance(text, str) or not text.strip():
        raise AnswerError("the answer is empty")
    if len(text) > MAX_CHARS:
        raise AnswerError(f"the answer has {len(text)} characters; at most {MAX_CHARS} are read")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise AnswerError("the answer contains control characters")
    _check_balanced(text)
    _check_numbers(text)
    text = _translate(text, _UNICODE_COMMON)
    notation = notation_of(text)
    if notation == "latex":
        text = _normalise_latex(_translate(text, _UNICODE_LATEX))
    else:
        text = _translate(text, _UNICODE_TEXT)
    lhs, rhs = _split_equation(text)
    if not rhs.strip():
        raise AnswerError("nothing after '='")
    if notation == "latex":
        _check_commands(rhs)
    quantity, steps = _classify_lhs(lhs) if lhs is not None else (None, None)
    return Screened(rhs.strip(), notation, quantity, steps, lhs.strip() if lhs else None)


def _check_balanced(text: str) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    deepest = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            continue
        if ch in "([{":
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in ")]}":
            if not stack or stack[-1] != pairs[ch]:
                kind = "braces" if ch == "}" or "{" in stack else "parentheses"
                raise AnswerError(f"unbalanced {kind}: unexpected '{ch}'")
            stack.pop()
    if stack:
        kind = "braces" if stack[-1] == "{" else "parentheses" if stack[-1] == "(" else "brackets"
        raise AnswerError(f"unbalanced {kind}: '{stack[-1]}' is never closed")
    if deepest > MAX_NESTING:
        raise AnswerError(f"nested {deepest} levels deep: too complex to check", "too-complex")


def _check_numbers(text: str) -> None:
    for literal in re.findall(r"\d+", text):
        if len(literal.lstrip("0")) > MAX_DIGITS:
            raise AnswerError(
                f"the number {literal[:12]}... is too large: too complex to check", "too-complex"
            )
    # A power inside an exponent (10^{10^{10}}): bigint arithmetic no timer can interrupt.
    depth = 0
    exponent_depths: list[int] = []
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            while exponent_depths and exponent_depths[-1] > depth:
                exponent_depths.pop()
        elif ch == "^" or (ch == "*" and text[i + 1 : i + 2] == "*"):
            if len(exponent_depths) >= 2:
                raise AnswerError("power towers are too complex to check", "too-complex")
            if text[i + 1 : i + 2] == "{":
                exponent_depths.append(depth + 1)


def _translate(text: str, table: dict[str, str]) -> str:
    for old, new in table.items():
        text = text.replace(old, new)
    return text


def _normalise_latex(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _DROPPED:
            return " "
        # Spacing, line breaks and math delimiters: \, \; \\ \( \) \[ \].
        if name in (",", ";", "!", ":", " ", "\\", "(", ")", "[", "]"):
            return " "
        if name in _RENAMED:
            return "\\" + _RENAMED[name] if name != "ell" else " l "
        if name in _ELLIPSIS:
            raise AnswerError(
                "'...' cannot be checked: write the sum with \\sum_{l=0}^{n-1} (or a finite list)"
            )
        return match.group(0)

    text = _FONT_WRAPPER.sub(r"\1", text)
    text = _COMMAND.sub(replace, text)
    # Empty groups (\gamma{}V) and alignment marks (A_t &= ...) only steer typesetting.
    text = text.replace("^{}", "").replace("_{}", "")
    while "{}" in text:
        text = text.replace("{}", " ")
    text = text.replace("&", " ")
    # Bare "gamma" in a LaTeX answer means \gamma (ANTLR would read g·a·m·m·a).
    text = _BARE_GREEK.sub(lambda m: "\\" + _GREEK[m.group(1)] + " ", text)
    # \left. and \right. only size a delimiter; "\left(" is now " (".
    # A sentence's closing punctuation after a displayed formula ("... - V(s_t).").
    return text.replace("$", " ").strip().rstrip(".,;").strip()


def _split_equation(text: str) -> tuple[str | None, str]:
    """Split at an '=' outside every bracket (``l=0`` in a sum's bounds stays put)."""
    depth = 0
    cuts = []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            cuts.append(i)
    if not cuts:
        return None, text
    if len(cuts) == 1:
        return text[: cuts[0]], text[cuts[0] + 1 :]
    raise AnswerError("the answer has more than one '='; write one expression (or 'A_t = ...')")


def _check_commands(rhs: str) -> None:
    for match in _COMMAND.finditer(rhs):
        name = match.group(1)
        if name not in ALLOWED_COMMANDS:
            raise AnswerError(
                f"unrecognised notation '\\{name}' (the answer may use r, V, \\delta, \\gamma, "
                "\\lambda, \\sum, \\infty, \\frac, \\cdot)",
                "unknown-symbol",
            )


def _classify_lhs(lhs: str) -> tuple[str, str | None]:
    """What quantity the left-hand side names, and the step count in a superscript (K)."""
    body = lhs.strip()
    for name in _LHS_DECORATIONS:
        body = body.replace("\\" + name, "")
    body = body.replace(" ", "")
    body = body.lstrip("{(")
    steps_match = re.search(r"\(\s*(\d+|n)\s*\)", body)
    steps = steps_match.group(1) if steps_match else None
    if re.match(r"\\delta(?![A-Za-z])|delta(?![A-Za-z])|δ", body):
        return "delta", steps
    if re.match(r"A(?![a-z])", body):
        return "advantage", steps
    if re.match(r"[GR](?![a-z])", body):
        return "return", steps
    raise AnswerError(
        f"the left-hand side '{lhs.strip()}' names another quantity; "
        "write the answer alone or as 'A_t = ...', '\\delta_t = ...', 'G^\\lambda_t = ...'",
        "wrong-quantity",
    )
