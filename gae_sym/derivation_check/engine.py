"""Check every derivation block of a file, line by line: the report behind ``prove FILE``.

For each block: the assumptions and the claim of its directives are resolved (an unknown
id makes the block unreadable), every line is read (:mod:`.reading`), and each pair of
consecutive lines gets one of four verdicts:

- **justified**: the search (:mod:`.search`) found a rule chain that ``Proof.check()``
  accepts under the declared assumptions;
- **false**: the two lines differ at an instance inside the declared assumptions
  (:func:`gae_sym.proof.refute.counterexample`), both values shown;
- **unjustified**: equal at every instance tried, but no rule chain was found (or the
  kernel refuses the line, e.g. a series it cannot show to converge): not a proof;
- **unreadable**: the reader refused the line (reason and column).

A claim (``% gae-sym: claim ID``) is established when every line is justified, the first
left side and the last line are the two sides of one part of that theorem (kernel
equality), the values set on the way (λ = 0) are the part's, and the block assumes
nothing the part does not. The claimed theorem itself is never cited inside its block.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

from sympy import Expr, Indexed, Symbol, srepr

from gae_sym.derivation_check.blocks import Block, BlockError, find_blocks
from gae_sym.derivation_check.search import BUDGET_S, justify
from gae_sym.homework.build import AnswerError

LINE_STATUSES = ("justified", "false", "unjustified", "unreadable")
BLOCK_STATUSES = ("proved", "false", "unjustified", "unreadable")


class FileError(ValueError):
    """A file cannot be read at all (missing, not text, too long)."""


def read_derivation_file(path: Path) -> str:
    """The text of a derivation file, or a FileError that says in words why not (a folder,
    a missing file, not UTF-8, no permission), never an exception's class name."""
    path = Path(path)
    if path.is_dir():
        raise FileError(f"{path}: is a folder; give a .tex or .md file")
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FileError(f"{path}: not UTF-8 text (a .tex or .md file is)") from None
    except OSError as error:
        raise FileError(f"{path}: cannot read it ({error.strerror})") from None


def check_path(path: Path, budget: float = BUDGET_S) -> dict:
    """The report of one file (``.tex`` or ``.md``/``.markdown``), see :func:`check_text`."""
    path = Path(path)
    text = read_derivation_file(path)
    markdown = path.suffix.lower() in (".md", ".markdown")
    return check_text(text, markdown=markdown, name=str(path), budget=budget)


def check_text(
    text: str, markdown: bool = False, name: str = "-", budget: float = BUDGET_S
) -> dict:
    """``{"file", "status", "seconds", "blocks": [...]}`` (the JSON of ``prove FILE``)."""
    started = time.perf_counter()
    try:
        blocks = find_blocks(text, markdown)
    except BlockError as error:
        raise FileError(f"{name}: {error}") from None
    setup = _warm() if blocks else 0.0
    reports = [check_block(block, budget) for block in blocks]
    statuses = [r["status"] for r in reports]
    return {
        "file": name,
        "status": _worst(statuses, "proved") if reports else "no-derivation",
        "seconds": round(time.perf_counter() - started, 3),
        "setup_seconds": round(setup, 3),
        "blocks": reports,
    }


def _warm() -> float:
    """Load the LaTeX parser and check the citable theorems once (cached in the process),
    so that a line's time is its own search; returns the seconds it took."""
    import derivations
    from gae_sym.homework.latex_reader import warm_up
    from gae_sym.proof import context_for

    started = time.perf_counter()
    warm_up()
    known = context_for([]).known
    for derivation in derivations.ALL:
        for proof in derivation.proofs:
            proof.check(known=known)
    return time.perf_counter() - started


def _worst(statuses: Sequence[str], ok: str) -> str:
    for status in ("unreadable", "false", "unjustified"):
        if status in statuses:
            return status
    return ok


