"""GAE over a response that ends: λ = 1 gives the Monte-Carlo form; γ = λ = 1 with one
terminal reward R gives R − V_t for every response token.

    λ = 1:        Σ_{l=0}^{N−1} γ^l (r_{t+l} + γV_{t+l+1} − V_{t+l}) + γ^N (r_{t+N} − V_{t+N})
                  = Σ_{l=0}^{N} γ^l r_{t+l} − V_t
    γ = λ = 1:    Σ_{l=0}^{N−1} (V_{t+l+1} − V_{t+l}) + (R − V_{t+N}) = R − V_t

for symbolic t and N ≥ 1 response tokens after t (token t + N is the last; for the last
token itself A = r − V by definition), on the compacted response (the
masked tokens removed; that this is what skip-masked GAE computes is ``token-gae-masked``).
The last response token bootstraps from nothing: the state after it is terminal. The
proof is the lecture's telescoping: write out the TD errors, shift the bootstrap sum,
split off its last and the baseline sum's first term, and let the rest cancel.
"""

from __future__ import annotations

from sympy import Sum

from derivations._common import HORIZON, minus, plus, times
from gae_sym.llm_estimators import R, response_return_to_go, terminal_gae, terminal_reward_gae
from gae_sym.proof import (
    ApplyTheorem,
    Derivation,
    Linearity,
    Proof,
    ShiftIndex,
    SplitFirst,
    SplitLast,
    Statement,
    Step,
    Substitute,
    involving,
)
from gae_sym.symbols import N, V, gamma, l, lam, r, t

_last = t + N
_rewards_head = Sum(gamma**l * r[t + l], (l, 0, N - 1))
_boot = Sum(gamma**l * V[t + l], (l, 1, N))
_base = Sum(gamma**l * V[t + l], (l, 0, N - 1))
_middle = Sum(gamma**l * V[t + l], (l, 1, N - 1))

# Σ_{l=0}^{N−1} γ^l r_{t+l} − V_t, split off its last reward: used backwards to merge.
REWARDS_SPLIT = Proof(
    "The return-to-go, its last reward split off",
    Statement(
        plus(response_return_to_go(left=N + 1), -V[t]),
        plus(_rewards_head, gamma**N * r[_last], -V[t]),
    ),
    [
        Step(
            plus(_rewards_head, gamma**N * r[_last], -V[t]),
            r"split off the last reward, $l = N$",
            SplitLast(l),
        )
    ],
    assumptions=["horizon-ge-1"],
)

MONTE_CARLO = Proof(
    r"$\lambda = 1$: the Monte-Carlo form",
    Statement(
        terminal_gae(left=N + 1),
        plus(response_return_to_go(left=N + 1), -V[t]),
        lhs_latex=r"\hat{A}^{\mathrm{GAE}(\gamma,1)}_t",
        at={lam: 1},
    ),
    [
        Step(
            plus(
                Sum(
                    times(gamma**l, plus(r[t + l], gamma * V[t + l + 1], -V[t + l])), (l, 0, N - 1)
                ),
                times(gamma**N, plus(r[_last], -V[_last])),
            ),
            r"set $\lambda = 1$",
            Substitute({lam: 1}),
        ),
        Step(
            plus(
                _rewards_head,
                Sum(gamma ** (l + 1) * V[t + l + 1], (l, 0, N - 1)),
                minus(_base),
                gamma**N * r[_last],
                minus(gamma**N * V[_last]),
            ),
            "linearity: one sum per term",
            Linearity(),
        ),
        Step(
            plus(
                _rewards_head, _boot, minus(_base), gamma**N * r[_last], minus(gamma**N * V[_last])
            ),
            r"shift the index of the bootstrap sum, $l + 1 \to l$",
            ShiftIndex(l, select=involving(V[t + l + 1]), by=1),
        ),
        Step(
            plus(
                _rewards_head,
                _middle,
                gamma**N * V[_last],
                minus(_base),
                gamma**N * r[_last],
                minus(gamma**N * V[_last]),
            ),
            r"split off its last term $l = N$",
            SplitLast(l, select=lambda s: s.limits[0][1] == 1),
        ),
        Step(
            plus(
                _rewards_head,
                _middle,
                gamma**N * V[_last],
                minus(plus(V[t], _middle)),
                gamma**N * r[_last],
                minus(gamma**N * V[_last]),
            ),
            r"split off the first term $l = 0$ of the baseline sum",
            SplitFirst(l, select=lambda s: s.limits[0][1] == 0 and s.function.has(V)),
        ),
        Step(
            plus(_rewards_head, gamma**N * r[_last], -V[t]),
            r"the value sums over $l = 1, \dots, N - 1$ and the last values cancel",
            Linearity(),
        ),
        Step(
            plus(response_return_to_go(left=N + 1), -V[t]),
            "merge the last reward back into the return-to-go",
            ApplyTheorem(REWARDS_SPLIT, reverse=True),
        ),
    ],
    assumptions=["horizon-ge-1"],
)

