"""The skip-masked backward scan of token-level GAE, as SymPy definitions.

What verl-style code runs over one response of positions t, …, t + N − 1 (prompt,
padding and tool-observation tokens included, ``m`` the response mask), scanning
backwards from W = U = 0 after the last position (the response ends: no bootstrap):

    W_t = m_t V_t + (1 − m_t) W_{t+1}                                   (value carried)
    U_t = m_t (r_t + γ W_{t+1} − V_t) + (1 − m_t + γλ m_t) U_{t+1}      (advantage carried)

On a response token (m_t = 1) this is δ_t = r_t + γ W_{t+1} − V_t and U_t = δ_t + γλ U_{t+1};
on a masked token (m_t = 0) both carries pass through unchanged. Both are linear
first-order recursions, with the closed forms (any real mask, symbolic N)

    W_t = Σ_{l=0}^{N−1} m_{t+l} V_{t+l} Π_{j=0}^{l−1} (1 − m_{t+j})
    U_t = Σ_{l=0}^{N−1} m_{t+l} (r_{t+l} + γ W_{t+l+1} − V_{t+l})
              · Π_{j=0}^{l−1} (1 − m_{t+j} + γλ m_{t+j})

proved in ``derivations/token_gae_masked.py``, which also proves that at consecutive
response tokens the scan is GAE's recursion on the compacted response.
"""

from __future__ import annotations

from sympy import Expr, Product, Sum

from gae_sym.symbols import N, U, V, W, gamma, j, l, lam, mask, r, t


def skip_value_recursion(time: Expr = t) -> Expr:
    """W_t = m_t V_t + (1 − m_t) W_{t+1}."""
    return mask[time] * V[time] + (1 - mask[time]) * W[time + 1]


def skip_advantage_recursion(time: Expr = t) -> Expr:
    """U_t = m_t (r_t + γ W_{t+1} − V_t) + (1 − m_t + γλ m_t) U_{t+1}."""
    delta = r[time] + gamma * W[time + 1] - V[time]
    return mask[time] * delta + (1 - mask[time] + gamma * lam * mask[time]) * U[time + 1]


def skip_value_closed_form(time: Expr = t, left: Expr = N, index=l, inner=j) -> Expr:
    """W_t = Σ_{l=0}^{N−1} m_{t+l} V_{t+l} Π_{j=0}^{l−1} (1 − m_{t+j}): the value of the first
    response token at or after t (a later one is cut by the factor 1 − m of the first)."""
    passes = Product(1 - mask[time + inner], (inner, 0, index - 1))
    return Sum(mask[time + index] * V[time + index] * passes, (index, 0, left - 1))


def skip_advantage_closed_form(time: Expr = t, left: Expr = N, index=l, inner=j) -> Expr:
    """U_t = Σ_{l=0}^{N−1} m_{t+l} (r_{t+l} + γ W_{t+l+1} − V_{t+l}) Π_{j=0}^{l−1} w_{t+j}, with
    w = 1 − m + γλ m: each response token's TD error, weighted by γλ once per response
    token before it."""
    at = time + index
    delta = r[at] + gamma * W[at + 1] - V[at]
    weight = Product(
        1 - mask[time + inner] + gamma * lam * mask[time + inner], (inner, 0, index - 1)
    )
    return Sum(mask[at] * delta * weight, (index, 0, left - 1))


__all__ = [
    "skip_advantage_closed_form",
    "skip_advantage_recursion",
    "skip_value_closed_form",
    "skip_value_recursion",
]