def _line_entry(line, status, **fields) -> dict:
    entry = {
        "source_line": line.source_line,
        "column": line.column,
        "latex": line.latex,
        "status": status,
        "rule": None,
        "reason": line.reason,
        "why": None,
        "counterexample": None,
        "search": None,
        "seconds": 0.0,
    }
    entry.update(fields)
    return entry


def check_block(block: Block, budget: float = BUDGET_S, settable: Sequence[tuple] = ()) -> dict:
    """The report of one block: its status, its first wrong line and every line's verdict.

    ``settable``: (parameter, value) pairs a line may set besides the claimed theorem's
    (a homework question "GAE at λ = 1" sets λ = 1 without a claim).
    """
    import derivations
    from gae_sym.proof import context_for
    from gae_sym.proof.assumptions import STANDARD

    report = {
        "start_line": block.start_line,
        "environment": block.environment,
        "claim": block.claim,
        "claim_established": None,
        "claim_why": None,
        "assumptions": list(block.assumptions),
        "status": "proved",
        "first_wrong_line": None,
        "lines": [],
    }
    unknown = [a for a in block.assumptions if a not in STANDARD or a == "convention"]
    problem = None
    if unknown:
        known = ", ".join(k for k in STANDARD if k != "convention")
        problem = f"unknown assumption id(s) {', '.join(unknown)}; known: {known}"
    derivation = None
    if block.claim and problem is None:
        try:
            derivation = derivations.get(block.claim)
        except KeyError as error:
            problem = str(error).strip("'\"")
    if problem is None and block.error and not block.lines:
        problem = block.error[2]
    if problem is not None:
        report["status"] = "unreadable"
        report["first_wrong_line"] = block.start_line
        report["why"] = problem
        return report
    ctx = context_for(block.assumptions)
    lemmas = [p for d in derivations.ALL if d is not derivation for p in d.proofs]
    # A line may set a parameter (λ = 0) only to the values the claimed theorem sets.
    substitutions = sorted(
        {
            (k, v)
            for p in (derivation.proofs if derivation else ())
            for k, v in p.statement.at.items()
        }
        | set(settable),
        key=str,
    )
    exprs, entries = read_block(block)
    at: dict = {}
    previous: Expr | None = exprs[0]
    chain: list | None = []  # the steps from the first left side, while all are forward
    for index, line in enumerate(block.lines):
        entry = entries[index]
        current = exprs[index + 1]
        if entry is None and (current is None or previous is None):
            entry = _line_entry(
                line, "unjustified", why="the line before it could not be read: nothing to compare"
            )
        elif entry is None:
            if chain and _recursion_target(current, block.assumptions):
                entry = _recursion_step(line, exprs[0], chain, current, block.assumptions)
            if entry is None:
                entry = _check_step(
                    line,
                    previous,
                    current,
                    ctx,
                    block.assumptions,
                    lemmas,
                    at,
                    budget,
                    substitutions,
                )
            at.update(entry.pop("_at", {}))
        steps = entry.pop("_steps", None) if entry else None
        chain = chain + steps if (chain is not None and steps) else None
        entries[index] = entry
        if current is not None:
            previous = current
    report["lines"] = entries
    statuses = [e["status"] for e in entries]
    report["status"] = _worst(statuses, "proved")
    wrong = [e["source_line"] for e in entries if e["status"] != "justified"]
    report["first_wrong_line"] = wrong[0] if wrong else None
    if derivation is not None:
        established, why = _claim(derivation, exprs, at, block.assumptions, ctx, report["status"])
        report["claim_established"], report["claim_why"] = established, why
        if not established and report["status"] == "proved":
            report["status"] = "unjustified"
            report["first_wrong_line"] = entries[-1]["source_line"] if entries else block.start_line
    return report


