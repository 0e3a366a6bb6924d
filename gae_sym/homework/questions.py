"""The question catalogue: ids, question text, reference forms and known mistakes.

Reference expressions come from :mod:`gae_sym.estimators` (the definitions the proofs use).
Each question lists *forms*: expressions equal to the reference, each with the theorem that
makes it equal and that theorem's assumptions; an answer structurally or algebraically equal
to a form is correct by that theorem. Known mistakes are written in the plain-text answer
notation (:mod:`gae_sym.homework.text_reader`) and matched numerically at the test points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sympy import Expr, Integer

from gae_sym import estimators as est
from gae_sym.homework.build import AnswerError
from gae_sym.symbols import V, delta, lam, n, t


@dataclass(frozen=True)
class Form:
    """An expression equal to the reference, with the reason and the assumptions it needs."""

    name: str
    expr: Expr
    theorem: str = "definition"
    assumptions: tuple[str, ...] = ()

    def holds_at(self, point) -> bool:
        """Whether the test ``point`` (its γ and λ) satisfies every assumption of this form."""
        return all(assumption_holds(a, point.gamma, point.lam) for a in self.assumptions)


_PARAMETER_RANGE = re.compile(r"^0 <= (gamma|lambda|gamma\*lambda) < 1$")
ALWAYS_HOLD = frozenset({"bounded TD errors", "bounded rewards and values", "n >= 1"})
"""Assumptions every test point satisfies: n >= 1 always; the trajectories are bounded
where an infinite sum is evaluated (on the growing ones every infinite sum is skipped)."""


def assumption_holds(assumption: str, gamma_value, lam_value) -> bool:
    """Whether a stated assumption holds at γ = ``gamma_value``, λ = ``lam_value``.

    The parameter ranges are ``0 <= gamma < 1``, ``0 <= lambda < 1`` and
    ``0 <= gamma*lambda < 1``; an assumption that is neither one of them nor in
    :data:`ALWAYS_HOLD` is a programming error (a question must say what it assumes in a
    form this function can test).
    """
    match = _PARAMETER_RANGE.match(assumption)
    if match is None:
        if assumption in ALWAYS_HOLD:
            return True
        raise ValueError(f"assumption {assumption!r} cannot be tested at a point")
    value = {
        "gamma": gamma_value,
        "lambda": lam_value,
        "gamma*lambda": gamma_value * lam_value,
    }[match.group(1)]
    return 0 <= value < 1


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: its id, the hint shown when an answer matches it, its formula."""

    id: str
    hint: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    forms: tuple[Form, ...]
    quantities: tuple[str, ...]
    """Quantities a left-hand side may name: "delta", "advantage", "return"."""
    steps: str | None = None
    """The K of A^{(K)}: a left-hand side naming another step count is refused."""
    mistakes: tuple[Mistake, ...] = field(default=())
    uses_n: bool = False
    asked_for: tuple[str, ...] = ()
    """Sequences the answer must not use because they are what is asked (δ for td-error)."""
    fixed: tuple[tuple[str, int], ...] = ()
    """Parameters the question fixes, e.g. (("gamma", 1), ("lambda", 1)): every test point
    (and so every counterexample) has them, and an answer is read at those values."""

    @property
    def reference(self) -> Expr:
        return self.forms[0].expr


_INFINITE = ("0 <= gamma*lambda < 1", "bounded TD errors")

