"""Named assumptions and display helpers shared by the derivation modules."""

from __future__ import annotations

from sympy import Expr, Mul

from gae_sym.proof import Assumption
from gae_sym.proof.render import written
from gae_sym.symbols import gamma, lam


def plus(*terms: Expr) -> Expr:
    """A sum written in the given order (unevaluated, so the printer keeps the order)."""
    return written(*terms)


def times(*factors: Expr) -> Expr:
    """A product written in the given order (unevaluated)."""
    return Mul(*factors, evaluate=False)


def minus(term: Expr) -> Expr:
    """−(term), kept as written."""
    return Mul(-1, term, evaluate=False)


SEGMENT = Assumption(
    "segment",
    "the steps lie inside one segment with no episode end, so the next state of step "
    "$t$ is $s_{t+1}$",
    r"V(s'_{t}) = V(s_{t+1}),\ d_{t} = 0",
)
N_STEPS = Assumption(
    "n-ge-1",
    "the number of steps $n$ is a positive integer; $t$ is any integer",
    r"n \in \{1, 2, \dots\},\ t \in \mathbb{Z}",
)
HORIZON = Assumption(
    "horizon-ge-1",
    "the segment has a positive integer number $N$ of steps",
    r"N \in \{1, 2, \dots\}",
)
LAMBDA_LT_1 = Assumption(
    "lambda-lt-1",
    "the trace parameter is below one (the weights $(1-\\lambda)\\lambda^{n-1}$ sum to one)",
    r"0 \le \lambda < 1",
    ratios=(lam,),
)
BOUNDED_DELTA = Assumption(
    "bounded-delta",
    "TD errors are bounded and $0 \\le \\gamma\\lambda < 1$, so every series in $\\delta$ "
    "converges absolutely",
    r"|\delta_{t}| \le C\ \forall t,\ 0 \le \gamma\lambda < 1",
    bounded=("delta",),
    ratios=(gamma * lam,),
)
GAMMA_LT_1 = Assumption(
    "gamma-lt-1",
    "the discount is below one and rewards are bounded, so "
    "$\\sum_{l} \\gamma^{l} r_{t+l}$ converges absolutely",
    r"0 \le \gamma < 1,\ |r_{t}| \le C\ \forall t",
    bounded=("r",),
    ratios=(gamma,),
)
BOUNDED_V = Assumption(
    "bounded-V",
    "values are bounded, so the discounted tail vanishes",
    r"|V(s)| \le C \Rightarrow \gamma^{N} V(s_{t+N}) \to 0 \text{ as } N \to \infty",
    bounded=("V",),
)
BOUNDED_RV = Assumption(
    "bounded-r-V",
    "rewards and values are bounded, so the series of n-step returns, split into its "
    "reward and value parts, converge absolutely for $\\lambda < 1$",
    r"|r_{t}| \le C,\ |V(s_{t})| \le C\ \forall t",
    bounded=("r", "V"),
)
RECURSION = Assumption(
    "recursion",
    "$\\hat{A}$ is defined by the backward recursion with done flags $d_t$ in $\\{0, 1\\}$, "
    "and is zero once no steps are left",
    r"\hat{A}_{t} = \delta_{t} + \gamma\lambda(1 - d_{t})\hat{A}_{t+1},\ \hat{A}_{t+N} = 0",
)
