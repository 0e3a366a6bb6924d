"""Find the justification of one step of a written derivation: the kernel decides.

For a pair of consecutive lines (``before``, ``after``) the search *proposes* rules of
:mod:`gae_sym.proof.rules` with parameters (which sum, which index, by how much, which
theorem) and keeps the first one whose :class:`~gae_sym.proof.core.Proof` chain
``Proof.check()`` accepts, under exactly the assumptions the block declares. Nothing here
decides an equality: a proposal that matches is re-run as a real proof, with the
kernel's language, definedness and convergence checks and the instance refutation.

Order of the search, within a time budget per line:

1. the kernel's algebra alone (expand, collect, linearity; the kernel's canonical form
   also moves every sum to start at 0, so a pure index shift is algebra);
2. one rule, applied to ``before`` (forward) or to ``after`` (read right to left: merging
   a term into a sum is splitting it off, read backwards);
3. two rules: forward then forward, or one from each end meeting in the middle (two
   proofs, before = middle = after).

A line that no proposal justifies is then evaluated at instances
(:func:`gae_sym.proof.refute.counterexample`): a disagreement makes it **false** (with the
instance), otherwise it stays **unjustified** (true where tried, not proved).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sympy import Expr, Indexed, Limit, Product, S, Sum, latex, oo

from gae_sym.proof import (
    ApplyTheorem,
    Canonicalise,
    GeometricSeries,
    Induction,
    PartialSums,
    Proof,
    RuleError,
    ShiftIndex,
    SplitFirst,
    SplitLast,
    Statement,
    Step,
    Substitute,
    SwapTriangle,
    TakeLimit,
    Unfold,
)
from gae_sym.proof.kernel import KernelError, canonical, check_line, equivalent
from gae_sym.symbols import N, delta, n

BUDGET_S = 2.0
"""Search time per line, in CPU seconds of this process (a proposal started before the
budget ends is finished)."""
SHIFTS = (1, -1, 2, -2)

_ERRORS = (RuleError, KernelError, ValueError, TypeError, NotImplementedError, AttributeError)


@dataclass(frozen=True)
class Proposal:
    """A rule with its parameters and the words that describe it."""

    rule: object
    words: str
    at: tuple = ()  # values a Substitute rule sets


@dataclass
class Justification:
    """What the search found for one step: the rules in words, and the proofs checked."""

    words: str
    rules: list[str]
    proofs: list[Proof]
    two_rules: bool
    at: dict

    def forward_steps(self) -> list | None:
        """The steps of a chain from ``before`` to ``after`` (None for a backward proof)."""
        if len(self.proofs) != 1 or self.words.endswith("read from right to left"):
            return None
        return list(self.proofs[0].steps)


def _sum_nodes(expr: Expr) -> list[Expr]:
    """Every sum and product of ``expr`` by its outermost index, inner sums of a
    multi-index Sum included (SymPy flattens Σ_n Σ_l into one Sum)."""
    nodes = []
    for node in sorted(S(expr).atoms(Sum, Product), key=str):
        for count in range(len(node.limits), 0, -1):
            nodes.append(node.func(node.function, *node.limits[:count]))
    unique = []
    for node in nodes:
        if node not in unique:
            unique.append(node)
    return unique


def _select(target: Expr):
    key = str(target)
    return lambda node: str(node) == key


def _range_words(node: Expr) -> str:
    var, lower, upper = node.limits[-1]
    kind = "sum" if isinstance(node, Sum) else "product"
    top = "∞" if upper == oo else str(upper)
    return f"the {kind} over {var} = {lower} … {top}"


def proposals(
    expr: Expr,
    other: Expr,
    declared: Sequence[str],
    lemmas: Sequence[Proof],
    substitutions: Sequence[tuple] = (),
) -> Iterator[Proposal]:
    """Rules to try on ``expr`` (towards ``other``), cheapest and likeliest first.

    ``substitutions`` are the (symbol, value) pairs a line may set: only those the claimed
    theorem sets (λ = 0 for gae-lambda0), so that a dropped γ is never "γ = 1"."""
    if expr.has(delta) or other.has(delta):
        from gae_sym.estimators import td_error, td_error_flagged

        times = sorted(
            {
                e.indices[0]
                for e in S(expr).atoms(Indexed)
                if e.base == delta and not _bound_in(e, expr)
            },
            key=str,
        )
        for definition, words in (
            (td_error, "inside a segment"),
            (td_error_flagged, "with the flags"),
        ):
            if definition is td_error and "segment" not in declared:
                continue
            yield Proposal(Unfold(delta, definition), f"definition of δ ({words})")
            for time_ in times:
                yield Proposal(
                    Unfold(delta, definition, at=(time_,)),
                    f"definition of δ_{{{time_}}} ({words})",
                )
    nodes = _sum_nodes(expr)
    for node in nodes:
        var, lower, upper = node.limits[-1]
        where = _range_words(node)
        if upper != oo:
            yield Proposal(
                SplitLast(var, select=_select(node)),
                f"split off the last term {var} = {upper} of {where}",
            )
        yield Proposal(
            SplitFirst(var, select=_select(node)),
            f"split off the first term {var} = {lower} of {where}",
        )
    for node in nodes:
        var = node.limits[-1][0]
        where = _range_words(node)
        if isinstance(node, Sum):
            yield Proposal(GeometricSeries(var, select=_select(node)), f"geometric series: {where}")
        if isinstance(node, Sum) and len(node.limits) > 1:
            inner = node.limits[-2][0]
            yield Proposal(
                SwapTriangle(var, inner),
                f"swap the order of summation over the triangle of ({var}, {inner})",
            )
    for symbol, value in substitutions:
        if expr.has(symbol) and not other.has(symbol):
            yield Proposal(
                Substitute({symbol: value}),
                f"set {symbol} = {value}",
                at=((symbol, S(value)),),
            )
    limits = [node for node in S(other).atoms(Limit)]
    if limits and not S(expr).has(Limit) and _has_infinite(expr):
        for node in limits:
            yield Proposal(
                PartialSums(node.args[1]),
                f"a series is the limit of its partial sums ({node.args[1]} → ∞)",
            )
    if isinstance(expr, Limit) and not S(other).has(Limit):
        yield Proposal(TakeLimit(), f"take the limit {expr.args[1]} → ∞ term by term")
    free = (S(expr).free_symbols | S(other).free_symbols) & {n, N}
    # Limit variables (lim_{N → ∞}) may instantiate a theorem's n too.
    free |= {node.args[1] for node in S(expr).atoms(Limit) | S(other).atoms(Limit)}
    for var in sorted(free - {node.args[1] for node in S(expr).atoms(Limit)}, key=str):
        if not _has_infinite(expr) and not _has_infinite(other):
            yield Proposal(Induction(var, base=1), f"induction on {var} from {var} = 1")
    yield from _theorem_proposals(expr, other, declared, lemmas, free)
    # The kernel's canonical form starts every sum at 0, so a shift alone is algebra; as
    # a rule it matters only when another rule must act on the shifted sum.
    for node in nodes:
        var = node.limits[-1][0]
        for by in SHIFTS:
            yield Proposal(
                ShiftIndex(var, select=_select(node), by=by),
                f"shift the index of {_range_words(node)} by {by:+d}",
            )


def _bound_in(element: Expr, expr: Expr) -> bool:
    """Whether the index of ``element`` mentions a summation variable of ``expr``."""
    bound = {lim[0] for node in S(expr).atoms(Sum, Product) for lim in node.limits}
    return bool(element.free_symbols & bound)


def _has_infinite(expr: Expr) -> bool:
    return any(b == oo for node in S(expr).atoms(Sum) for lim in node.limits for b in lim[1:])


def _labels(expr: Expr) -> set:
    return {e.base.label for e in S(expr).atoms(Indexed)}


def _theorem_proposals(expr, other, declared, lemmas, free) -> Iterator[Proposal]:
    mine = _labels(expr)
    for lemma in lemmas:
        statement = lemma.statement
        names = lemma.assumption_names()
        renamed = {}
        if "n-ge-1" in names and "n-ge-1" not in declared and "horizon-ge-1" in declared:
            renamed = {"n-ge-1": "horizon-ge-1"}
        if any(renamed.get(a, a) not in declared for a in names):
            continue
        lemma_free = (S(statement.lhs).free_symbols | S(statement.rhs).free_symbols) & {n, N}
        instances = [{}]
        for symbol in lemma_free:
            instances += [{symbol: value} for value in free if value != symbol]
        for reverse in (False, True):
            old = statement.rhs if reverse else statement.lhs
            if not _labels(old) <= mine:
                continue
            for instance in instances:
                shown = ", ".join(f"{k} = {v}" for k, v in instance.items())
                words = f"the proved theorem '{_plain(lemma.title)}'" + (
                    f" with {shown}" if shown else ""
                )
                if reverse:
                    words += ", read from right to left"
                yield Proposal(
                    ApplyTheorem(lemma, instance, reverse=reverse, renamed=renamed), words
                )


def _plain(title: str) -> str:
    return title.replace("$", "").replace("\\lambda", "λ").replace("\\gamma", "γ")


def _produce(proposal: Proposal, source: Expr, target: Expr, ctx) -> Expr | None:
    try:
        return proposal.rule.apply(source, target, ctx)
    except _ERRORS:
        return None


def _matches(proposal: Proposal, produced: Expr, target: Expr, ctx) -> bool:
    try:
        rule = proposal.rule
        return equivalent(rule.normalise(produced), rule.normalise(target), ctx.facts)
    except _ERRORS:
        return False


def _proof(source, target, steps, declared, at) -> Proof | None:
    """The chain as a Proof, if ``Proof.check()`` accepts it under the declared names only."""
    proof = Proof(
        "derivation line", Statement(source, target, at=dict(at)), steps, assumptions=declared
    )
    try:
        if not set(proof.assumption_names()) <= set(declared):
            return None
        return proof if proof.check() is None else None
    except _ERRORS:
        return None


def justify(
    before: Expr,
    after: Expr,
    ctx,
    declared: Sequence[str],
    lemmas: Sequence[Proof],
    budget: float = BUDGET_S,
    at: dict | None = None,
    substitutions: Sequence[tuple] = (),
) -> tuple[Justification | None, dict]:
    """The justification of ``before = after`` (None when none is found) and statistics.

    ``at`` holds the values set by earlier lines (λ = 0 after "set λ = 0"): the step is
    checked as a statement at those values.
    """
    for lemma in lemmas:
        # Cited theorems are checked once per process (cached), outside the line's budget.
        lemma.check(known=ctx.known)
    # The budget is CPU time: on a loaded machine wall time would cut the search short
    # for reasons that have nothing to do with the line (the worker's hard limit is wall time).
    started = time.process_time()
    deadline = started + budget
    at = dict(at or {})
    declared = list(declared)
    stats = {"tried": 0, "search": "one"}

    def done() -> bool:
        return time.process_time() > deadline

    # 1. algebra.
    algebra = Proposal(Canonicalise(), "equal by algebra (expand, collect, linearity)")
    stats["tried"] += 1
    if _matches(algebra, before, after, ctx):
        proof = _proof(before, after, [Step(after, algebra.words, algebra.rule)], declared, {})
        if proof is not None:
            return Justification(algebra.words, ["canonicalise"], [proof], False, {}), stats
    # 2. one rule, forward then backward; the results are kept for the two-rule search.
    forward: list[tuple[Proposal, Expr]] = []
    for proposal in proposals(before, after, declared, lemmas, substitutions):
        if done():
            break
        stats["tried"] += 1
        produced = _produce(proposal, before, after, ctx)
        if produced is None:
            continue
        step_at = dict(proposal.at)  # earlier substitutions are already in ``before``
        if _matches(proposal, produced, after, ctx):
            step = Step(after, proposal.words, proposal.rule)
            proof = _proof(before, after, [step], declared, step_at)
            if proof is not None:
                return Justification(
                    proposal.words, [proposal.rule.name], [proof], False, dict(proposal.at)
                ), stats
        if not proposal.at:
            forward.append((proposal, produced))
    backward: list[tuple[Proposal, Expr]] = []
    for proposal in proposals(after, before, declared, lemmas):
        if done():
            break
        if proposal.at or isinstance(proposal.rule, (Induction, Unfold)):
            continue  # a substitution or an induction is not read backwards
        stats["tried"] += 1
        produced = _produce(proposal, after, before, ctx)
        if produced is None:
            continue
        if _matches(proposal, produced, before, ctx):
            proof = _proof(
                after, before, [Step(before, proposal.words, proposal.rule)], declared, {}
            )
            if proof is not None:
                words = f"{proposal.words}, read from right to left"
                return Justification(words, [proposal.rule.name], [proof], False, {}), stats
        backward.append((proposal, produced))
    # 3. two rules: meet in the middle (cheap: canonical forms compared), then forward twice.
    stats["search"] = "two"
    found = _meet(before, after, forward, backward, ctx, declared, at, done, stats)
    if found is not None:
        return found, stats
    for first, middle in forward:
        if done():
            break
        if _unusable(middle, ctx):
            continue
        for proposal in proposals(middle, after, declared, lemmas):
            if done():
                break
            if proposal.at:
                continue
            stats["tried"] += 1
            produced = _produce(proposal, middle, after, ctx)
            if produced is None or not _matches(proposal, produced, after, ctx):
                continue
            steps = [
                Step(middle, first.words, first.rule),
                Step(after, proposal.words, proposal.rule),
            ]
            proof = _proof(before, after, steps, declared, {})
            if proof is not None:
                words = f"{first.words}; then {proposal.words}"
                return Justification(
                    words, [first.rule.name, proposal.rule.name], [proof], True, {}
                ), stats
    return None, stats


def _unusable(expr: Expr, ctx) -> bool:
    try:
        check_line(expr, ctx.facts, "the middle line")
    except _ERRORS:
        return True
    return False


def _meet(before, after, forward, backward, ctx, declared, at, done, stats):
    """before → middle ← after: one rule from each end reaching the same line."""
    keys = {}
    for proposal, middle in forward:
        if done():
            return None
        try:
            keys.setdefault(_key(proposal, middle, ctx), []).append((proposal, middle))
        except _ERRORS:
            continue
    for back, middle_b in backward:
        if done():
            return None
        try:
            key = _key(back, middle_b, ctx)
        except _ERRORS:
            continue
        for first, middle in keys.get(key, []):
            stats["tried"] += 1
            if _unusable(middle, ctx) or not equivalent(middle, middle_b, ctx.facts):
                continue
            one = _proof(before, middle, [Step(middle, first.words, first.rule)], declared, {})
            two = _proof(after, middle, [Step(middle, back.words, back.rule)], declared, {})
            if one is not None and two is not None:
                words = f"{first.words}; then {back.words}, read from right to left"
                return Justification(words, [first.rule.name, back.rule.name], [one, two], True, {})
    return None


def _key(proposal: Proposal, expr: Expr, ctx) -> str:
    return str(canonical(expr, ctx.facts))


def describe_latex(expr: Expr) -> str:
    return latex(expr)


__all__ = ["BUDGET_S", "Justification", "Proposal", "justify", "proposals"]