_NSTEP_MISTAKES = (
    Mistake(
        "bootstrap-gamma-n-minus-1",
        "the bootstrap term is discounted by γ^{n−1}; after n steps it is γ^n V(s_{t+n})",
        "sum(l=0..n-1, gamma^l*r[t+l]) + gamma^(n-1)*V[t+n] - V[t]",
    ),
    Mistake(
        "missing-bootstrap-gamma",
        "the bootstrap V(s_{t+n}) is not discounted; it needs γ^n",
        "sum(l=0..n-1, gamma^l*r[t+l]) + V[t+n] - V[t]",
    ),
    Mistake(
        "upper-limit-off-by-one",
        "the sum has one term too many: A^{(n)} sums the n TD errors l = 0, …, n−1",
        "sum(l=0..n, gamma^l*delta[t+l])",
    ),
    Mistake(
        "upper-limit-short-by-one",
        "the sum has one term too few: A^{(n)} sums the n TD errors l = 0, …, n−1",
        "sum(l=0..n-2, gamma^l*delta[t+l])",
    ),
    Mistake(
        "missing-gamma",
        "the TD errors are not discounted: the l-th one is weighted by γ^l",
        "sum(l=0..n-1, delta[t+l])",
    ),
    Mistake(
        "sign-of-baseline",
        "V(s_t) is subtracted, not added: an advantage is a return minus the baseline V(s_t)",
        "sum(l=0..n-1, gamma^l*r[t+l]) + gamma^n*V[t+n] + V[t]",
    ),
    Mistake(
        "return-not-advantage",
        "this is the n-step return G^{(n)}_t; the advantage subtracts V(s_t)",
        "sum(l=0..n-1, gamma^l*r[t+l]) + gamma^n*V[t+n]",
    ),
    Mistake(
        "bootstrap-wrong-state",
        "the bootstrap uses V(s_{t+n−1}); after n rewards the next state is s_{t+n}",
        "sum(l=0..n-1, gamma^l*r[t+l]) + gamma^n*V[t+n-1] - V[t]",
    ),
    Mistake(
        "missing-bootstrap",
        "the bootstrap term γ^n V(s_{t+n}) is missing",
        "sum(l=0..n-1, gamma^l*r[t+l]) - V[t]",
    ),
    Mistake(
        "sum-starts-at-one",
        "the sum starts at l = 0: the first term is δ_t itself (A^{(n)} sums δ_t, …, δ_{t+n−1})",
        "sum(l=1..n, gamma^l*delta[t+l])",
    ),
    Mistake(
        "sum-starts-at-one",
        "the sum starts at l = 0: the first term is δ_t itself (A^{(n)} sums δ_t, …, δ_{t+n−1})",
        "sum(l=1..n-1, gamma^l*delta[t+l])",
    ),
    Mistake(
        "sum-starts-at-one",
        "the sum starts at l = 0: the first reward is r_t itself (A^{(n)} sums r_t, …, r_{t+n−1})",
        "sum(l=1..n, gamma^l*r[t+l]) + gamma^n*V[t+n] - V[t]",
    ),
)

_PRECEDENCE_HINT = (
    "\\gamma\\lambda^l means γ·λ^l (the power binds to λ alone); the l-th TD error is "
    "weighted by (γλ)^l = γ^l λ^l: write (\\gamma\\lambda)^l"
)

_TD_MISTAKES = (
    Mistake(
        "missing-gamma",
        "V(s_{t+1}) must be discounted by γ",
        "r[t] + V[t+1] - V[t]",
    ),
    Mistake(
        "sign-of-baseline",
        "V(s_t) is subtracted, not added",
        "r[t] + gamma*V[t+1] + V[t]",
    ),
    Mistake(
        "values-swapped",
        "V(s_t) and V(s_{t+1}) are swapped: δ_t = r_t + γ V(s_{t+1}) − V(s_t)",
        "r[t] + gamma*V[t] - V[t+1]",
    ),
    Mistake(
        "gamma-on-wrong-value",
        "γ discounts the next state's value V(s_{t+1}), not V(s_t)",
        "r[t] + V[t+1] - gamma*V[t]",
    ),
    Mistake(
        "reward-index",
        "the reward of step t is r_t (received after a_t in s_t), not r_{t+1}",
        "r[t+1] + gamma*V[t+1] - V[t]",
    ),
    Mistake(
        "return-not-advantage",
        "this is the TD target r_t + γ V(s_{t+1}); δ_t subtracts V(s_t)",
        "r[t] + gamma*V[t+1]",
    ),
)

