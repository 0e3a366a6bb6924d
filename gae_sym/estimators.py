"""The advantage estimators of DESIGN.md as SymPy expressions.

Every function returns an unevaluated SymPy expression built from the trajectory
symbols of :mod:`gae_sym.symbols`. These are *the* definitions: the derivations prove
identities between them, the code generator prints kernels from them and the homework
checker compares answers with them.

Two families:

* segment forms, for a stretch of trajectory with no episode end inside it, where
  V(s'_t) = V(s_{t+1}) (the form of the theorems and of the lecture);
* the flagged forms of the trajectory convention, with ``terminated`` folded into the
  bootstrap and ``done`` cutting the λ-chain (the form the numeric kernels compute).

References: Sutton & Barto (2018) §7.1 and §12.1 (n-step and λ-returns); Schulman et
al. (2016), "High-Dimensional Continuous Control Using Generalized Advantage
Estimation", eqs. (11)-(16).
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Product, Sum, oo

from gae_sym.symbols import A, N, V, V_next, delta, done, gamma, j, k, l, lam, n, r, t, terminated

# --- the one-step TD error ------------------------------------------------------------


def td_error(time: Expr = t) -> Expr:
    """δ_t = r_t + γ V(s_{t+1}) − V(s_t), inside a segment."""
    return r[time] + gamma * V[time + 1] - V[time]


def td_error_flagged(time: Expr = t) -> Expr:
    """δ_t = r_t + γ (1 − term_t) V(s'_t) − V(s_t): the trajectory convention."""
    return r[time] + gamma * (1 - terminated[time]) * V_next[time] - V[time]


# --- n-step ---------------------------------------------------------------------------


def nstep_advantage(time: Expr = t, steps: Expr = n, index=l) -> Expr:
    """A^(n)_t = Σ_{l=0}^{n−1} γ^l δ_{t+l}, in TD errors."""
    return Sum(gamma**index * delta[time + index], (index, 0, steps - 1))


def nstep_advantage_rv(time: Expr = t, steps: Expr = n, index=l) -> Expr:
    """A^(n)_t = −V(s_t) + Σ_{l=0}^{n−1} γ^l r_{t+l} + γ^n V(s_{t+n}), in rewards and values."""
    return (
        -V[time]
        + Sum(gamma**index * r[time + index], (index, 0, steps - 1))
        + gamma**steps * V[time + steps]
    )


def nstep_return(time: Expr = t, steps: Expr = n, index=l) -> Expr:
    """G^(n)_t = Σ_{l=0}^{n−1} γ^l r_{t+l} + γ^n V(s_{t+n})."""
    return (
        Sum(gamma**index * r[time + index], (index, 0, steps - 1)) + gamma**steps * V[time + steps]
    )


# --- Monte Carlo ----------------------------------------------------------------------


def mc_advantage(time: Expr = t, index=l) -> Expr:
    """A^MC_t = Σ_{l≥0} γ^l r_{t+l} − V(s_t), infinite horizon (needs γ < 1, bounded r)."""
    return Sum(gamma**index * r[time + index], (index, 0, oo)) - V[time]


def mc_advantage_segment(time: Expr = t, length: Expr | None = None, index=l) -> Expr:
    """A^MC_t on a segment of N steps: Σ_{l<N} γ^l r_{t+l} + γ^N V(s_{t+N}) − V(s_t)."""
    length = N if length is None else length
    return nstep_advantage_rv(time, length, index)


# --- GAE ------------------------------------------------------------------------------


def gae(time: Expr = t, index=l) -> Expr:
    """A^GAE(γ,λ)_t = Σ_{l≥0} (γλ)^l δ_{t+l}, infinite horizon."""
    return Sum((gamma * lam) ** index * delta[time + index], (index, 0, oo))


def gae_segment(time: Expr = t, length: Expr | None = None, index=l) -> Expr:
    """A^GAE_t on a segment of N steps: Σ_{l=0}^{N−1} (γλ)^l δ_{t+l}."""
    length = N if length is None else length
    return Sum((gamma * lam) ** index * delta[time + index], (index, 0, length - 1))


def gae_weighted_average(time: Expr = t, steps=n, index=l) -> Expr:
    """(1 − λ) Σ_{n≥1} λ^{n−1} A^(n)_t: GAE as the λ-weighted average of n-step advantages."""
    return (1 - lam) * Sum(lam ** (steps - 1) * nstep_advantage(time, steps, index), (steps, 1, oo))


def gae_weighted_average_segment(
    time: Expr = t, length: Expr | None = None, steps=n, index=l
) -> Expr:
    """(1 − λ) Σ_{n=1}^{N−1} λ^{n−1} A^(n)_t + λ^{N−1} A^(N)_t (weights sum to one)."""
    length = N if length is None else length
    return (1 - lam) * Sum(
        lam ** (steps - 1) * nstep_advantage(time, steps, index), (steps, 1, length - 1)
    ) + lam ** (length - 1) * nstep_advantage(time, length, index)


def gae_recursion(time: Expr = t) -> Expr:
    """A_t = δ_t + γλ (1 − d_t) A_{t+1}: the backward recursion the kernels run (A_T = 0)."""
    return delta[time] + gamma * lam * (1 - done[time]) * A[time + 1]


def gae_closed_form_flagged(time: Expr = t, length: Expr | None = None, index=l, inner=j) -> Expr:
    """A_t = Σ_{l=0}^{N−1} (γλ)^l [Π_{j=0}^{l−1} (1 − d_{t+j})] δ_{t+l}, over the N steps left."""
    length = N if length is None else length
    mask = Product(1 - done[time + inner], (inner, 0, index - 1))
    return Sum((gamma * lam) ** index * mask * delta[time + index], (index, 0, length - 1))


# --- the scan: what a chunked or parallel GAE kernel needs (theorem ``gae-scan``) ------


def scan_coefficient(time: Expr = t) -> Expr:
    """c_t = γλ (1 − d_t): the carry coefficient, so that gae_recursion is δ_t + c_t A_{t+1}."""
    return gamma * lam * (1 - done[time])


def scan_combine(first: tuple[Expr, Expr], second: tuple[Expr, Expr]) -> tuple[Expr, Expr]:
    """(a₁, c₁) ∘ (a₂, c₂) = (a₁ + c₁ a₂, c₁ c₂): the affine maps x ↦ a + c x composed.

    ``first`` applied after ``second``: first(second(x)) = a₁ + c₁ (a₂ + c₂ x). Step t of the
    recursion is the map (δ_t, c_t); A_t is (δ_t, c_t) ∘ (δ_{t+1}, c_{t+1}) ∘ … applied to 0.
    The composition is associative, which is what ``jax.lax.associative_scan`` needs.
    """
    (a1, c1), (a2, c2) = first, second
    return (a1 + c1 * a2, c1 * c2)


def scan_zero_carry(time: Expr = t, split: Expr = k, index=l, inner=j) -> Expr:
    """S_t = Σ_{l=0}^{k−t−1} (Π_{j<l} c_{t+j}) δ_{t+l}: the recursion on t..k−1 from A_k = 0."""
    reach = Product(scan_coefficient(time + inner), (inner, 0, index - 1))
    return Sum(reach * delta[time + index], (index, 0, split - time - 1))


def scan_link_product(time: Expr = t, split: Expr = k, inner=j) -> Expr:
    """P_t = Π_{j=t}^{k−1} c_j: how much of A_k reaches A_t."""
    return Product(scan_coefficient(inner), (inner, time, split - 1))


def scan_join(zero_carry: Expr, link_product: Expr, carry: Expr) -> Expr:
    """A_t = S_t + P_t · A_k: a segment split at k, joined with the true carry A_k."""
    return zero_carry + link_product * carry


# --- λ-return -------------------------------------------------------------------------


def lambda_return(time: Expr = t, index=l) -> Expr:
    """G^λ_t = A^GAE_t + V(s_t)."""
    return gae(time, index) + V[time]


def lambda_return_weighted_average(time: Expr = t, steps=n, index=l) -> Expr:
    """(1 − λ) Σ_{n≥1} λ^{n−1} G^(n)_t: the λ-weighted average of n-step returns."""
    return (1 - lam) * Sum(lam ** (steps - 1) * nstep_return(time, steps, index), (steps, 1, oo))


# --- registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimator:
    """One estimator: its command-line name, its symbol in lecture notation and its definition.

    ``definition`` is written the way a lecture defines it (in δ where that is the
    definition); ``in_rewards`` is the same quantity in rewards and values.
    """

    name: str
    title: str
    symbol_latex: str
    definition: Expr
    in_rewards: Expr
    assumptions: tuple[str, ...] = ()


def estimators() -> dict[str, Estimator]:
    """The estimators by command-line name, in teaching order."""
    items = [
        Estimator(
            "td-error",
            "One-step TD error",
            r"\delta_t",
            td_error(),
            td_error(),
        ),
        Estimator(
            "nstep",
            "n-step advantage",
            r"\hat{A}^{(n)}_t",
            nstep_advantage(),
            nstep_advantage_rv(),
            ("n >= 1",),
        ),
        Estimator(
            "mc",
            "Monte-Carlo advantage",
            r"\hat{A}^{\mathrm{MC}}_t",
            mc_advantage(),
            mc_advantage(),
            ("0 <= gamma < 1", "bounded rewards"),
        ),
        Estimator(
            "gae",
            "Generalized advantage estimate GAE(γ, λ)",
            r"\hat{A}^{\mathrm{GAE}(\gamma,\lambda)}_t",
            gae(),
            gae(),
            ("0 <= gamma*lambda < 1", "bounded TD errors"),
        ),
        Estimator(
            "lambda-return",
            "λ-return",
            r"G^{\lambda}_t",
            lambda_return(),
            lambda_return_weighted_average(),
            ("0 <= lambda < 1", "bounded TD errors"),
        ),
    ]
    return {e.name: e for e in items}


__all__ = [
    "Estimator",
    "estimators",
    "gae",
    "gae_closed_form_flagged",
    "gae_recursion",
    "gae_segment",
    "gae_weighted_average",
    "gae_weighted_average_segment",
    "lambda_return",
    "lambda_return_weighted_average",
    "mc_advantage",
    "mc_advantage_segment",
    "nstep_advantage",
    "nstep_advantage_rv",
    "nstep_return",
    "scan_coefficient",
    "scan_combine",
    "scan_join",
    "scan_link_product",
    "scan_zero_carry",
    "td_error",
    "td_error_flagged",
]
