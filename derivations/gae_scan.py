"""The scan: GAE over a segment split at k, and the associative combine of affine maps.

Write c_t = γλ(1 − d_t) (``scan_coefficient``): the recursion is A_t = δ_t + c_t A_{t+1},
step t is the affine map x ↦ δ_t + c_t x, and with A = 0 after the last step

    A_t = Z(t, e) = Σ_{l=0}^{e−t−1} (Π_{j=0}^{l−1} c_{t+j}) δ_{t+l}      (``scan_zero_carry``).

Split the segment t..e−1 at k = t + m: A_t = S_t + P_t · A_k with S_t = Z(t, k) (the
recursion on t..k−1 from a zero carry) and P_t = Π_{j=t}^{k−1} c_j (``scan_link_product``),
for symbolic m, K ≥ 0 and e = k + K. And the maps compose associatively:
(a₁, c₁) ∘ ((a₂, c₂) ∘ (a₃, c₃)) = ((a₁, c₁) ∘ (a₂, c₂)) ∘ (a₃, c₃) with
(a₁, c₁) ∘ (a₂, c₂) = (a₁ + c₁ a₂, c₁ c₂) (``scan_combine``). Together they are what a
chunked or parallel kernel needs: chunks are scanned from a zero carry, their (S, P) pairs
combined, and every A_t fixed up (Blelloch 1990, "Prefix sums and their applications";
the GAE recursion is the backward first-order linear recurrence of that paper).
"""

from __future__ import annotations

from sympy import Product, Sum, Symbol

from derivations._common import HORIZON, plus, times
from gae_sym.estimators import (
    gae_closed_form_flagged,
    gae_recursion,
    scan_coefficient,
    scan_combine,
    scan_join,
    scan_link_product,
    scan_zero_carry,
)
from gae_sym.proof import (
    Canonicalise,
    Derivation,
    Linearity,
    Proof,
    ShiftIndex,
    SplitAt,
    Statement,
    Step,
)
from gae_sym.proof.facts import Assumption
from gae_sym.symbols import A, N, delta, j, l, t

m = Symbol("m", integer=True, nonnegative=True)
"""Steps before the split point k = t + m."""
K = Symbol("K", integer=True, nonnegative=True)
"""Steps after the split point."""

SPLIT = Assumption(
    "split",
    "the segment from $t$ has $m + K$ steps, split after $m \\ge 0$ of them "
    "($k = t + m$, $K \\ge 0$ steps left after it)",
    r"k = t + m,\ m, K \in \{0, 1, \dots\}",
)


def _reach(first: int, last, shift=0):
    return Product(scan_coefficient(t + shift + j), (j, first, last))


_k, _end = t + m, t + m + K

STEP_MAP = Proof(
    "One step is an affine map of the carry",
    Statement(scan_join(delta[t], scan_coefficient(t), A[t + 1]), gae_recursion(t)),
    [Step(gae_recursion(t), r"$c_t = \gamma\lambda(1 - d_t)$", Canonicalise())],
)

CLOSED_FORM = Proof(
    "The zero-carry scan is the closed form of gae-recursion",
    Statement(
        scan_zero_carry(t, t + N),
        gae_closed_form_flagged(),
        lhs_latex=r"Z(t, t+N)",
    ),
    [
        Step(
            gae_closed_form_flagged(),
            r"$\prod_{j<l} \gamma\lambda(1 - d_{t+j}) = (\gamma\lambda)^{l}\prod_{j<l}(1-d_{t+j})$",
            Canonicalise(),
        )
    ],
    assumptions=["horizon-ge-1"],
)