_GAE_MISTAKES = (
    Mistake(
        "lambda-without-gamma",
        "the weights are λ^l; GAE weights the l-th TD error by (γλ)^l",
        "sum(l=0..inf, lambda^l*delta[t+l])",
    ),
    Mistake(
        "missing-lambda",
        "the weights are γ^l (that is λ = 1, the Monte-Carlo advantage); GAE uses (γλ)^l",
        "sum(l=0..inf, gamma^l*delta[t+l])",
    ),
    Mistake(
        "missing-one-minus-lambda",
        "the λ-weighted average needs the normalising factor (1 − λ)",
        "sum(n=1..inf, lambda^(n-1)*sum(l=0..n-1, gamma^l*delta[t+l]))",
    ),
    Mistake(
        "weights-lambda-n",
        "the weight of A^{(n)} is (1 − λ) λ^{n−1}, not (1 − λ) λ^n",
        "(1-lambda)*sum(n=1..inf, lambda^n*sum(l=0..n-1, gamma^l*delta[t+l]))",
    ),
    Mistake(
        "sum-starts-at-one",
        "the sum starts at l = 0: the first term is δ_t itself",
        "sum(l=1..inf, (gamma*lambda)^l*delta[t+l])",
    ),
    Mistake(
        "return-not-advantage",
        "this is the λ-return G^λ_t = A^GAE_t + V(s_t); the advantage does not add V(s_t)",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l]) + V[t]",
    ),
    Mistake(
        "exponent-off-by-one",
        "the l-th TD error is weighted by (γλ)^l, not (γλ)^{l+1}",
        "sum(l=0..inf, (gamma*lambda)^(l+1)*delta[t+l])",
    ),
    Mistake(
        "precedence-gamma-lambda-power",
        _PRECEDENCE_HINT,
        "sum(l=0..inf, gamma*lambda^l*delta[t+l])",
    ),
    Mistake(
        "precedence-gamma-lambda-power",
        _PRECEDENCE_HINT,
        "sum(l=0..inf, gamma^l*lambda*delta[t+l])",
    ),
)

_LAMBDA0_MISTAKES = (
    Mistake(
        "reward-only",
        "at λ = 0 GAE is the one-step TD error δ_t, not the reward alone",
        "r[t]",
    ),
    Mistake(
        "lambda0-is-zero",
        "at λ = 0 only the first term survives: (γλ)^0 = 1, so the answer is δ_t, not 0",
        "0",
    ),
    Mistake(
        "lambda-0-and-1-swapped",
        "this is the λ = 1 (Monte-Carlo) advantage; λ = 0 keeps only δ_t",
        "sum(l=0..inf, gamma^l*r[t+l]) - V[t]",
    ),
    Mistake(
        "return-not-advantage",
        "this is the TD target r_t + γ V(s_{t+1}); the advantage subtracts V(s_t)",
        "r[t] + gamma*V[t+1]",
    ),
    Mistake(
        "still-has-lambda",
        "this is the general GAE; the question asks for its value at λ = 0",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l])",
    ),
)

_LAMBDA1_MISTAKES = (
    Mistake(
        "return-not-advantage",
        "this is the discounted return; the advantage subtracts V(s_t)",
        "sum(l=0..inf, gamma^l*r[t+l])",
    ),
    Mistake(
        "missing-gamma",
        "the rewards must be discounted by γ^l",
        "sum(l=0..inf, r[t+l]) - V[t]",
    ),
    Mistake(
        "lambda-0-and-1-swapped",
        "this is the λ = 0 answer δ_t; at λ = 1 GAE is the Monte-Carlo advantage",
        "delta[t]",
    ),
    Mistake(
        "still-has-lambda",
        "this is the general GAE; the question asks for its value at λ = 1",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l])",
    ),
)

