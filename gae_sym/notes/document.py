"""A tiny document model with two writers: GitHub/MkDocs Markdown and LaTeX (amsmath).

The notes are built once as blocks (paragraphs with ``$...$`` math, display math,
tables, figures, code, lists, and raw Markdown/LaTeX pairs from the derivations) and
written twice, so the two versions cannot drift apart. Plain text may hold the Greek
letters and symbols a lecturer types (λ, γ, ≤, →); the LaTeX writer turns them into math.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text; ``$...$`` is inline math, ``` `...` ``` is code."""

    text: str


@dataclass(frozen=True)
class Math:
    """Display math: one ``align*`` line per entry (``&`` aligns, as in LaTeX)."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section, with an anchor/label ``id``."""

    text: str
    id: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG under the notes' ``figures/`` folder."""

    file: str
    caption: str


@dataclass(frozen=True)
class Code:
    text: str
    language: str = "python"


@dataclass(frozen=True)
class Raw:
    """The same content already written in both languages (a derivation's own rendering)."""

    markdown: str
    latex: str


Block = Para | Math | Heading | Bullets | Table | Figure | Code | Raw


@dataclass
class Section:
    """One section of the notes: one Markdown file ``<id>.md``, one ``\\section`` in the .tex."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    subtitle: str = ""


# --- text ------------------------------------------------------------------------------

# Unicode a lecturer types in prose, and its LaTeX (used inside and outside math).
_UNICODE_MATH = {
    "λ": r"\lambda",
    "γ": r"\gamma",
    "δ": r"\delta",
    "π": r"\pi",
    "Σ": r"\Sigma",
    "θ": r"\theta",
    "ε": r"\varepsilon",
    "μ": r"\mu",
    "σ": r"\sigma",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "→": r"\to",
    "∞": r"\infty",
    "×": r"\times",
    "·": r"\cdot",
    "−": "-",
    "±": r"\pm",
    "∈": r"\in",
    "∨": r"\lor",
    "∇": r"\nabla",
    "Â": r"\hat{A}",
    "∑": r"\sum",
    "Π": r"\Pi",
    "α": r"\alpha",
    "β": r"\beta",
    "⋯": r"\cdots",
    "²": "^2",
    "ⁿ": "^n",
    "ᵢ": "_i",
    "₀": "_0",
    "₁": "_1",
}
_UNICODE_TEXT = {"–": "--", "—": "---", "…": r"\ldots{}", "“": "``", "”": "''", "’": "'"}
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"$\sim$",
    "^": r"\textasciicircum{}",
    "$": r"\$",
}
_HAT = "\u0302"  # combining circumflex: V̂ is "V" + U+0302

_INLINE = re.compile(r"(\$[^$]+\$|`[^`]+`)")


def tex_math(math: str) -> str:
    """Unicode in math → LaTeX commands (V̂ → \\hat{V}, λ → \\lambda)."""
    math = re.sub(r"(\w)" + _HAT, r"\\hat{\1}", math)
    out = []
    for ch in math:
        mapped = _UNICODE_MATH.get(ch)
        # A command ending in a letter needs a space before what follows (\lambda x).
        spaced = mapped and mapped.startswith("\\") and mapped[-1].isalpha()
        out.append(mapped + " " if spaced else (mapped or ch))
    return "".join(out)


def tex_text(text: str) -> str:
    """Plain text with ``$math$`` and ``` `code` ``` → LaTeX, escaping everything else."""
    parts = []
    for piece in _INLINE.split(text):
        if not piece:
            continue
        if piece.startswith("$") and piece.endswith("$") and len(piece) > 1:
            parts.append("$" + tex_math(piece[1:-1]) + "$")
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            code = _escape_plain(piece[1:-1], code=True)
            # Long ids and paths may break after - . _ /, rather than run into the margin.
            for mark in ("-", ".", r"\_", "/"):
                code = code.replace(mark, mark + r"\allowbreak{}")
            parts.append(r"\texttt{" + code + "}")
        else:
            # A quote right after math or code closes (it cannot open a quotation).
            parts.append(_escape_plain(piece, previous="x" if parts else " "))
    return "".join(parts)


def _escape_plain(text: str, code: bool = False, previous: str = " ") -> str:
    """Escape plain text for LaTeX; ``previous`` is the character written just before it."""
    out = []
    text = re.sub(r"(\w)" + _HAT, lambda m: "\x00" + m.group(1), text)
    hat_next = False
    for ch in text:
        if ch == "\x00":
            hat_next = True
            continue
        if ch == "'" and not code and (previous.isspace() or previous in "([/"):
            # An opening single quote: TeX sets ' as a closing one, ` as the opening one.
            out.append("`")
        elif hat_next:
            out.append(r"$\hat{" + ch + "}$")
            hat_next = False
        elif ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif ch in _UNICODE_MATH:
            out.append("$" + tex_math(ch).strip() + "$")
        elif code and ch == " ":
            out.append(" ")
        else:
            out.append(ch)
        previous = ch
    return "".join(out)


# --- LaTeX written by others: keep it compiling -----------------------------------------------

_DELIMITER = re.compile(
    r"\\\$|\$\$|\$|\\\[|\\\]|\\begin\{((?:align|equation|gather|multline)\*?)\}"
)
_SCRIPT = re.compile(r"(?<!\\)[_^]")


def repair_latex(raw: str) -> str:
    """Put text-mode sub/superscripts (``s_{t+1}``, ``λ^{n−1}``) into math so pdflatex accepts them.

    Derivations are written by people: a reason or an assumption in words may carry a bit
    of math without ``$``. Math (``$...$``, ``\\[...\\]``, align*/equation environments) is
    left alone except for ``\\text{...}`` inside it, which is repaired recursively.
    Unicode letters in text are handled by ``\\DeclareUnicodeCharacter`` in the preamble.
    """
    out, pos, n = [], 0, len(raw)
    while pos < n:
        match = _DELIMITER.search(raw, pos)
        if match is None:
            out.append(_repair_text(raw[pos:]))
            break
        out.append(_repair_text(raw[pos : match.start()]))
        token = match.group(0)
        if token == "\\$":
            out.append(token)
            pos = match.end()
            continue
        closer = {"$": "$", "$$": "$$", "\\[": "\\]"}.get(token, f"\\end{{{match.group(1)}}}")
        if token == "\\]":
            out.append(token)
            pos = match.end()
            continue
        end = _find_closer(raw, match.end(), closer)
        out.append(token + _repair_math(raw[match.end() : end]) + raw[end : end + len(closer)])
        pos = end + len(closer)
    return "".join(out)


def _find_closer(raw: str, start: int, closer: str) -> int:
    pos = start
    while True:
        end = raw.find(closer, pos)
        if end < 0:
            return len(raw)
        if closer == "$" and end > 0 and raw[end - 1] == "\\":
            pos = end + 1
            continue
        return end


def _repair_math(math: str) -> str:
    out, pos = [], 0
    while True:
        start = math.find("\\text{", pos)
        if start < 0:
            out.append(math[pos:])
            return "".join(out)
        body_start = start + len("\\text{")
        depth, i = 1, body_start
        while i < len(math) and depth:
            if math[i] == "\\":
                i += 2
                continue
            depth += {"{": 1, "}": -1}.get(math[i], 0)
            i += 1
        out.append(math[pos:body_start] + repair_latex(math[body_start : i - 1]) + "}")
        pos = i


def _repair_text(text: str) -> str:
    words = re.split(r"(\s+)", text)
    for k, word in enumerate(words):
        if not _SCRIPT.search(word) or word.startswith("\\"):
            continue
        core = word.lstrip("(")
        lead = word[: len(word) - len(core)]
        stripped = core.rstrip(".,;:)")
        trail = core[len(stripped) :]
        words[k] = f"{lead}${tex_math(stripped)}${trail}"
    return "".join(words)


LONG_REASON = 80  # characters of LaTeX source; longer reasons are set as a paragraph
_REASON = re.compile(r"&&\s*\\text\{")


def reasons_as_tags(latex: str) -> str:
    """``... && \\text{reason}`` → ``... \\tag*{reason}`` in every line of an align*.

    A reason in a third align column pushes long lines past the margin; as a tag amsmath
    sets it flush right when it fits and on its own line below the step when it does not.
    """
    out, pos = [], 0
    for match in _REASON.finditer(latex):
        if match.start() < pos:
            continue
        depth, i = 1, match.end()
        while i < len(latex) and depth:
            if latex[i] == "\\":
                i += 2
                continue
            depth += {"{": 1, "}": -1}.get(latex[i], 0)
            i += 1
        body = latex[match.end() : i - 1]
        if len(body) > LONG_REASON:
            # A tag cannot wrap: a long reason becomes a right-aligned paragraph.
            body = "\\parbox[t]{0.62\\linewidth}{\\raggedleft " + body + "}"
        out.append(latex[pos : match.start()].rstrip() + " \\tag*{\\small " + body + "}")
        pos = i
    out.append(latex[pos:])
    return "".join(out)


_DECLARED_UNICODE = {
    "03BB": r"\ensuremath{\lambda}",
    "03B3": r"\ensuremath{\gamma}",
    "03B4": r"\ensuremath{\delta}",
    "03C0": r"\ensuremath{\pi}",
    "03A3": r"\ensuremath{\Sigma}",
    "03B8": r"\ensuremath{\theta}",
    "03B5": r"\ensuremath{\varepsilon}",
    "03C3": r"\ensuremath{\sigma}",
    "2264": r"\ensuremath{\le}",
    "2265": r"\ensuremath{\ge}",
    "2260": r"\ensuremath{\ne}",
    "2248": r"\ensuremath{\approx}",
    "2192": r"\ensuremath{\to}",
    "221E": r"\ensuremath{\infty}",
    "00D7": r"\ensuremath{\times}",
    "00B7": r"\ensuremath{\cdot}",
    "2212": r"\ensuremath{-}",
    "00B1": r"\ensuremath{\pm}",
    "2208": r"\ensuremath{\in}",
    "2228": r"\ensuremath{\lor}",
    "00B2": r"\ensuremath{^2}",
    "2207": r"\ensuremath{\nabla}",
    "2211": r"\ensuremath{\sum}",
    "03A0": r"\ensuremath{\Pi}",
    "03B1": r"\ensuremath{\alpha}",
    "03B2": r"\ensuremath{\beta}",
    "22EF": r"\ensuremath{\cdots}",
}


# --- Markdown ----------------------------------------------------------------------------


def to_markdown(section: Section, nav: str = "") -> str:
    """The section as a Markdown page, anchored by its id (``<a id="...">``)."""
    lines = [f'<a id="{section.id}"></a>', "", f"# {section.title}", ""]
    if section.subtitle:
        lines += [f"*{section.subtitle}*", ""]
    for block in section.blocks:
        lines += [*_markdown_block(block), ""]
    if nav:
        lines += ["---", "", nav, ""]
    return github_inline_math("\n".join(lines).rstrip() + "\n")


_INLINE_MATH = re.compile(r"(?<![\\$])\$[^$\n]+\$")
# GitHub's Markdown pass eats the backslash of \{ and \} before MathJax sees inline math
# (the braces vanish); \lbrace and \rbrace mean the same to MathJax, KaTeX and LaTeX.
_GITHUB_BRACE = re.compile(r"\\([{}])(?=([A-Za-z])?)")


def github_inline_math(markdown: str) -> str:
    """Inline ``$...$`` math rewritten so it renders on GitHub and in MkDocs.

    Unicode becomes LaTeX (``V̂`` → ``\\hat{V}``: MathJax sets a combining accent beside the
    letter, not on it; ``λ`` → ``\\lambda``), and ``\\{``/``\\}`` become ``\\lbrace``/``\\rbrace``.
    ``$$`` display blocks, where GitHub keeps backslashes, are left alone.
    """
    out, display = [], False
    for line in markdown.split("\n"):
        if line.strip() == "$$":
            display = not display
        elif not display:
            line = _INLINE_MATH.sub(lambda m: _github_safe(m.group(0)), line)
        out.append(line)
    return "\n".join(out)


def _github_safe(math: str) -> str:
    def brace(match: re.Match) -> str:
        command = r"\lbrace" if match.group(1) == "{" else r"\rbrace"
        # A letter right after the command would run into its name (\lbracex).
        return command + (" " if match.group(2) else "")

    # No space may precede the closing $ (pandoc and GitHub would not see math there).
    return "$" + _GITHUB_BRACE.sub(brace, tex_math(math[1:-1])).strip() + "$"


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [block.text]
    if isinstance(block, Math):
        body = block.lines[0] if len(block.lines) == 1 else _aligned(block.lines)
        return ["$$", body.replace("&", "") if len(block.lines) == 1 else body, "$$"]
    if isinstance(block, Heading):
        return [f'<a id="{block.id}"></a>', "", f"## {block.text}"]
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    if isinstance(block, Table):
        out = ["| " + " | ".join(block.header) + " |", "|" + "---|" * len(block.header)]
        out += ["| " + " | ".join(row) + " |" for row in block.rows]
        return ([f"**{block.caption}**", ""] if block.caption else []) + out
    if isinstance(block, Figure):
        return [f"![{block.caption}](figures/{block.file})", "", f"*{block.caption}*"]
    if isinstance(block, Code):
        return [f"```{block.language}", block.text.rstrip("\n"), "```"]
    if isinstance(block, Raw):
        return [block.markdown.strip("\n")]
    raise TypeError(f"unknown block {block!r}")


def _aligned(lines: Sequence[str]) -> str:
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


# --- LaTeX --------------------------------------------------------------------------------

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{float}
\usepackage{booktabs}
\usepackage[margin=2.3cm]{geometry}
\usepackage[hidelinks,unicode]{hyperref}
\setlength{\parskip}{0.5em}
\setlength{\parindent}{0pt}
\setlength{\tabcolsep}{4pt}
\setlength{\emergencystretch}{3em}
\allowdisplaybreaks
""" + "".join(
    f"\\DeclareUnicodeCharacter{{{code}}}{{{tex}}}\n" for code, tex in _DECLARED_UNICODE.items()
)


