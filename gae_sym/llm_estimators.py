"""Advantage estimators for RL on language models, as SymPy definitions.

Two families, each a contract that ``numeric.llm`` implements and the proofs of
``derivations/`` (``llm-terminal-reward``, ``rloo``, ``baseline-unbiased``,
``token-gae-masked``) are about.

**Token level.** Arrays of shape ``(B, L)``: B responses, L token positions (prompt and
padding included). ``token_level_rewards[b, t]`` is the reward of token t (usually the
sequence reward on the last response token, possibly per-token KL terms), ``values[b, t]``
the critic's V at token t, ``response_mask[b, t]`` is 1 on tokens the policy generated and
0 on prompt, padding and observation tokens inserted by a tool (multi-turn agents).

GAE over a response *skips* masked tokens: scanning backwards,

    δ_t    = r_t + γ V_next − V_t
    A_t    = δ_t + γλ A_next                          on a response token (mask 1)
    V_next ← m_t V_t + (1 − m_t) V_next
    A_next ← m_t A_t + (1 − m_t) A_next               (a masked token passes both through)

starting from V_next = A_next = 0 after the last position (the response ends: no
bootstrap). So the advantage of each response token equals GAE on the compacted sequence
of response tokens alone (what verl does for multi-turn masks). On masked tokens the
advantage reported is 0 (``numeric.llm.token_gae``); the carry only passes through them.
Returns are ``advantages + values`` on response tokens, computed *before* any whitening.
Whitening (``whiten``) is a separate, explicit step: (A − mean)/sqrt(var + ε) with mean
and (biased) variance over the response tokens of the batch only.

**Group (outcome) estimators.** ``scores`` of shape ``(B,)``, one per response, and a
``group_ids`` array of shape ``(B,)`` (the K responses to one prompt share an id):

* GRPO: (r_i − mean_g)/(std_g + ε); ``std="unbiased"`` divides the squared deviations by
  K − 1 (``torch.std``'s default, what verl and TRL use), ``std="biased"`` by K. A group of
  one has advantage 0 (its std is defined as 1 in the unbiased case, as in verl);
* Dr. GRPO (Liu et al. 2025): r_i − mean_g, no std. Its second remark, normalising the
  policy loss by a constant instead of each response's length, is about the loss, not the
  advantage;
* RLOO (Ahmadian et al. 2024): r_i − (1/(K−1)) Σ_{j≠i} r_j = K/(K−1) (r_i − mean_g) (proved,
  ``derivations/rloo.py``);
* REINFORCE++ (Hu 2025): the token-level discounted return-to-go of the rewards over the
  response tokens, whitened over the batch's response tokens.

A group of one response has no baseline: like verl, its mean is taken as 0 and its std
as 1, so its advantage is r_i (GRPO: r_i/(1 + ε)).

Group advantages are broadcast over a response's tokens with the mask: A[b, t] = a_b m[b, t].
"""

from __future__ import annotations

from sympy import Expr, IndexedBase, Integer, Rational, Sum, Symbol, sqrt

from gae_sym.symbols import V, gamma, j, l, lam, r, t

K = Symbol("K", integer=True, positive=True)
"""Group size: the number of responses sampled for one prompt."""
i = Symbol("i", integer=True, nonnegative=True)
"""Index of a response inside its group, i = 0, …, K − 1."""
c = Symbol("c", integer=True, nonnegative=True)
"""A second response index (of another sample, or of the outcome space)."""
M = Symbol("M", integer=True, positive=True)
"""Number of possible responses of a categorical policy (the outcome space)."""
R = Symbol("R", real=True)
"""The sequence-level reward of a response, placed on its last token."""
EPS = Rational(1, 10**6)
"""GRPO's ε in the SymPy oracles (the numeric kernels take ``eps=1e-6``)."""

w = IndexedBase("w", real=True)
"""Unnormalised policy weights, π(a) = w_a / Σ_b w_b (any categorical policy)."""
u = IndexedBase("u", real=True)
"""The derivative of w_a along one parameter direction, u_a = ∂w_a/∂θ."""
score = IndexedBase("f", real=True)
"""The reward f(a) of response a (any function of the response)."""