_LAMBDA_RETURN_MISTAKES = (
    Mistake(
        "advantage-not-return",
        "this is the GAE advantage; the λ-return adds back the baseline: G^λ_t = A^GAE_t + V(s_t)",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l])",
    ),
    Mistake(
        "sign-of-baseline",
        "V(s_t) is added, not subtracted: G^λ_t = A^GAE_t + V(s_t)",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l]) - V[t]",
    ),
    Mistake(
        "missing-one-minus-lambda",
        "the λ-weighted average needs the normalising factor (1 − λ)",
        "sum(n=1..inf, lambda^(n-1)*(sum(l=0..n-1, gamma^l*r[t+l]) + gamma^n*V[t+n]))",
    ),
    Mistake(
        "lambda-without-gamma",
        "the weights are λ^l; the TD errors are weighted by (γλ)^l",
        "sum(l=0..inf, lambda^l*delta[t+l]) + V[t]",
    ),
    Mistake(
        "precedence-gamma-lambda-power",
        _PRECEDENCE_HINT,
        "sum(l=0..inf, gamma*lambda^l*delta[t+l]) + V[t]",
    ),
)


# --- RL on language models (gae_sym.llm_estimators; theorems rloo, llm-terminal-reward,
# token-gae-masked). In the answer vocabulary a group of K = n + 1 responses is indexed
# t, t+1, …, t+n (so K ≥ 2 for every n ≥ 1) and the member asked about is r_t.

_RLOO_MISTAKES = (
    Mistake(
        "rloo-divide-by-k",
        "the leave-one-out sum has K − 1 = n terms: divide it by K − 1, not by K",
        "r[t] - 1/(n+1)*sum(l=1..n, r[t+l])",
    ),
    Mistake(
        "rloo-baseline-includes-self",
        "this is r_t − r̄ (Dr. GRPO's advantage): the RLOO baseline leaves r_t out, which "
        "multiplies r_t − r̄ by K/(K − 1)",
        "r[t] - 1/(n+1)*sum(l=0..n, r[t+l])",
    ),
    Mistake(
        "rloo-factor-inverted",
        "the factor is K/(K − 1) = (n + 1)/n, not (K − 1)/K",
        "n/(n+1)*(r[t] - 1/(n+1)*sum(l=0..n, r[t+l]))",
    ),
    Mistake(
        "rloo-sum-includes-self",
        "the leave-one-out sum runs over the other responses j ≠ t only",
        "r[t] - 1/n*sum(l=0..n, r[t+l])",
    ),
    Mistake(
        "rloo-forgets-a-term",
        "the leave-one-out sum misses a response: the others are r_(t+1), …, r_(t+n)",
        "r[t] - 1/n*sum(l=1..n-1, r[t+l])",
    ),
)

_GROUP_SUM_MISTAKES = (
    Mistake(
        "rloo-divide-by-k",
        "dividing each leave-one-out sum by K instead of K − 1 leaves r̄ over the group; RLOO "
        "divides by K − 1 and its advantages sum to 0",
        "1/(n+1)*sum(l=0..n, r[t+l])",
    ),
    Mistake(
        "baseline-subtracted-once",
        "the baseline is subtracted from every one of the K terms: Σ_i (r_i − r̄) = K r̄ − K r̄",
        "sum(l=0..n, r[t+l]) - 1/(n+1)*sum(l=0..n, r[t+l])",
    ),
    Mistake(
        "no-baseline",
        "this is the sum of the scores; each advantage subtracts a baseline",
        "sum(l=0..n, r[t+l])",
    ),
)

_TERMINAL_MISTAKES = (
    Mistake(
        "bootstrap-from-padding",
        "the state after the last response token is terminal: nothing is bootstrapped (no "
        "V of the padding token after it)",
        "sum(l=0..n, r[t+l]) + V[t+n+1] - V[t]",
    ),
    Mistake(
        "return-not-advantage",
        "this is the return-to-go; the advantage subtracts the baseline V_t",
        "sum(l=0..n, r[t+l])",
    ),
    Mistake(
        "last-reward-only",
        "R − V_t holds when the last token carries the only reward; here every token may carry "
        "one (a per-token KL term, say): sum them all",
        "r[t+n] - V[t]",
    ),
    Mistake(
        "forgets-the-last-token",
        "the sum misses the last token's reward r_(t+n) (the response is t, …, t+n)",
        "sum(l=0..n-1, r[t+l]) - V[t]",
    ),
    Mistake(
        "baseline-of-last-token",
        "the baseline is V_t of the token asked about, not V of the last token",
        "sum(l=0..n, r[t+l]) - V[t+n]",
    ),
)

