"""The backward recursion of GAE, with done cuts, equals the closed-form sum.

    A_t = δ_t + γλ (1 − d_t) A_{t+1},  A_{t+N} = 0
    ⇒  A_t = Σ_{l=0}^{N−1} (γλ)^l [Π_{j=0}^{l−1} (1 − d_{t+j})] δ_{t+l}

for symbolic t and number of steps left N (the recursion is what the numeric kernels
run, the closed form what the theorems are about; Schulman et al. 2016, eq. 16, with
the done mask of the trajectory convention, DESIGN.md). The lecture's argument: the
closed form satisfies the recursion (split off its first term, shift both indices,
factor out γλ(1 − d_t)) and the end condition (an empty sum), so by induction on the
number of steps left it is the recursion's unique solution.
"""

from __future__ import annotations

from sympy import Product, Sum

from derivations._common import HORIZON, RECURSION, plus, times
from gae_sym.estimators import gae_closed_form_flagged, gae_recursion
from gae_sym.proof import (
    Derivation,
    Linearity,
    Proof,
    ShiftIndex,
    SolveRecursion,
    SplitFirst,
    Statement,
    Step,
)
from gae_sym.symbols import A, N, delta, done, gamma, j, l, lam, t

_gl = gamma * lam


def _mask(first, last, shift=0):
    return Product(1 - done[t + shift + j], (j, first, last))


PROOF = Proof(
    "Closed form solves the recursion",
    Statement(
        gae_closed_form_flagged(),
        A[t],
        rhs_latex=r"\hat{A}_t",
    ),
    [
        Step(
            plus(delta[t], Sum(times(_gl**l, _mask(0, l - 1), delta[t + l]), (l, 1, N - 1))),
            r"split off $l = 0$ (its mask is the empty product, 1)",
            SplitFirst(l),
        ),
        Step(
            plus(
                delta[t],
                Sum(times(_gl ** (l + 1), _mask(0, l), delta[t + l + 1]), (l, 0, N - 2)),
            ),
            r"shift the index, $l \to l + 1$",
            ShiftIndex(l, by=-1),
        ),
        Step(
            plus(
                delta[t],
                Sum(
                    times(_gl ** (l + 1), 1 - done[t], _mask(1, l), delta[t + l + 1]),
                    (l, 0, N - 2),
                ),
            ),
            r"split off the factor $j = 0$ of the mask",
            SplitFirst(j),
        ),
        Step(
            plus(
                delta[t],
                Sum(
                    times(_gl ** (l + 1), 1 - done[t], _mask(0, l - 1, 1), delta[t + l + 1]),
                    (l, 0, N - 2),
                ),
            ),
            r"shift the mask's index, $j \to j + 1$",
            ShiftIndex(j, by=-1),
        ),
        Step(
            plus(
                delta[t],
                times(
                    gamma,
                    lam,
                    1 - done[t],
                    Sum(times(_gl**l, _mask(0, l - 1, 1), delta[t + 1 + l]), (l, 0, N - 2)),
                ),
            ),
            r"factor out $\gamma\lambda(1 - d_t)$: the sum is the closed form at $t + 1$ "
            r"with $N - 1$ steps left",
            Linearity(),
        ),
        Step(
            A[t],
            r"the closed form satisfies the recursion and is 0 with no steps left "
            r"(empty sum); by induction on $N$ it is the recursion's solution",
            SolveRecursion(A, gae_recursion, gae_closed_form_flagged, t, N),
        ),
    ],
    assumptions=["recursion", "horizon-ge-1"],
)

DERIVATION = Derivation(
    id="gae-recursion",
    title="The backward recursion with done cuts equals the closed form",
    summary=(
        r"Numeric GAE runs backwards: "
        r"$\hat{A}_t = \delta_t + \gamma\lambda(1 - d_t)\hat{A}_{t+1}$, starting from 0 "
        r"after the last step. Unrolled, the TD error $l$ steps ahead enters with weight "
        r"$(\gamma\lambda)^{l}$ times the product of $(1 - d)$ over the steps in between, "
        r"so an episode end at step $t + j$ cuts every later TD error out of "
        r"$\hat{A}_t$. Truncation still bootstraps, through $\delta$ "
        r"(which uses $V(s'_t)$ unless the step terminated)."
    ),
    assumptions=[RECURSION, HORIZON],
    proofs=[PROOF],
)
