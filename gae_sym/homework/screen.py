"""Pre-screening of raw answer text: cheap string checks run before any parser sees it.

Refuses what no parser should be asked to read (over 4,000 characters, unbalanced braces,
LaTeX commands outside the answer vocabulary, numbers and nesting that make SymPy hang,
invisible direction marks), normalises what copy-paste and habit bring (Unicode letters,
superscripts and subscripts, zero-width characters, ``\\geq`` in sum limits,
``\\hat{V}``) and harmless presentation commands (``\\displaystyle``, ``\\limits``,
``\\left``/``\\right``, spacing), and splits off an optional left-hand side naming the
quantity (``\\hat{A}_t^{(2)} =``), which is checked against the question.

Every limit is checked on the normalised text too (NFKC can lengthen a character), so no
normalisation lets a longer or deeper answer through than the raw text would.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gae_sym.homework.build import DERIVATION_COMMANDS, AnswerError, in_derivation

MAX_CHARS = 4000
"""Characters read (raw and normalised): 100 terms written out (``\\gamma^{99}\\delta_{t+99}``,
about 2,700 characters; ``(\\gamma\\lambda)^{99}\\delta_{t+99}`` about 3,600) fit."""
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


_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2061\u2062\u2063\u2064\u180e"), None
)
"""Zero-width spaces and joiners, word joiner, BOM, soft hyphen, invisible operators:
dropped (an invisible times is the juxtaposition it stands for)."""
_DIRECTION_MARKS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Bidirectional controls reorder what a grader sees against what is parsed: refused."""
_SUPERSCRIPTS = {
    **dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True)),
    "⁺": "+",
    "⁻": "-",
    "⁽": "(",
    "⁾": ")",
    "ⁿ": "n",
    "ⁱ": "i",
    "ˡ": "l",
    "ᵏ": "k",
    "ʲ": "j",
    "ᵗ": "t",
    "ᵐ": "m",
}
_SUBSCRIPTS = {
    **dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True)),
    "₊": "+",
    "₋": "-",
    "₍": "(",
    "₎": ")",
    "ₜ": "t",
    "ₙ": "n",
    "ₗ": "l",
    "ₖ": "k",
    "ᵢ": "i",
    "ⱼ": "j",
    "ₘ": "m",
}
_SCRIPT_RUN = re.compile("([" + "".join(_SUPERSCRIPTS) + "]+)|([" + "".join(_SUBSCRIPTS) + "]+)")
# ≥ and ≤ (and the combining hat of V̂) before NFKC, which would leave them alone anyway.
_UNICODE_RELATIONS = {"≥": "\\geq ", "≤": "\\leq ", "⩾": "\\geq ", "⩽": "\\leq ", "\u0302": ""}


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
    _check_length(text)
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise AnswerError("the answer contains control characters")
    if any(ch in _DIRECTION_MARKS for ch in text):
        raise AnswerError(
            "the answer contains invisible text-direction marks (they make what is shown "
            "differ from what is read); type it again without them"
        )
    notation = notation_of(text)
    text = normalise_unicode(text, notation)
    _check_length(text)
    if not text.strip():
        raise AnswerError("the answer is empty")
    _check_balanced(text)
    _check_numbers(text)
    text = _translate(text, _UNICODE_COMMON)
    if notation == "latex":
        text = _normalise_latex(_translate(text, _UNICODE_LATEX))
    else:
        text = _translate(text, _UNICODE_TEXT)
    lhs, rhs = _split_equation(text)
    if not rhs.strip():
        raise AnswerError("nothing after '='")
    if notation == "latex":
        _check_commands(rhs)
    _check_characters(rhs, notation)
    quantity, steps = _classify_lhs(lhs) if lhs is not None else (None, None)
    return Screened(rhs.strip(), notation, quantity, steps, lhs.strip() if lhs else None)