_GAP_MISTAKES = (
    Mistake(
        "value-not-passed-through",
        "token t bootstraps from V_(t+1), the masked observation token's value; skipping the "
        "mask carries the next response token's value V_(t+2) through it",
        "r[t] + gamma*V[t+1] - V[t] + sum(l=1..inf, (gamma*lambda)^l*delta[t+l+1])",
    ),
    Mistake(
        "carry-not-passed-through",
        "this is plain GAE over every position: the masked token's TD error δ_(t+1) is in the "
        "chain; a masked token passes the carried advantage through unchanged",
        "sum(l=0..inf, (gamma*lambda)^l*delta[t+l])",
    ),
    Mistake(
        "chain-cut-at-mask",
        "the λ-chain is cut at the observation token; skipping it, the chain goes on to the "
        "response tokens t+2, t+3, …",
        "r[t] + gamma*V[t+2] - V[t]",
    ),
    Mistake(
        "gap-counted-as-a-step",
        "the masked token is counted as a step of the chain: the response token after the "
        "gap is one step after t, weighted by γλ, not (γλ)^2",
        "r[t] + gamma*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^(l+1)*delta[t+l+1])",
    ),
    Mistake(
        "gap-discounted",
        "the masked token is discounted: V_(t+2) is the next response token's value, one "
        "step on, so γ V_(t+2), not γ² V_(t+2)",
        "r[t] + gamma^2*V[t+2] - V[t] + sum(l=1..inf, (gamma*lambda)^l*delta[t+l+1])",
    ),
)


def _llm_questions() -> list[Question]:
    """The questions of the LLM-era estimators, references printed from their definitions."""
    from sympy import Indexed, Sum, oo

    from gae_sym import llm_estimators as llm
    from gae_sym.symbols import gamma, l, r

    def group(expr: Expr) -> Expr:
        # The definitions index a group 0, …, K − 1 (member 0): here t, …, t + n, K = n + 1.
        shifted = expr.replace(
            lambda e: isinstance(e, Indexed) and e.base == r, lambda e: r[t + e.indices[0]]
        )
        empty = [s for s in shifted.atoms(Sum) if (s.limits[0][2] - s.limits[0][1]).is_negative]
        return shifted.xreplace(dict.fromkeys(empty, Integer(0)))

    size = n + 1
    loo = group(llm.rloo_advantage(Integer(0), size, l))
    mean_form = group(llm.rloo_advantage_mean_form(Integer(0), size, l))
    terminal = llm.terminal_gae(t, size, l).xreplace({gamma: Integer(1), lam: Integer(1)})
    monte_carlo = llm.response_return_to_go(t, size, l).xreplace({gamma: Integer(1)}) - V[t]
    gap_first = llm.token_td_error(t, V[t + 2])  # the next response token is t + 2
    gap = gap_first + Sum((gamma * lam) ** l * delta[t + l + 1], (l, 1, oo))
    gap_shifted = gap_first + gamma * lam * est.gae(t + 2)
    return [
        Question(
            "rloo",
            "RLOO: the advantage of r_t in a group of K = n + 1 scores r_t, …, r_(t+n) (n ≥ 1): "
            "r_t minus the mean of the other K − 1 (theorem rloo: K/(K − 1) (r_t − r̄), with "
            "the mean r̄ written out as a sum).",
            (
                Form("RLOO advantage (leave-one-out baseline)", loo),
                Form(
                    "RLOO advantage in the group mean, K/(K − 1) (r_t − r̄)",
                    mean_form,
                    "theorem rloo",
                    ("n >= 1",),
                ),
            ),
            ("advantage",),
            None,
            _RLOO_MISTAKES,
            uses_n=True,
        ),
        Question(
            "rloo-group-sum",
            "The sum of the RLOO advantages over a group of K = n + 1 scores r_t, …, r_(t+n) "
            "(theorem rloo; Dr. GRPO's r_i − r̄ sum the same way).",
            (Form("sum of a group's RLOO advantages", Integer(0), "theorem rloo"),),
            ("advantage",),
            None,
            _GROUP_SUM_MISTAKES,
            uses_n=True,
        ),
        Question(
            "llm-terminal",
            "Token GAE at γ = λ = 1 of token t of a response t, …, t+n whose last token ends "
            "it (no bootstrap), a reward on every token (one terminal reward R gives R − V_t).",
            (
                Form("GAE at γ = λ = 1 on the response (terminal at its end)", terminal),
                Form(
                    "Monte-Carlo advantage Σ r_(t+l) − V_t",
                    monte_carlo,
                    "theorem llm-terminal-reward",
                    ("n >= 1",),
                ),
            ),
            ("advantage",),
            None,
            _TERMINAL_MISTAKES,
            uses_n=True,
            fixed=(("gamma", 1), ("lambda", 1)),
        ),
        Question(
            "token-gae-gap",
            "Skip-masked token GAE of response token t when token t+1 is a masked tool "
            "observation and t+2, t+3, … are response tokens (infinite horizon, 0 ≤ γλ < 1).",
            (
                Form(
                    "GAE of the compacted response: δ of t with V_(t+2), then the chain from t+2",
                    gap,
                    "theorem token-gae-masked (a masked token passes the value and the carry)",
                    _INFINITE,
                ),
                Form(
                    "δ of t with V_(t+2), plus γλ times GAE at t+2",
                    gap_shifted,
                    "theorem token-gae-masked",
                    _INFINITE,
                ),
            ),
            ("advantage",),
            None,
            _GAP_MISTAKES,
        ),
    ]