def read_block(block: Block) -> tuple[list[Expr | None], list[dict | None]]:
    """The expressions (the first left side, then each line's right side) and the entries
    of the lines that cannot be read."""
    from gae_sym.derivation_check.reading import read_line

    exprs: list[Expr | None] = []
    entries: list[dict | None] = []
    for index, line in enumerate(block.lines):
        if block.error and block.error[0] == line.source_line and index == len(block.lines) - 1:
            if index == 0:
                exprs.append(None)
            exprs.append(None)
            entries.append(_line_entry(line, "unreadable", why=block.error[2]))
            continue
        sides = [line.lhs, line.rhs] if index == 0 else [line.rhs]
        why, spot = None, None
        for side in sides:
            try:
                exprs.append(read_line(side).expr)
            except AnswerError as error:
                exprs.append(None)
                where = "the left side" if side is line.lhs and index == 0 else "the line"
                if why is None:
                    why = f"{where}: {error}"
                    spot = _spot(line, str(error))
                    if spot is not None:
                        why += f" (line {spot[0]}, column {spot[1]})"
            except RecursionError:
                exprs.append(None)
                why = why or "nested too deeply: too complex to check"
        if why is None:
            entries.append(None)
            continue
        entry = _line_entry(line, "unreadable", why=why)
        if spot is not None:
            entry["error_line"], entry["error_column"] = spot
        entries.append(entry)
    return exprs, entries


def _spot(line, message: str) -> tuple[int, int] | None:
    """Where in the file the fragment a reader's message quotes ('\\alpha') stands."""
    for fragment in re.findall(r"'([^']+)'", message):
        for candidate in (fragment, fragment.split("(")[0].strip()):
            spot = line.position_of(candidate)
            if spot is not None:
                return spot
    return None


_VERDICTS: dict = {}
"""Verdicts of steps already checked in this process, by (before, after, assumptions, values
set, budget): a file checked again, or a variant of it, re-checks only the changed lines."""
_MAX_VERDICTS = 2000


def _check_step(line, before, after, ctx, declared, lemmas, at, budget, substitutions) -> dict:
    # srepr, not str: two expressions that print alike but differ in a symbol's assumptions
    # must not share a verdict.
    key = (srepr(before), srepr(after), tuple(declared), srepr(sorted(at.items(), key=str)))
    key = (*key, budget)
    key = (*key, str(substitutions))
    key = (*key, tuple(id(lemma) for lemma in lemmas))
    cached = _VERDICTS.get(key)
    if cached is None:
        cached = _check_step_uncached(
            line, before, after, ctx, declared, lemmas, at, budget, substitutions
        )
        if len(_VERDICTS) < _MAX_VERDICTS:
            _VERDICTS[key] = cached
    fields = {
        k: v for k, v in cached.items() if k not in ("source_line", "column", "latex", "reason")
    }
    return {**_line_entry(line, fields.pop("status")), **fields}


