"""Statements, steps, proofs and derivations, and the checker that runs them.

A :class:`Proof` is a statement ``lhs = rhs`` and a chain of :class:`Step` objects.
Each step holds the expression a lecturer writes on the board (built with
``evaluate=False`` where the order of terms matters), the reason in words, and the
:class:`~gae_sym.proof.rules.Rule` that SymPy executes. Step i is accepted only when
the rule, applied to the expression of step i − 1 (the left side for the first step),
gives something whose canonical form equals that of the written expression. The last
expression must equal the right side.

A :class:`Derivation` groups the proofs of one theorem (e.g. its finite and infinite
horizon forms), its named assumptions and its prose; it is what ``derivations/``
modules export and what ``gae-sym prove``, ``gae-sym latex`` and the notes use.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sympy import Expr, Sum, oo

from gae_sym.proof.assumptions import CONVENTION, STANDARD
from gae_sym.proof.facts import Assumption, Facts
from gae_sym.proof.kernel import KernelError, canonical, check_line, equivalent
from gae_sym.proof.rules import ENGINE_RULES, Rule, RuleError, Substitute, hidden_parameters

_MAX_WHY = 300


@dataclass(frozen=True)
class Step:
    """One line of a derivation: what is written, why, and the rule that checks it."""

    expr: Expr
    reason: str
    rule: Rule


@dataclass(frozen=True)
class Statement:
    """``lhs = rhs``; ``at`` specialises parameters (λ = 0) after the identities that
    hold for all of them, and ``lhs_latex`` names the left side in lecture notation."""

    lhs: Expr
    rhs: Expr
    lhs_latex: str | None = None
    rhs_latex: str | None = None
    at: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What a proof may use: the assumptions in force (by name) and their typed facts."""

    known: Mapping[str, Assumption]
    names: tuple[str, ...]
    facts: Facts

    def lemma_outcome(self, lemma: Proof) -> tuple[int, str] | None:
        """A cited result is checked under the same meaning of assumption names."""
        return lemma.check(known=self.known)

    def lemma_facts(self, lemma: Proof) -> Facts:
        """The facts a cited result was proved under (with the convention)."""
        return lemma.context(self.known).facts


def _monomial(expr: Expr) -> bool:
    """A key a range fact may be about: a product of symbols (γλ), or one free sequence
    (one with no definition in force) — an element w_a or a total Σ_j w_j — which some
    sequence satisfies. A fact about anything else (Σ_{x≤N} 1, γ − λ) could be false for
    every value and make every proof under it vacuous."""
    from sympy import Indexed, Integer, Mul, Symbol

    from gae_sym.symbols import A, U, W, delta

    def free_element(node) -> bool:
        return isinstance(node, Indexed) and node.base not in (A, delta, W, U)

    if free_element(expr):
        return True
    if isinstance(expr, Sum) and len(expr.limits) == 1:
        var, lower, upper = expr.limits[0]
        body = expr.function
        bounds_free = not (lower.has(var) or upper.has(var))
        return free_element(body) and body.indices[0] == var and bounds_free
    for factor in Mul.make_args(expr):
        base, exp = factor.as_base_exp()
        if not (isinstance(base, Symbol) and isinstance(exp, Integer) and exp > 0):
            return False
    return True


def _numeric_end(end) -> bool:
    from sympy import Number, S, oo

    end = S(end)
    return end in (oo, -oo) or (isinstance(end, Number) and end.is_Rational)


def _mentions(key, *labels: str) -> bool:
    """Whether ``key`` holds an element of one of the project's sequences ``labels``."""
    from sympy import Indexed

    from gae_sym.symbols import PROJECT_SEQUENCES

    bases = {PROJECT_SEQUENCES[label] for label in labels}
    return any(element.base in bases for element in key.atoms(Indexed))


_DECLARABLE = ("integer", "rational", "positive", "negative", "nonnegative", "nonpositive")
_DECLARABLE += ("nonzero", "zero", "even", "odd", "prime", "composite")