def heading_tex(title: str) -> str:
    """A heading's LaTeX; math in it gets a plain-Unicode twin for the PDF bookmarks."""
    tex = tex_text(title)
    if "$" not in tex:
        return tex
    plain = title
    for char, command in _UNICODE_MATH.items():
        if command.startswith("\\") and command[1:].isalpha():
            plain = re.sub(re.escape(command) + r"(?![A-Za-z])", char, plain)
    plain = re.sub(r"\\[A-Za-z]+", "", plain).replace("$", "").replace("{", "").replace("}", "")
    return rf"\texorpdfstring{{{tex}}}{{{plain}}}"


def to_latex_section(section: Section) -> str:
    lines = [rf"\section{{{heading_tex(section.title)}}}\label{{{section.id}}}", ""]
    if section.subtitle:
        lines += [r"\emph{" + tex_text(section.subtitle) + "}", ""]
    for block in section.blocks:
        lines += [*_latex_block(block), ""]
    return "\n".join(lines)


def _latex_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [tex_text(block.text)]
    if isinstance(block, Math):
        return [
            r"\begin{align*}",
            " \\\\\n".join(tex_math(x) for x in block.lines),
            r"\end{align*}",
        ]
    if isinstance(block, Heading):
        return [rf"\subsection{{{heading_tex(block.text)}}}\label{{{block.id}}}"]
    if isinstance(block, Bullets):
        return (
            [r"\begin{itemize}"]
            + [rf"\item {tex_text(i)}" for i in block.items]
            + [r"\end{itemize}"]
        )
    if isinstance(block, Table):
        spec = "l" * len(block.header)
        # A minipage keeps the caption on the same page as its table.
        out = [r"\par\noindent\begin{minipage}{\linewidth}\centering\footnotesize"]
        if block.caption:
            out.append(rf"\textbf{{{tex_text(block.caption)}}}\\[0.4em]")
        out += [
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            " & ".join(tex_text(h) for h in block.header) + r" \\",
            r"\midrule",
        ]
        out += [" & ".join(tex_text(c) for c in row) + r" \\" for row in block.rows]
        out += [r"\bottomrule", r"\end{tabular}", r"\end{minipage}\par\medskip"]
        return out
    if isinstance(block, Figure):
        return [
            # [H] (float.sty): a figure stays in its section, next to the text about it.
            r"\begin{figure}[H]",
            r"\centering",
            rf"\includegraphics[width=\linewidth]{{figures/{block.file}}}",
            rf"\caption{{{tex_text(block.caption)}}}",
            r"\end{figure}",
        ]
    if isinstance(block, Code):
        return [r"\begin{verbatim}", block.text.rstrip("\n"), r"\end{verbatim}"]
    if isinstance(block, Raw):
        return [reasons_as_tags(repair_latex(block.latex.strip("\n")))]
    raise TypeError(f"unknown block {block!r}")


def to_latex_document(title: str, intro: Sequence[Block], sections: Sequence[Section]) -> str:
    """A complete article: preamble, title, contents, the intro, then every section."""
    out = [
        PREAMBLE,
        rf"\title{{{tex_text(title)}}}",
        r"\author{generated by \texttt{gae-sym notes}}",
        r"\date{}",
        "",
        r"\begin{document}",
        r"\maketitle",
        "",
    ]
    for block in intro:
        out += [*_latex_block(block), ""]
    out += [r"\tableofcontents", ""]
    for section in sections:
        out.append(to_latex_section(section))
    out.append(r"\end{document}")
    return "\n".join(out).rstrip() + "\n"


__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Figure",
    "Heading",
    "Math",
    "Para",
    "Raw",
    "Section",
    "Table",
    "reasons_as_tags",
    "repair_latex",
    "tex_math",
    "tex_text",
    "to_latex_document",
    "to_latex_section",
    "to_markdown",
]