_values_next = Sum(V[t + l + 1], (l, 0, N - 1))
_values_here = Sum(V[t + l], (l, 0, N - 1))

TERMINAL_REWARD = Proof(
    r"$\gamma = \lambda = 1$, one terminal reward",
    Statement(
        terminal_reward_gae(left=N + 1),
        R - V[t],
        lhs_latex=r"\hat{A}^{\mathrm{GAE}(1,1)}_t",
        at={gamma: 1, lam: 1},
    ),
    [
        Step(
            plus(Sum(plus(V[t + l + 1], -V[t + l]), (l, 0, N - 1)), plus(R, -V[_last])),
            r"set $\gamma = \lambda = 1$",
            Substitute({gamma: 1, lam: 1}),
        ),
        Step(
            plus(_values_next, minus(_values_here), R, -V[_last]),
            "linearity",
            Linearity(),
        ),
        Step(
            plus(Sum(V[t + l + 1], (l, 0, N - 2)), V[_last], minus(_values_here), R, -V[_last]),
            r"split off the last bootstrap, $l = N - 1$",
            SplitLast(l, select=involving(V[t + l + 1])),
        ),
        Step(
            plus(
                Sum(V[t + l + 1], (l, 0, N - 2)),
                V[_last],
                minus(plus(V[t], Sum(V[t + l], (l, 1, N - 1)))),
                R,
                -V[_last],
            ),
            r"split off the first baseline, $l = 0$",
            SplitFirst(l, select=lambda s: not s.function.has(V[t + l + 1])),
        ),
        Step(
            R - V[t],
            r"$\sum_{l=0}^{N-3} V_{t+l+1} = \sum_{l=1}^{N-2} V_{t+l}$: everything but "
            r"$R - V_t$ cancels",
            Linearity(),
        ),
    ],
    assumptions=["horizon-ge-1"],
)

DERIVATION = Derivation(
    id="llm-terminal-reward",
    title=(
        "A response with a terminal reward: GAE at $\\lambda = 1$ and at $\\gamma = \\lambda = 1$"
    ),
    summary=(
        r"In the token MDP of a language model the state after the last response token is "
        r"terminal, so GAE bootstraps nothing there. With $\lambda = 1$ the TD errors "
        r"telescope to the discounted return-to-go over the response minus $V_t$ (the "
        r"Monte-Carlo form, per-token rewards such as KL terms included); with "
        r"$\gamma = \lambda = 1$ and one reward $R$ on the last token, every response token "
        r"gets $A_t = R - V_t$: the same sequence reward, minus the critic's value at that "
        r"token. Both are proved for a symbolic number $N \ge 1$ of response tokens left, on "
        r"the compacted response (masked tokens removed: theorem token-gae-masked). Written "
        r"into the statement, not derived: the TD error of the last token, "
        r"$r_{t+N-1} - V_{t+N-1}$ (the kernel has no fact that says a value is 0 at one index)."
    ),
    assumptions=[HORIZON],
    proofs=[REWARDS_SPLIT, MONTE_CARLO, TERMINAL_REWARD],
)
