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

from sympy import Expr, Indexed, Pow, Product, Sum, oo

from gae_sym.proof.canonical import canonical, equivalent
from gae_sym.proof.rules import Rule, RuleError, Substitute

_MAX_WHY = 300


@dataclass(frozen=True)
class Assumption:
    """A named hypothesis of a theorem: a short id, the words, and its LaTeX.

    Splitting, merging and reordering infinite sums (linearity, canonical forms) is valid
    only for absolutely convergent series, so an assumption says which series it makes
    converge: ``bounded`` names the sequences it bounds (IndexedBase labels, e.g.
    ``"delta"``) and ``ratios`` the expressions it puts in [0, 1) (γλ, λ). A series
    Σ_{x≥a} f(x) in a proof is accepted when every sequence element that moves with x is
    bounded and f decays geometrically: powers q^{x+c} whose bases include all symbols
    of one of the ratios (see :func:`series_problem`).
    """

    name: str
    text: str
    latex: str
    bounded: tuple[str, ...] = ()
    ratios: tuple[Expr, ...] = ()

    @property
    def convergence(self) -> bool:
        """True for an assumption that makes some series converge."""
        return bool(self.ratios)


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


@dataclass(eq=False)
class Proof:
    """A statement and the chain of steps that proves it; ``check`` runs the chain."""

    title: str
    statement: Statement
    steps: Sequence[Step]
    assumptions: Sequence[str] = ()
    _outcome: tuple | None = field(default=None, init=False, repr=False)
    _checked: bool = field(default=False, init=False, repr=False)

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
        names = list(self.assumptions)
        for step in self.steps:
            names += [a for a in step.rule.assumptions() if a not in names]
        return names

    def check(self, refresh: bool = False) -> tuple[int, str] | None:
        """None when every step is accepted, else (step number, why).

        Cached, so a lemma cited by several derivations is checked once; ``refresh``
        runs the chain again.
        """
        if refresh or not self._checked:
            self._outcome = self._run()
            self._checked = True
        return self._outcome

    def _run(self) -> tuple[int, str] | None:
        previous = self.statement.lhs
        for number, step in enumerate(self.steps, start=1):
            rule = step.rule
            try:
                rule.check_origin(self.statement.lhs)
                produced = rule.apply(previous, step.expr)
                accepted = equivalent(rule.normalise(produced), rule.normalise(step.expr))
            except RuleError as error:
                return number, _clip(f"rule {rule.name} does not apply: {error}")
            except (ValueError, TypeError, NotImplementedError, AttributeError) as error:
                return number, _clip(
                    f"rule {rule.name}: SymPy raised {type(error).__name__}: {error}"
                )
            if not accepted:
                gap = canonical(rule.normalise(step.expr) - rule.normalise(produced))
                return number, _clip(
                    f"rule {rule.name} does not give the line written "
                    f"(written minus justified, canonical: {gap}; not shown to be 0)"
                )
            previous = step.expr
        if not equivalent(previous, self.statement.rhs):
            gap = canonical(previous - self.statement.rhs)
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
        return None


# δ_t = r_t + γ V(s_{t+1}) − V(s_t) is bounded when rewards and values are.
_BOUNDED_BY_DEFINITION = {"delta": ("r", "V")}


def series_problem(expr: Expr, bounded: set[str], ratios: Sequence[Expr]) -> str | None:
    """Why an infinite series in the canonical form of ``expr`` may diverge, else None.

    Each sum written in ``expr`` is put in canonical form on its own (split term by term,
    so this sees every series a linearity step creates, and no series cancels against
    another one written beside it). Σ_{x≥a} f(x) passes when (1) every sequence element
    whose index moves with x (or with a variable of a sum nested in f) belongs to a
    ``bounded`` sequence, and (2) f holds powers q^{x+c} (or the tail Σ_{y≥x+c} of such
    powers) whose bases contain every symbol of one of ``ratios``: a bounded sequence
    times a geometric weight below one, or such a weight times a polynomial in x,
    converges absolutely.
    """
    bounded = set(bounded)
    for name, parts in _BOUNDED_BY_DEFINITION.items():
        if set(parts) <= bounded:
            bounded.add(name)
    series = {part for written in expr.atoms(Sum) for part in canonical(written).atoms(Sum)}
    for node in sorted(series, key=str):
        var, _, upper = node.limits[-1]
        if upper != oo:
            continue
        body = node.function
        moving = {var} | {lim[0] for inner in body.atoms(Sum, Product) for lim in inner.limits}
        for element in body.atoms(Indexed):
            label = str(element.base.label)
            if any(i.free_symbols & moving for i in element.indices) and label not in bounded:
                return f"the series {node} needs a bounded {label}: no assumption states it"
        bases: set = set()
        for power in body.atoms(Pow):
            if power.exp.has(var):
                bases |= power.base.free_symbols
        for tail in body.atoms(Sum):
            y, lower, top = tail.limits[-1]
            if top == oo and lower.has(var):
                for power in tail.function.atoms(Pow):
                    if power.exp.has(y):
                        bases |= power.base.free_symbols
        if not any(ratio.free_symbols <= bases for ratio in ratios):
            return f"the series {node} has no geometric weight that an assumption puts below one"
    return None


def _divergence(proof: Proof, assumptions: Sequence[Assumption]) -> tuple[int, str] | None:
    """The first line of ``proof`` holding a series its assumptions do not make converge.

    Lines are numbered as steps (the left side counts as line 1, the right side as the
    line after the last step); a cited result's lines count as the citing step's.
    """
    bounded = {name for a in assumptions for name in a.bounded}
    ratios = [ratio for a in assumptions for ratio in a.ratios]
    numbered = [(1, proof.statement.lhs, None)]
    numbered += [(i, s.expr, getattr(s.rule, "lemma", None)) for i, s in enumerate(proof.steps, 1)]
    numbered.append((len(proof.steps) + 1, proof.statement.rhs, None))
    for number, line, lemma in numbered:
        problem = series_problem(line, bounded, ratios)
        if problem is None and lemma is not None:
            # A cited result's series must converge under this theorem's assumptions too.
            inner = _divergence(lemma, assumptions)
            problem = None if inner is None else f"in the cited '{lemma.title}': {inner[1]}"
        if problem:
            if not ratios:
                problem = f"infinite sums without a stated convergence assumption ({problem})"
            return number, _clip(problem)
    return None


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

    def verify(self) -> Result:
        """Check every proof; the first failing step (numbered across parts) and why."""
        start = time.perf_counter()
        failed, why, offset = None, None, 0
        declared = {a.name: a for a in self.assumptions}
        for proof in self.proofs:
            names = proof.assumption_names()
            undeclared = [a for a in names if a not in declared]
            outcome = proof.check(refresh=True)
            if undeclared:
                outcome = (1, f"cites undeclared assumption(s): {', '.join(undeclared)}")
            elif outcome is None and proof.has_infinite_sum():
                outcome = _divergence(proof, [declared[a] for a in names])
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


__all__ = ["Assumption", "Derivation", "Proof", "Result", "Statement", "Step"]