SPLIT_PROOF = Proof(
    r"Split at $k = t + m$: $A_t = S_t + P_t A_k$",
    Statement(
        scan_zero_carry(t, _end),
        scan_join(scan_zero_carry(t, _k), scan_link_product(t, _k), scan_zero_carry(_k, _end)),
        lhs_latex=r"A_t",
        rhs_latex=r"S_t + P_t A_k",
    ),
    [
        Step(
            plus(
                Sum(times(_reach(0, l - 1), delta[t + l]), (l, 0, m - 1)),
                Sum(times(_reach(0, l - 1), delta[t + l]), (l, m, m + K - 1)),
            ),
            r"split the sum at $l = m$",
            SplitAt(l, at=m),
        ),
        Step(
            plus(
                Sum(times(_reach(0, l - 1), delta[t + l]), (l, 0, m - 1)),
                Sum(times(_reach(0, l + m - 1), delta[t + m + l]), (l, 0, K - 1)),
            ),
            r"shift the index of the second sum, $l \to l + m$",
            ShiftIndex(l, by=-m, select=lambda s: s.limits[-1][1] == m),
        ),
        Step(
            plus(
                Sum(times(_reach(0, l - 1), delta[t + l]), (l, 0, m - 1)),
                Sum(
                    times(_reach(0, m - 1), _reach(m, l + m - 1), delta[t + m + l]),
                    (l, 0, K - 1),
                ),
            ),
            r"split the product at $j = m$",
            SplitAt(j, at=m, select=lambda p: p.limits[-1][2] == l + m - 1),
        ),
        Step(
            plus(
                Sum(times(_reach(0, l - 1), delta[t + l]), (l, 0, m - 1)),
                Sum(
                    times(_reach(0, m - 1), _reach(0, l - 1, m), delta[t + m + l]),
                    (l, 0, K - 1),
                ),
            ),
            r"shift the index of the second product, $j \to j + m$",
            ShiftIndex(j, by=-m, select=lambda p: p.limits[-1][1] == m),
        ),
        Step(
            scan_join(scan_zero_carry(t, _k), scan_link_product(t, _k), scan_zero_carry(_k, _end)),
            r"$\prod_{j=0}^{m-1} c_{t+j}$ does not depend on $l$: it is $P_t$, and what is "
            r"left is the scan from $k$ to the end, $A_k$",
            Linearity(),
        ),
    ],
    assumptions=["split"],
)

_a = [Symbol(f"a{i}", real=True) for i in (1, 2, 3)]
_c = [Symbol(f"c{i}", real=True) for i in (1, 2, 3)]
_maps = list(zip(_a, _c, strict=True))
_left = scan_combine(scan_combine(_maps[0], _maps[1]), _maps[2])
_right = scan_combine(_maps[0], scan_combine(_maps[1], _maps[2]))

ASSOCIATIVE_OFFSET = Proof(
    r"Associativity: the offsets",
    Statement(_left[0], _right[0]),
    [Step(_right[0], r"$a_1 + c_1 a_2 + c_1 c_2 a_3$ either way", Canonicalise())],
)
ASSOCIATIVE_SLOPE = Proof(
    r"Associativity: the slopes",
    Statement(_left[1], _right[1]),
    [Step(_right[1], r"$c_1 c_2 c_3$ either way", Canonicalise())],
)

DERIVATION = Derivation(
    id="gae-scan",
    title="The scan: a split segment and the associative combine",
    summary=(
        r"With $c_t = \gamma\lambda(1 - d_t)$ each step of the backward recursion is the "
        r"affine map $x \mapsto \delta_t + c_t x$ of the carry. Cutting a segment at "
        r"$k$, the advantage is the part computed from a zero carry plus the carry "
        r"$A_k$ scaled by the product of the coefficients in between: "
        r"$A_t = S_t + P_t A_k$. Affine maps compose associatively, "
        r"$(a_1, c_1) \circ (a_2, c_2) = (a_1 + c_1 a_2,\ c_1 c_2)$, so chunks can be "
        r"scanned in any grouping: the basis of every chunked and parallel kernel."
    ),
    assumptions=[SPLIT, HORIZON],
    proofs=[STEP_MAP, CLOSED_FORM, SPLIT_PROOF, ASSOCIATIVE_OFFSET, ASSOCIATIVE_SLOPE],
)