# --- group estimators ------------------------------------------------------------------


def group_mean(size: Expr = K, index=j) -> Expr:
    """r̄ = (1/K) Σ_{j=0}^{K−1} r_j."""
    return Sum(r[index], (index, 0, size - 1)) / size


def leave_one_out_sum(member: Expr = i, size: Expr = K, index=j) -> Expr:
    """Σ_{j≠i} r_j, written as the two sums either side of i."""
    return Sum(r[index], (index, 0, member - 1)) + Sum(r[index], (index, member + 1, size - 1))


def rloo_advantage(member: Expr = i, size: Expr = K, index=j) -> Expr:
    """A^RLOO_i = r_i − (1/(K−1)) Σ_{j≠i} r_j (needs K ≥ 2)."""
    return r[member] - leave_one_out_sum(member, size, index) / (size - 1)


def rloo_advantage_mean_form(member: Expr = i, size: Expr = K, index=j) -> Expr:
    """A^RLOO_i = K/(K−1) (r_i − r̄)."""
    return size / (size - 1) * (r[member] - group_mean(size, index))


def drgrpo_advantage(member: Expr = i, size: Expr = K, index=j) -> Expr:
    """A^DrGRPO_i = r_i − r̄ (Liu et al. 2025: no division by the std)."""
    return r[member] - group_mean(size, index)


def group_std(size: Expr = K, unbiased: bool = True, index=j) -> Expr:
    """std_g = sqrt(Σ_j (r_j − r̄)² / (K − 1)) (unbiased) or / K (biased)."""
    return sqrt(sample_variance(size, unbiased, index))


def grpo_advantage(
    member: Expr = i, size: Expr = K, unbiased: bool = True, eps: Expr = EPS
) -> Expr:
    """A^GRPO_i = (r_i − r̄)/(std_g + ε) (Shao et al. 2024)."""
    return drgrpo_advantage(member, size) / (group_std(size, unbiased) + eps)


# --- token level -----------------------------------------------------------------------


def terminal_gae(time: Expr = t, left: Expr = None, index=l) -> Expr:
    """GAE at response token t with N tokens left, the last one ending the response:

    Σ_{l=0}^{N−2} (γλ)^l (r_{t+l} + γ V_{t+l+1} − V_{t+l}) + (γλ)^{N−1} (r_{t+N−1} − V_{t+N−1})

    (the state after the last token is terminal: nothing is bootstrapped), on the compacted
    response, i.e. with masked tokens removed."""
    from gae_sym.symbols import N

    left = N if left is None else left
    gl = gamma * lam
    body = gl**index * (r[time + index] + gamma * V[time + index + 1] - V[time + index])
    last = time + left - 1
    return Sum(body, (index, 0, left - 2)) + gl ** (left - 1) * (r[last] - V[last])


def terminal_reward_gae(time: Expr = t, left: Expr = None, index=l) -> Expr:
    """``terminal_gae`` when the only reward is R on the last token (no per-token terms)."""
    from gae_sym.symbols import N

    left = N if left is None else left
    gl = gamma * lam
    body = gl**index * (gamma * V[time + index + 1] - V[time + index])
    last = time + left - 1
    return Sum(body, (index, 0, left - 2)) + gl ** (left - 1) * (R - V[last])


def response_return_to_go(time: Expr = t, left: Expr = None, index=l) -> Expr:
    """G_t = Σ_{l=0}^{N−1} γ^l r_{t+l}: the discounted return-to-go over the response
    (REINFORCE++ before whitening; the λ = 1 GAE plus V_t)."""
    from gae_sym.symbols import N

    left = N if left is None else left
    return Sum(gamma**index * r[time + index], (index, 0, left - 1))


# --- the per-token updates the kernels run (printed by ``gae-sym codegen``) ---------------

mask = IndexedBase("m", real=True)
"""The response mask m_t: 1 on a token the policy generated, 0 on prompt, padding and
observation tokens."""
next_value = Symbol("v_next", real=True)
"""The value carried backwards: V of the next response token (0 after the last one)."""
next_advantage = Symbol("a_next", real=True)
"""The advantage carried backwards: A of the next response token (0 after the last one)."""
next_return = Symbol("g_next", real=True)
"""The return-to-go carried backwards (REINFORCE++)."""