def _check_step_uncached(
    line, before, after, ctx, declared, lemmas, at, budget, substitutions
) -> dict:
    from gae_sym.proof.kernel import substitute
    from gae_sym.proof.refute import counterexample

    started = time.perf_counter()
    before_at = substitute(before, at) if at else before
    example = _counterexample(before_at, after, ctx, counterexample)
    could_substitute = any(before.has(s) and not after.has(s) for s, _ in substitutions)
    found, stats = (None, {"search": None})
    if example is None or could_substitute:
        found, stats = justify(before, after, ctx, declared, lemmas, budget, at, substitutions)
    seconds = round(time.perf_counter() - started, 3)
    if found is not None:
        return _line_entry(
            line,
            "justified",
            rule=" + ".join(found.rules),
            why=found.words,
            search=stats.get("search"),
            seconds=seconds,
            _at=found.at,
            _steps=found.forward_steps(),
        )
    if example is not None:
        labels = {str(e.base.label) for e in (before.atoms(Indexed) | after.atoms(Indexed))}
        example = {
            **example,
            "values": {k: v for k, v in example["values"].items() if k not in labels},
        }
        values = ", ".join(f"{k} = {_num(v)}" for k, v in example["values"].items())
        sequences = "; ".join(
            f"{label}: " + ", ".join(f"[{i}] = {v:.3g}" for i, v in sorted(entries.items()))
            for label, entries in sorted(example["sequences"].items())
        )
        why = (
            f"false under the declared assumptions: at {values}"
            + (f" ({sequences})" if sequences else "")
            + f", the previous line is {example['left']:.6g}"
            + f" and this line is {example['right']:.6g}"
        )
        return _line_entry(
            line,
            "false",
            why=why,
            counterexample={
                "values": example["values"],
                "sequences": {
                    k: {str(i): v for i, v in e.items()} for k, e in example["sequences"].items()
                },
                "previous": example["left"],
                "this_line": example["right"],
            },
            seconds=seconds,
        )
    refusal = _kernel_refusal(after, ctx)
    if refusal is None and _exactly_different(before_at, substitute(after, at) if at else after):
        return _line_entry(
            line,
            "false",
            why=(
                "the previous line minus this line is not zero, though it vanishes at "
                "every instance tried (a polynomial with a root at each, or a term too small "
                "to see there): decided exactly on their canonical forms"
            ),
            counterexample=None,
            seconds=seconds,
        )
    why = refusal or (
        f"equal at every instance tried, but no rule or pair of rules found within "
        f"{budget:g} CPU s ({stats.get('tried', 0)} proposals): not a proof"
    )
    return _line_entry(line, "unjustified", why=why, search=stats.get("search"), seconds=seconds)


def _exactly_different(before: Expr, after: Expr) -> bool:
    """Whether two lines in r, V, δ differ by a nonzero expression once in the canonical
    forms of ``gae-sym check`` (sums cancelled, or geometric in their index): decided
    exactly by :func:`gae_sym.homework.exact.nonzero`. Lines with Â, done flags, products
    or limits are not decided here (an assumption such as the recursion relates their
    entries)."""
    from sympy import Limit, Product, expand

    from gae_sym.homework.canonical import MAX_EXPANDED_TERMS, canonical, expanded_size
    from gae_sym.homework.exact import nonzero

    bases = {str(i.base.label) for e in (before, after) for i in e.atoms(Indexed)}
    if not bases <= {"r", "V", "delta"} or before.has(Limit, Product) or after.has(Limit, Product):
        return False
    try:
        if max(expanded_size(before), expanded_size(after)) > MAX_EXPANDED_TERMS:
            return False
        difference = expand(canonical(before) - canonical(after))
    except Exception:  # no canonical form (a divergent constant sum): not decided here
        return False
    return difference != 0 and nonzero(difference, {})


def _recursion_target(expr: Expr, declared) -> bool:
    from gae_sym.symbols import A, t

    return "recursion" in declared and expr == A[t]


def _recursion_step(line, first: Expr, chain: list, current: Expr, declared) -> dict | None:
    """The line \\hat{A}_t that ends a chain from a closed form F(t, N): justified when
    the whole chain, closed by the engine's SolveRecursion rule, is a proof ``Proof.check()``
    accepts (the line before must be the recursion applied to F(t + 1, N − 1), F(t, 0) = 0)."""
    from gae_sym.estimators import gae_recursion
    from gae_sym.proof import Proof, SolveRecursion, Statement, Step
    from gae_sym.proof.kernel import substitute
    from gae_sym.symbols import A, N, t

    def closed_form(time, steps):
        return substitute(first, {t: time, N: steps})

    started = time.perf_counter()
    words = (
        "the first line solves the backward recursion and is 0 with no steps left: by "
        "induction on N it is the recursion's solution"
    )
    rule = SolveRecursion(A, gae_recursion, closed_form, t, N)
    proof = Proof(
        "derivation", Statement(first, current), [*chain, Step(current, words, rule)], declared
    )
    try:
        if not set(proof.assumption_names()) <= set(declared) or proof.check() is not None:
            return None
    except Exception:  # the rule does not apply: the ordinary search decides the line
        return None
    return _line_entry(
        line,
        "justified",
        rule="solve-recursion",
        why=words,
        search="one",
        seconds=round(time.perf_counter() - started, 3),
    )