def mistake_expr(mistake: Mistake, steps: int | None = None) -> Expr:
    """The formula of a known mistake (written in plain text; n replaced by K for nstep-K)."""
    from gae_sym.homework.text_reader import parse_text

    expr = parse_text(mistake.text)
    return expr if steps is None else expr.xreplace({n: Integer(steps)})


def _nstep(steps) -> tuple[Form, ...]:
    return (
        Form("n-step advantage in TD errors", est.nstep_advantage(steps=steps)),
        Form(
            "n-step advantage in rewards and values",
            est.nstep_advantage_rv(steps=steps),
            "theorem nstep-telescoping (Σ γ^l δ_{t+l} telescopes)",
            ("n >= 1",),
        ),
    )


def _static_questions() -> dict[str, Question]:
    gae_forms = (
        Form(
            "GAE as a discounted sum of TD errors Σ (γλ)^l δ_{t+l}",
            est.gae(),
            "definition",
            _INFINITE,
        ),
        Form(
            "GAE as the λ-weighted average of n-step advantages",
            est.gae_weighted_average(),
            "theorem gae-infinite",
            ("0 <= lambda < 1", "bounded TD errors"),
        ),
    )
    lambda1 = est.gae().xreplace({lam: Integer(1)})
    items = [
        Question(
            "td-error",
            "The one-step TD error δ_t, in terms of r and V.",
            (Form("TD error", est.td_error()),),
            ("delta", "advantage"),
            "1",
            _TD_MISTAKES,
            asked_for=("delta",),
        ),
        Question(
            "nstep",
            "The n-step advantage A^(n)_t for a symbolic number of steps n >= 1.",
            _nstep(n),
            ("advantage",),
            "n",
            _NSTEP_MISTAKES,
            uses_n=True,
        ),
        Question(
            "gae",
            "The GAE(γ, λ) advantage A^GAE_t, as an infinite-horizon sum (0 ≤ γλ < 1).",
            gae_forms,
            ("advantage",),
            None,
            _GAE_MISTAKES,
        ),
        Question(
            "gae-lambda0",
            "What GAE(γ, λ) becomes at λ = 0.",
            (
                Form("TD error", est.td_error()),
                Form("TD error δ_t", delta[t]),
            ),
            ("advantage", "delta"),
            None,
            _LAMBDA0_MISTAKES,
        ),
        Question(
            "gae-lambda1",
            "What GAE(γ, λ) becomes at λ = 1 (infinite horizon, γ < 1).",
            (
                Form(
                    "Monte-Carlo advantage Σ γ^l r_{t+l} − V(s_t)",
                    est.mc_advantage(),
                    "theorem gae-lambda1, infinite horizon",
                    ("0 <= gamma < 1", "bounded rewards and values"),
                ),
                Form(
                    "GAE at λ = 1 in TD errors, Σ γ^l δ_{t+l}",
                    lambda1,
                    "definition of GAE at λ = 1",
                    ("0 <= gamma < 1", "bounded TD errors"),
                ),
            ),
            ("advantage",),
            None,
            _LAMBDA1_MISTAKES,
        ),
        Question(
            "lambda-return",
            "The λ-return G^λ_t (infinite horizon, 0 ≤ γλ < 1).",
            (
                Form("GAE plus V(s_t)", est.lambda_return(), "definition", _INFINITE),
                Form(
                    "λ-weighted average of n-step returns",
                    est.lambda_return_weighted_average(),
                    "theorem lambda-return",
                    ("0 <= lambda < 1", "bounded TD errors"),
                ),
                Form(
                    "GAE (λ-weighted average form) plus V(s_t)",
                    est.gae_weighted_average() + V[t],
                    "theorem gae-infinite",
                    ("0 <= lambda < 1", "bounded TD errors"),
                ),
            ),
            ("return",),
            None,
            _LAMBDA_RETURN_MISTAKES,
        ),
    ]
    items += _llm_questions()
    return {q.id: q for q in items}


