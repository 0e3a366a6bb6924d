"""The named assumptions of the theorems, each with the typed facts it grants.

``CONVENTION`` is in force in every proof: the trajectory convention puts the discount γ
and the trace parameter λ in [0, 1]. Every other assumption is stated by the theorem that
uses it, by the id ``gae-sym prove`` prints. A rule may use a fact only when an
assumption in force grants it (see :mod:`gae_sym.proof.facts`).
"""

from __future__ import annotations

from sympy import S, oo

from gae_sym.proof.facts import Assumption, Interval, unit_interval
from gae_sym.symbols import N, gamma, lam, n

CONVENTION = Assumption(
    "convention",
    "the discount and the trace parameter lie in [0, 1]; the flags are 0 or 1",
    r"0 \le \gamma \le 1,\ 0 \le \lambda \le 1,\ d_t, \mathrm{term}_t \in \{0, 1\}",
    ranges=((gamma, unit_interval()), (lam, unit_interval())),
    bounded=("d", "term"),
)
SEGMENT = Assumption(
    "segment",
    "the steps lie inside one segment with no episode end, so the next state of step "
    "$t$ is $s_{t+1}$",
    r"V(s'_{t}) = V(s_{t+1}),\ d_{t} = 0",
    definitions=("delta-segment",),
)
N_STEPS = Assumption(
    "n-ge-1",
    "the number of steps $n$ is a positive integer; $t$ is any integer",
    r"n \in \{1, 2, \dots\},\ t \in \mathbb{Z}",
    ranges=((n, Interval(S.One, oo)),),
)
HORIZON = Assumption(
    "horizon-ge-1",
    "the segment has a positive integer number $N$ of steps",
    r"N \in \{1, 2, \dots\}",
    ranges=((N, Interval(S.One, oo)),),
)
LAMBDA_LT_1 = Assumption(
    "lambda-lt-1",
    "the trace parameter is below one (the weights $(1-\\lambda)\\lambda^{n-1}$ sum to one)",
    r"0 \le \lambda < 1",
    ranges=((lam, unit_interval(open_above=True)),),
)
BOUNDED_DELTA = Assumption(
    "bounded-delta",
    "TD errors are bounded and $0 \\le \\gamma\\lambda < 1$, so every series in $\\delta$ "
    "converges absolutely",
    r"|\delta_{t}| \le C\ \forall t,\ 0 \le \gamma\lambda < 1",
    bounded=("delta",),
    ranges=((gamma * lam, unit_interval(open_above=True)),),
)
GAMMA_LT_1 = Assumption(
    "gamma-lt-1",
    "the discount is below one and rewards are bounded, so "
    "$\\sum_{l} \\gamma^{l} r_{t+l}$ converges absolutely",
    r"0 \le \gamma < 1,\ |r_{t}| \le C\ \forall t",
    bounded=("r",),
    ranges=((gamma, unit_interval(open_above=True)),),
)
BOUNDED_V = Assumption(
    "bounded-V",
    "values are bounded, so the discounted tail vanishes when $\\gamma < 1$",
    r"|V(s)| \le C",
    bounded=("V", "V'"),
)
BOUNDED_RV = Assumption(
    "bounded-r-V",
    "rewards and values are bounded, so the series of n-step returns, split into its "
    "reward and value parts, converge absolutely for $\\lambda < 1$",
    r"|r_{t}| \le C,\ |V(s_{t})| \le C\ \forall t",
    bounded=("r", "V", "V'"),
)
RECURSION = Assumption(
    "recursion",
    "$\\hat{A}$ is defined by the backward recursion with done flags $d_t$ in $\\{0, 1\\}$, "
    "and is zero once no steps are left",
    r"\hat{A}_{t} = \delta_{t} + \gamma\lambda(1 - d_{t})\hat{A}_{t+1},\ \hat{A}_{t+N} = 0",
    definitions=("A-recursion",),
)

SKIP_SCAN = Assumption(
    "skip-scan",
    "$W$ and $U$ are the value and the advantage carried by the skip-masked backward scan "
    "over a response (mask $m_t$), both zero after its last position",
    r"W_{t} = m_{t} V(s_{t}) + (1 - m_{t}) W_{t+1},\ "
    r"U_{t} = m_{t}\bigl(r_{t} + \gamma W_{t+1} - V(s_{t})\bigr) "
    r"+ (1 - m_{t} + \gamma\lambda m_{t}) U_{t+1},\ W_{t+N} = U_{t+N} = 0",
    definitions=("skip-scan",),
)

STANDARD: dict[str, Assumption] = {
    a.name: a
    for a in (
        CONVENTION,
        SEGMENT,
        N_STEPS,
        HORIZON,
        LAMBDA_LT_1,
        BOUNDED_DELTA,
        GAMMA_LT_1,
        BOUNDED_V,
        BOUNDED_RV,
        RECURSION,
        SKIP_SCAN,
    )
}
"""The assumptions by id; a derivation may declare others of its own."""

__all__ = [
    "BOUNDED_DELTA",
    "BOUNDED_RV",
    "BOUNDED_V",
    "CONVENTION",
    "GAMMA_LT_1",
    "HORIZON",
    "LAMBDA_LT_1",
    "N_STEPS",
    "RECURSION",
    "SEGMENT",
    "SKIP_SCAN",
    "STANDARD",
]