def _counterexample(before, after, ctx, counterexample):
    try:
        example = counterexample(before, after, ctx)
    except Exception:  # an instance that cannot be evaluated refutes nothing
        return None
    if example is not None:
        example["sequences"] = _window(before, after, ctx, example)
    return example


_WINDOW = 12
"""Sequence entries shown with a counterexample: from t to t + (n or N, at most this) + 1
(the instances draw n, N <= 8, so every entry a finite line reads is shown)."""


def _window(before, after, ctx, example) -> dict:
    """The entries of r, V, δ (… ) the two lines read near t, at the counterexample's
    instance: the same draw as :func:`gae_sym.proof.refute.counterexample` (seed 7), so
    the values are the ones that told the lines apart."""
    import numpy as np

    from gae_sym.proof import refute

    shown = {label: dict(entries) for label, entries in example["sequences"].items()}
    try:
        free = before.free_symbols | after.free_symbols
        symbols = {s for s in free if isinstance(s, Symbol)}
        rng = np.random.default_rng(7)
        for _ in range(6):
            env = refute._instance(symbols, ctx, rng)
            if env is None:
                return shown
            if {str(k): v for k, v in sorted(env.items(), key=str)} == example["values"]:
                cache: dict = {}
                refute._value(before, env, ctx, rng, cache, {})
                tables = refute._tables(env, ctx, rng, cache)
                break
            cache = {}
            try:
                refute._value(before, env, ctx, rng, cache, {})
                refute._value(after, env, ctx, rng, cache, {})
            except Exception:
                continue
        else:
            return shown
        values = {str(k): v for k, v in env.items()}
        start = int(values.get("t", 0))
        steps = int(min(_WINDOW, max(values.get("n", 0), values.get("N", 0), 2)))
        labels = {str(e.base.label) for e in (before.atoms(Indexed) | after.atoms(Indexed))}
        for label in sorted(labels & set(tables)):
            entries = tables[label]
            for index in range(start, start + steps + 2):
                if callable(entries):
                    value = float(entries(index))
                else:
                    value = float(entries[index + refute._OFFSET])
                if np.isfinite(value):
                    shown.setdefault(label, {})[index] = value
    except Exception:  # the window is a courtesy: the counterexample stands without it
        return shown
    return shown


def _kernel_refusal(expr, ctx) -> str | None:
    from gae_sym.proof.kernel import KernelError, check_line

    try:
        check_line(expr, ctx.facts, "the line")
    except KernelError as error:
        return f"the kernel cannot vouch for this line: {error}"
    return None


def _num(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.3g}"


def _claim(derivation, exprs, at, declared, ctx, status) -> tuple[bool, str]:
    from gae_sym.proof.kernel import equivalent

    if status != "proved":
        return False, "not every line is justified"
    first, last = exprs[0], exprs[-1]
    reasons = []
    for part in derivation.proofs:
        statement = part.statement
        names = set(part.assumption_names()) | {"n-ge-1", "horizon-ge-1"}
        extra = [a for a in declared if a not in names]
        if dict(statement.at) != at:
            reasons.append(
                f"{part.title}: sets {dict(statement.at) or 'no values'}, the block {at or 'none'}"
            )
            continue
        try:
            same = equivalent(first, statement.lhs, ctx.facts) and equivalent(
                last, statement.rhs, ctx.facts
            )
        except Exception:
            same = False
        if not same:
            reasons.append(f"{part.title}: the first and last lines are not its two sides")
            continue
        if extra:
            reasons.append(f"{part.title}: the block also assumes {', '.join(extra)}")
            continue
        return True, f"establishes '{part.title}' of {derivation.id}"
    return False, "; ".join(reasons)


__all__ = [
    "BLOCK_STATUSES",
    "LINE_STATUSES",
    "FileError",
    "check_block",
    "check_path",
    "check_text",
]