def _check_values(facts: Facts) -> None:
    """``values`` facts (x_u = c for lo ≤ u ≤ hi) must be satisfiable together, so that no
    proof under them is vacuous: only about a free sequence (r, V, the mask, or one of the
    derivation's own; never δ, A, W, U, V' or the flags, whose values definitions and the
    convention fix), an exact number, integer bounds in the kernel's language, no range
    fact about the same sequence, and two facts giving different values must be shown to
    be about disjoint ranges."""
    from sympy import Dummy, Indexed, IndexedBase, Number

    from gae_sym.proof.kernel import check_language, nonneg
    from gae_sym.symbols import PROJECT_SEQUENCES, V, mask, r

    for base, lo, hi, value in facts.values:
        if not isinstance(base, IndexedBase):
            raise RuleError(f"a fact about values must be about a sequence, not {base!r}")
        label = str(base.label)
        if label in PROJECT_SEQUENCES and base != PROJECT_SEQUENCES[label]:
            raise RuleError(f"this {label} is not the project's sequence of that name")
        if label in PROJECT_SEQUENCES and base not in (r, V, mask):
            raise RuleError(
                f"{label} is fixed by a definition or the convention: no fact may give its values"
            )
        if not (isinstance(value, Number) and value.is_Rational):
            raise RuleError(f"a fact gives {label} the value {value}: only exact numbers")
        element = base[Dummy("u", integer=True)]
        for name in _DECLARABLE:
            if getattr(element, f"is_{name}") is True and getattr(value, f"is_{name}") is not True:
                raise RuleError(
                    f"{label} is declared {name}: the value {value} a fact gives it is not"
                )
        for bound in (lo, hi):
            try:
                check_language(bound, "a range of a fact about values")
            except KernelError as error:
                raise RuleError(str(error)) from None
            if bound.is_integer is not True or bound.has(Indexed, Sum):
                raise RuleError(f"the range bound {bound} is not an integer expression")
        if any(key.has(base) for key, _ in facts.ranges):
            raise RuleError(f"both a range fact and a fact about values speak of {label}")
    for number, (base, lo, hi, value) in enumerate(facts.values):
        for other, lo2, hi2, value2 in facts.values[number + 1 :]:
            if other != base or value == value2:
                continue
            apart = (
                nonneg(lo2 - hi - 1, facts)
                or nonneg(lo - hi2 - 1, facts)
                or nonneg(lo - hi - 1, facts)
                or nonneg(lo2 - hi2 - 1, facts)
            )
            if not apart:
                raise RuleError(
                    f"the facts give {base.label} the values {value} on {lo}..{hi} and "
                    f"{value2} on {lo2}..{hi2}: not shown to be about different positions"
                )


def context_for(names: Sequence[str], known: Mapping[str, Assumption] | None = None) -> Context:
    """The context of a proof stating ``names`` (ids of STANDARD, or of ``known``)."""
    return Proof("context", Statement(0, 0), [], list(names)).context(known)