_NSTEP_K = re.compile(r"^nstep-([1-9][0-9]{0,2})$")
_NSTEP_ANY = re.compile(r"^nstep-(-?[0-9]+)$")
MAX_STEPS = 100


def question(question_id: str) -> Question:
    """The question with this id (``nstep-K`` for K = 1 to 100); unknown ids raise AnswerError."""
    static = _static_questions()
    if question_id in static:
        return static[question_id]
    match = _NSTEP_K.match(question_id)
    if match and 1 <= int(match.group(1)) <= MAX_STEPS:
        steps = int(match.group(1))
        return Question(
            question_id,
            f"The {steps}-step advantage A^({steps})_t.",
            _nstep(Integer(steps)),
            ("advantage", "delta") if steps == 1 else ("advantage",),
            str(steps),
            _NSTEP_MISTAKES,
        )
    known = ", ".join([*static, f"nstep-K for K = 1 to {MAX_STEPS}"])
    number = _NSTEP_ANY.match(question_id)
    if number:
        raise AnswerError(
            f"unknown question '{question_id}': nstep-K needs K from 1 to {MAX_STEPS} "
            f"(got {number.group(1)}), e.g. nstep-3",
            "unknown-question",
        )
    raise AnswerError(f"unknown question '{question_id}' (known: {known})", "unknown-question")


def question_list() -> list[tuple[str, str]]:
    """(id, question text) for ``gae-sym check --list``, in teaching order."""
    static = _static_questions()
    rows = [("td-error", static["td-error"].text)]
    rows.append(
        ("nstep-K", f"The K-step advantage A^(K)_t for a given K, 1 to {MAX_STEPS} (e.g. nstep-3).")
    )
    rows += [(qid, q.text) for qid, q in static.items() if qid != "td-error"]
    return rows


def question_steps(q: Question) -> int | None:
    """K for ``nstep-K`` questions (mistake formulas are written with n)."""
    match = _NSTEP_K.match(q.id)
    return int(match.group(1)) if match else None