def token_td_error(time: Expr = t, carried_value: Expr = next_value) -> Expr:
    """δ_t = r_t + γ V_next − V_t: the TD error of a response token, V_next the value of
    the next *response* token (the carry), never of a prompt, padding or observation token."""
    return r[time] + gamma * carried_value - V[time]


def token_gae_step(
    time: Expr = t, carried_value: Expr = next_value, carried_advantage: Expr = next_advantage
) -> Expr:
    """A_t = δ_t + γλ A_next: the GAE recursion on the compacted response."""
    return token_td_error(time, carried_value) + gamma * lam * carried_advantage


def skip_carry(time: Expr, own: Expr, carried: Expr) -> Expr:
    """m_t a + (1 − m_t) x: a response token carries its own a, a masked token passes the
    carried x through unchanged (both cases proved in ``token-gae-masked``)."""
    return mask[time] * own + (1 - mask[time]) * carried


def reset_carry(time: Expr, own: Expr) -> Expr:
    """m_t a: the carry is reset to 0 after a masked token (verl's REINFORCE++)."""
    return mask[time] * own


def on_response(time: Expr, value: Expr) -> Expr:
    """m_t x: a per-token quantity kept on response tokens and 0 on masked ones (also a
    per-response advantage broadcast over its tokens, A[b, t] = a_b m[b, t])."""
    return mask[time] * value


def token_return(advantage: Expr, time: Expr = t) -> Expr:
    """G_t = A_t + V_t: the critic's target, taken before any whitening."""
    return advantage + V[time]


def return_to_go_step(time: Expr = t, carried: Expr = next_return) -> Expr:
    """G_t = r_t + γ G_next: the recursion of ``response_return_to_go`` (REINFORCE++)."""
    return r[time] + gamma * carried


def sample_variance(size: Expr = K, unbiased: bool = True, index=j) -> Expr:
    """Σ_j (r_j − r̄)² / (K − 1) (unbiased) or / K (biased)."""
    mean = group_mean(size, index)
    divisor = size - 1 if unbiased else size
    return Sum((r[index] - mean) ** 2, (index, 0, size - 1)) / divisor


def whitened(value: Expr, mean: Expr, variance: Expr, eps: Expr) -> Expr:
    """(x − mean)/sqrt(var + ε): whitening, mean and var over the batch's response tokens
    (verl's ``masked_whiten``: unbiased var, ε = 1e-8)."""
    return (value - mean) / sqrt(variance + eps)


# --- the policy-gradient identity --------------------------------------------------------


def policy(action: Expr = c, size: Expr = M, index=j) -> Expr:
    """π(a) = w_a / Σ_{b=0}^{M−1} w_b: every categorical policy over M responses (softmax
    is w = exp(logits))."""
    return w[action] / Sum(w[index], (index, 0, size - 1))


def policy_derivative(action: Expr = c, size: Expr = M, index=j) -> Expr:
    """∂π(a)/∂θ by the quotient rule, with u = ∂w/∂θ:

    (u_a Σ_b w_b − w_a Σ_b u_b) / (Σ_b w_b)²  (= π(a) ∂ log π(a)/∂θ)."""
    total = Sum(w[index], (index, 0, size - 1))
    return (u[action] * total - w[action] * Sum(u[index], (index, 0, size - 1))) / total**2


# --- concrete instances, for the numeric oracles -----------------------------------------