@dataclass(eq=False)
class Proof:
    """A statement and the chain of steps that proves it; ``check`` runs the chain.

    ``assumptions`` names the hypotheses (ids of :data:`gae_sym.proof.assumptions.STANDARD`
    or of the derivation's own), or gives :class:`Assumption` objects; rules add the ones
    they cite. The facts of those assumptions, plus the convention γ, λ ∈ [0, 1], are all
    a step may use.
    """

    title: str
    statement: Statement
    steps: Sequence[Step]
    assumptions: Sequence = ()
    _outcomes: dict = field(default_factory=dict, init=False, repr=False)

    def has_infinite_sum(self) -> bool:
        exprs = [self.statement.lhs, self.statement.rhs] + [s.expr for s in self.steps]
        return any(
            limit[2] == oo or limit[1] == -oo
            for e in exprs
            for node in e.atoms(Sum)
            for limit in node.limits
        )

    def assumption_names(self) -> list[str]:
        """The assumptions this proof states, plus those its rules cite."""
        names = [a.name if isinstance(a, Assumption) else a for a in self.assumptions]
        for step in self.steps:
            names += [a for a in step.rule.assumptions() if a not in names]
        return names

    def context(self, known: Mapping[str, Assumption] | None = None) -> Context:
        """The assumptions in force, resolved by name (``known`` first, then STANDARD)."""
        table = dict(STANDARD)
        table.update(known or {})
        table.update({a.name: a for a in self.assumptions if isinstance(a, Assumption)})
        names = tuple(self.assumption_names())
        unknown = [name for name in names if name not in table]
        if unknown:
            raise RuleError(f"unknown assumption(s): {', '.join(unknown)}")
        facts = CONVENTION.facts
        for name in names:
            facts = facts | table[name].facts
        for key, interval in facts.ranges:
            if not _monomial(key):
                raise RuleError(
                    "a range fact may only be about symbols, their products or one free "
                    f"sequence: {key}"
                )
            if not all(_numeric_end(end) for end in (interval.lo, interval.hi)):
                raise RuleError(
                    f"a range fact's interval must have numbers (or ±oo) as ends: {key} in "
                    f"{interval}"
                )
            if _mentions(key, "d", "term"):
                raise RuleError(
                    f"the convention fixes the flags to 0 or 1: no range fact about {key}"
                )
            if "delta-segment" in facts.definitions and _mentions(key, "V'"):
                # inside a segment V(s'_t) is V(s_{t+1}): a fact about one alone could
                # contradict the other's
                raise RuleError(f"inside a segment V' is V one step later: no range fact on {key}")
            if isinstance(key, Sum) and all(
                b.is_number for b in (key.limits[0][1], key.limits[0][2])
            ):
                raise RuleError(
                    f"a range fact on a sum with numeric bounds is about its elements: state "
                    f"it on them, not on {key}"
                )
            interval = facts.interval(key)
            if interval.lo > interval.hi or (
                interval.lo == interval.hi and (interval.lo_open or interval.hi_open)
            ):
                # From contradictory facts everything would follow, vacuously.
                raise RuleError(f"the assumptions in force contradict each other about {key}")
        _check_values(facts)
        return Context(table, names, facts)

    def check(
        self, refresh: bool = False, known: Mapping[str, Assumption] | None = None
    ) -> tuple[int, str] | None:
        """None when every step is accepted, else (step number, why).

        Cached per meaning of the assumption names, so a lemma cited by several
        derivations is checked once; ``refresh`` runs the chain again.
        """
        known = dict(known or {})
        key = tuple(sorted((k, id(v)) for k, v in known.items()))
        # The proof is a plain object: a cached outcome counts only for the content it was
        # computed from (a statement or step replaced afterwards is checked anew), and the
        # entry keeps the assumption objects alive, so no other object can reuse their ids.
        content = self._content()
        cached = self._outcomes.get(key)
        if refresh or cached is None or cached[0] != content:
            self._outcomes[key] = (content, self._run(known), tuple(known.values()))
        return self._outcomes[key][1]

    def _content(self) -> tuple:
        statement = self.statement
        at = tuple(sorted(dict(statement.at).items(), key=str))
        steps = tuple((step.expr, step.rule, step.reason) for step in self.steps)
        return (statement.lhs, statement.rhs, at, steps, tuple(self.assumptions))

    def _run(self, known) -> tuple[int, str] | None:
        try:
            ctx = self.context(known)
        except RuleError as error:
            return 1, _clip(str(error))
        try:
            check_line(self.statement.lhs, ctx.facts, "the left side")
        except KernelError as error:
            return 1, _clip(str(error))
        fixed = set(self.statement.at) & (
            hidden_parameters(self.statement.lhs) | hidden_parameters(self.statement.rhs)
        )
        if fixed:
            return 1, (
                f"the statement fixes {sorted(fixed, key=str)[0]}, on which a sequence in it "
                "depends through its definition: the sequence would silently change meaning"
            )
        previous = self.statement.lhs
        for number, step in enumerate(self.steps, start=1):
            rule = step.rule
            if type(rule) not in ENGINE_RULES:
                return number, f"{type(rule).__name__} is not one of the engine's rules"
            try:
                rule.check_origin(self.statement.lhs, ctx)
                check_line(step.expr, ctx.facts, "the line written")
                produced = rule.apply(previous, step.expr, ctx)
                check_line(produced, ctx.facts, f"the line rule {rule.name} gives")
                accepted = equivalent(
                    rule.normalise(produced), rule.normalise(step.expr), ctx.facts
                )
            except (RuleError, KernelError) as error:
                return number, _clip(f"rule {rule.name} does not apply: {error}")
            except (ValueError, TypeError, NotImplementedError, AttributeError) as error:
                return number, _clip(
                    f"rule {rule.name}: SymPy raised {type(error).__name__}: {error}"
                )
            if not accepted:
                gap = canonical(rule.normalise(step.expr) - rule.normalise(produced), ctx.facts)
                return number, _clip(
                    f"rule {rule.name} does not give the line written "
                    f"(written minus justified, canonical: {gap}; not shown to be 0)"
                )
            previous = step.expr
        try:
            check_line(self.statement.rhs, ctx.facts, "the right side")
            last_ok = equivalent(previous, self.statement.rhs, ctx.facts)
        except KernelError as error:
            return len(self.steps) + 1, _clip(str(error))
        if not last_ok:
            gap = canonical(previous - self.statement.rhs, ctx.facts)
            return len(self.steps) + 1, _clip(
                f"the last line is not the right-hand side (difference, canonical: {gap})"
            )
        # Substituting specialises the chain: it then proves lhs = rhs only at those values,
        # which the statement must say.
        substituted: dict = {}
        for number, step in enumerate(self.steps, start=1):
            if isinstance(step.rule, Substitute):
                values = dict(step.rule.values)
                if any(self.statement.at.get(k) != v for k, v in values.items()):
                    return number, "the step substitutes values the statement does not fix"
                substituted.update(values)
        if substituted != dict(self.statement.at):
            return len(self.steps) + 1, "the statement specialises parameters no step substitutes"
        from gae_sym.proof.refute import first_disagreement

        return first_disagreement(self, ctx)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_WHY else text[: _MAX_WHY - 3] + "..."