def _check_length(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise AnswerError(
            f"the answer has {len(text):,} characters; at most {MAX_CHARS:,} are read"
        )


def normalise_unicode(text: str, notation: str) -> str:
    """Unicode an editor or a PDF brings, as the ASCII the readers know.

    Zero-width characters go; superscript and subscript runs become ``^{..}``/``_{..}`` in
    LaTeX and ``^(..)``/``[..]`` in plain text (γ² → γ^{2}, δₜ₊₁ → δ_{t+1}); ≥ ≤ become
    ``\\geq`` ``\\leq``; V̂ (combining hat) is V; then NFKC folds compatibility forms (math
    italic 𝑟, 𝛾 from equation editors, full-width letters) to plain letters. Anything else
    outside ASCII stays and is refused by the readers.
    """
    text = text.translate(_INVISIBLE)
    latex = notation == "latex"

    def script(match: re.Match[str]) -> str:
        if match.group(1):
            body = "".join(_SUPERSCRIPTS[ch] for ch in match.group(1))
            return f"^{{{body}}}" if latex else f"^({body})"
        body = "".join(_SUBSCRIPTS[ch] for ch in match.group(2))
        return f"_{{{body}}}" if latex else f"[{body}]"

    text = _SCRIPT_RUN.sub(script, text)
    # ≥ ≤ only mean something in LaTeX sum limits; the combining hat of V̂ is V in both.
    text = _translate(text, _UNICODE_RELATIONS) if latex else text.replace("\u0302", "")
    if not text.isascii():
        for ch in text:
            if unicodedata.decomposition(ch).startswith(("<super>", "<sub>")):
                # NFKC would make γᵃ the product γ·a: refuse what we cannot read as a power.
                raise AnswerError(
                    f"the superscript or subscript {ch!r} is not understood; write ^{{...}} "
                    "or _{...}"
                )
        # NFKC leaves γ, λ, δ, ∞, Σ, − and · as they are (the tables below read them).
        text = unicodedata.normalize("NFKC", text)
    return text


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
    # \hat{V}(s_{t+1}): the estimated value is the V the answer means; \hat{\delta} alike.
    text = _HATTED.sub(lambda m: (m.group(1) or m.group(2)) + " ", text)
    # δ^V_t (the GAE paper's TD error of the value function V) and V^π(s_t) (the value of
    # the policy followed): the δ and V the answer means.
    text = _DELTA_OF_V.sub(r"\\delta", text)
    text = _DELTA_OF_V_AFTER.sub(r"\1", text)
    text = _V_OF_PI.sub("V", text)
    text = _V_OF_WEIGHTS.sub("V", text)  # V_φ(s_t), V_θ(s_t): the critic with its weights
    # ^d\delta: TeX reads one letter as the exponent; SymPy's lexer reads "d\delta" as a
    # differential. Braces say what TeX means.
    text = _LETTER_SCRIPT.sub(r"\1{\2}", text)
    text = _COMMAND.sub(replace, text)
    text = _SUM_RELATION.sub(_sum_limits, text)
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


_V_SCRIPT = r"\s*\^\s*(?:\{\s*V\s*\}|V(?![A-Za-z]))"
_DELTA_OF_V = re.compile(r"\\delta" + _V_SCRIPT)
_DELTA_OF_V_AFTER = re.compile(r"(\\delta\s*_\s*(?:\{[^{}]*\}|[A-Za-z0-9]))" + _V_SCRIPT)
_V_OF_PI = re.compile(r"(?<![A-Za-z\\])V\s*\^\s*(?:\{\s*\\pi\s*\}|\\pi(?![A-Za-z]))")
_WEIGHTS = r"\\(?:theta|phi|varphi|psi|omega)"
_V_OF_WEIGHTS = re.compile(
    rf"(?<![A-Za-z\\])V\s*_\s*(?:\{{\s*{_WEIGHTS}\s*\}}|{_WEIGHTS}(?![A-Za-z]))(?=\s*\()"
)
_LETTER_SCRIPT = re.compile(r"([_^])\s*([A-Za-z])(?=\s*\\)")
_HATTED = re.compile(r"\\(?:hat|widehat|tilde|bar)\s*(?:\{\s*(V|\\delta)\s*\}|(V)(?![A-Za-z]))")
_LESS = r"(?:\\leq?(?![A-Za-z])|\\leqslant|<=|<)"
_MORE = r"(?:\\geq?(?![A-Za-z])|\\geqslant|>=|>)"
_SUM_RELATION = re.compile(
    r"\\sum\s*_\s*\{(?P<sub>[^{}]*(?:\\[lg]e|[<>])[^{}]*)\}"
    r"(?:\s*\^\s*(?P<sup>\{[^{}]*\}|\\infty|[A-Za-z0-9]))?"
)
_INDEX = r"\s*(?P<index>[A-Za-z])\s*"
_FROM = re.compile(rf"^{_INDEX}(?P<op>{_MORE})(?P<low>[^<>=]+)$")
_BETWEEN = re.compile(
    rf"^(?P<low>[^<>=]+?)(?P<op1>{_LESS}){_INDEX}(?:(?P<op2>{_LESS})(?P<up>[^<>=]+))?$"
)


def _strict(op: str) -> bool:
    return op.strip() in ("<", ">")


def _sum_limits(match: re.Match[str]) -> str:
    """``\\sum_{l \\geq 0}`` → ``\\sum_{l=0}^{\\infty}``; ``\\sum_{0 \\le l < n}`` →
    ``\\sum_{l=0}^{n-1}``: an inequality in the subscript is the sum's range."""
    sub = re.sub(r"\\(?:leqslant|leq|le)(?![A-Za-z])", " \\\\le ", match.group("sub"))
    sub = re.sub(r"\\(?:geqslant|geq|ge)(?![A-Za-z])", " \\\\ge ", sub)
    sup = match.group("sup")
    upper_written = None
    if sup is not None:
        upper_written = sup[1:-1] if sup.startswith("{") else sup
    start = _FROM.match(sub)
    between = _BETWEEN.match(sub) if start is None else None
    if start is not None:
        index, low = start.group("index"), start.group("low").strip()
        if _strict(start.group("op")):
            low = f"({low})+1"
        upper = upper_written if upper_written is not None else "\\infty"
    elif between is not None:
        index, low = between.group("index"), between.group("low").strip()
        if _strict(between.group("op1")):
            low = f"({low})+1"
        if between.group("up") is None:
            upper = upper_written if upper_written is not None else "\\infty"
        else:
            if upper_written is not None:
                raise AnswerError("a sum's upper limit is given twice (in _{...} and ^{...})")
            upper = between.group("up").strip()
            if _strict(between.group("op2")):
                upper = f"({upper})-1"
    else:
        raise AnswerError(
            f"cannot read the sum's range '{match.group('sub').strip()}': write "
            "\\sum_{l=0}^{n-1}, \\sum_{l \\geq 0} or \\sum_{0 \\le l \\le n-1}"
        )
    return f"\\sum_{{{index}={low}}}^{{{upper}}}"


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


_READ_NON_ASCII = frozenset("γλδ")


def _check_characters(rhs: str, notation: str) -> None:
    """Name a character outside the notation (a Cyrillic г that looks like r, a Greek α)."""
    for ch in rhs:
        if not ch.isascii() and not (notation == "text" and ch in _READ_NON_ASCII):
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            raise AnswerError(
                f"unexpected character {ch!r} ({name}): the answer may use r, V, s, δ, γ, λ, "
                "Σ, ∞, digits and + − · / ^ _ ( ) [ ] { }",
                "unknown-symbol",
            )


def _check_commands(rhs: str) -> None:
    for match in _COMMAND.finditer(rhs):
        name = match.group(1)
        if name not in ALLOWED_COMMANDS and not (name in DERIVATION_COMMANDS and in_derivation()):
            raise AnswerError(
                f"unrecognised notation '\\{name}' (the answer may use r, V, \\delta, \\gamma, "
                "\\lambda, \\sum, \\infty, \\frac, \\cdot)",
                "unknown-symbol",
            )


def _classify_lhs(lhs: str) -> tuple[str, str | None]:
    """What quantity the left-hand side names, and the step count in a superscript (K)."""
    # Â, Ĝ from a word processor: the hat (a combining mark once decomposed) decorates A, G.
    decomposed = unicodedata.normalize("NFD", lhs.strip())
    body = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
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