def masked_gae_instance(mask, gamma_value=gamma, lam_value=lam):
    """(rewards, values, advantages) for one response of length L with a concrete mask:
    symbols r_0.., v_0.. and the SymPy expression of every position's skip-GAE advantage
    (0 on masked positions). The oracle the numeric kernels are tested against."""
    length = len(mask)
    rs = [Symbol(f"r_{p}", real=True) for p in range(length)]
    vs = [Symbol(f"v_{p}", real=True) for p in range(length)]
    positions = [p for p in range(length) if mask[p]]
    advantages: list[Expr] = [Integer(0)] * length
    # GAE of the compacted sequence, written as the closed-form sum (not the recursion).
    for k, p in enumerate(positions):
        total = Integer(0)
        for offset, q in enumerate(positions[k:]):
            nxt = positions[k + offset + 1] if k + offset + 1 < len(positions) else None
            bootstrap = vs[nxt] if nxt is not None else Integer(0)
            delta_q = rs[q] + gamma_value * bootstrap - vs[q]
            total += (gamma_value * lam_value) ** offset * delta_q
        advantages[p] = total
    return rs, vs, advantages


def reinforce_pp_instance(mask, mode: str = "reset", gamma_value=gamma):
    """(rewards, returns) for one response of length L with a concrete mask: symbols r_0..
    and the SymPy expression of every position's REINFORCE++ return-to-go (0 on masked
    positions), from ``response_return_to_go`` written out on the right stretch of tokens:

    * ``"skip"``: the compacted sequence of response tokens (masked tokens removed);
    * ``"reset"`` (verl): the run of consecutive response tokens holding the position (the
      running return restarts at 0 before every masked token).

    The oracle the numeric kernels' two ``mask_mode``s are tested against."""
    if mode not in ("reset", "skip"):
        raise ValueError(f"mode must be reset or skip, got {mode!r}")
    from gae_sym.symbols import N

    length = len(mask)
    rs = [Symbol(f"r_{p}", real=True) for p in range(length)]
    returns: list[Expr] = [Integer(0)] * length
    if mode == "skip":
        stretches = [[p for p in range(length) if mask[p]]]
    else:
        stretches, run = [], []
        for p in range(length):
            if mask[p]:
                run.append(p)
            elif run:
                stretches.append(run)
                run = []
        stretches.append(run)
    for stretch in stretches:
        for k, p in enumerate(stretch):
            closed = response_return_to_go(Integer(k), N).subs(N, len(stretch) - k).doit()
            closed = closed.subs(gamma, gamma_value)
            returns[p] = closed.subs(
                {r[k + q]: rs[stretch[k + q]] for q in range(len(stretch) - k)}
            )
    return rs, returns


def group_instance(size: int, estimator: str, eps=EPS):
    """(scores, advantages) for one group of ``size`` responses as SymPy expressions:
    estimator in {"grpo-unbiased", "grpo-biased", "drgrpo", "rloo"}."""
    rs = [Symbol(f"r_{p}", real=True) for p in range(size)]
    mean = sum(rs, Integer(0)) / size if size > 1 else Integer(0)
    if estimator == "drgrpo":
        return rs, [x - mean for x in rs]
    if estimator == "rloo":
        if size == 1:
            return rs, list(rs)
        total = sum(rs, Integer(0))
        return rs, [x - (total - x) / (size - 1) for x in rs]
    if estimator in ("grpo-unbiased", "grpo-biased"):
        if size == 1:
            return rs, [rs[0] / (1 + eps)]
        divisor = size - 1 if estimator == "grpo-unbiased" else size
        std = sqrt(sum(((x - mean) ** 2 for x in rs), Integer(0)) / divisor)
        return rs, [(x - mean) / (std + eps) for x in rs]
    raise ValueError(f"unknown group estimator {estimator!r}")


__all__ = [
    "K",
    "M",
    "R",
    "c",
    "drgrpo_advantage",
    "group_instance",
    "group_mean",
    "group_std",
    "grpo_advantage",
    "i",
    "leave_one_out_sum",
    "mask",
    "masked_gae_instance",
    "next_advantage",
    "next_return",
    "next_value",
    "on_response",
    "policy",
    "policy_derivative",
    "reinforce_pp_instance",
    "reset_carry",
    "response_return_to_go",
    "return_to_go_step",
    "rloo_advantage",
    "rloo_advantage_mean_form",
    "sample_variance",
    "score",
    "skip_carry",
    "terminal_gae",
    "terminal_reward_gae",
    "token_gae_step",
    "token_return",
    "token_td_error",
    "u",
    "w",
    "whitened",
]