@dataclass(frozen=True)
class Result:
    """The outcome of :meth:`Derivation.verify` (fields are the JSON contract of prove)."""

    id: str
    status: str
    seconds: float
    failed_step: int | None
    why: str | None
    assumptions: list[str]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "seconds": round(self.seconds, 4),
            "assumptions": self.assumptions,
            "failed_step": self.failed_step,
            "why": self.why,
        }


@dataclass(eq=False)
class Derivation:
    """One theorem: its id, title, summary, named assumptions and proofs (parts)."""

    id: str
    title: str
    summary: str
    assumptions: Sequence[Assumption]
    proofs: Sequence[Proof]
    notation: Sequence = ()
    """Display abbreviations (:class:`gae_sym.proof.render.Notation`); never checked."""

    def verify(self) -> Result:
        """Check every proof; the first failing step (numbered across parts) and why."""
        start = time.perf_counter()
        failed, why, offset = None, None, 0
        declared = {a.name: a for a in self.assumptions}
        for proof in self.proofs:
            undeclared = [a for a in proof.assumption_names() if a not in declared]
            if undeclared:
                outcome = (1, f"cites undeclared assumption(s): {', '.join(undeclared)}")
            else:
                outcome = proof.check(refresh=True, known=declared)
            if outcome is not None:
                failed, why = offset + outcome[0], f"{proof.title}: {outcome[1]}"
                break
            offset += len(proof.steps)
        return Result(
            id=self.id,
            status="proved" if failed is None else "failed",
            seconds=time.perf_counter() - start,
            failed_step=failed,
            why=why,
            assumptions=[a.name for a in self.assumptions],
        )

    def to_latex(self) -> str:
        from gae_sym.proof.render import derivation_latex

        return derivation_latex(self)

    def to_markdown(self) -> str:
        from gae_sym.proof.render import derivation_markdown

        return derivation_markdown(self)


__all__ = [
    "Assumption",
    "Context",
    "Derivation",
    "Proof",
    "Result",
    "Statement",
    "Step",
    "context_for",
]
