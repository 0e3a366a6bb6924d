"""Bias and variance of advantage estimators on a small MDP whose values are known exactly.

The ground truth comes from linear algebra, not from sampling: for a fixed policy π on a
finite, terminating MDP, V^π = (I − γ P_π)^{-1} r_π and Q^π(s, a) = R(s, a) + γ Σ_{s'}
P(s' | s, a) V^π(s'), so the true advantage A^π(s, a) = Q^π(s, a) − V^π(s) is exact.

Each estimator is then sampled from many trajectories at once (time-major arrays, one
batch column per trajectory) through the public ``numeric`` kernels, for every
start pair (s_0, a_0), with value functions V̂ = V^π + error for three kinds of error:

* ``exact``: V̂ = V^π;
* ``noise``: V̂ = V^π + ε(s), ε drawn once per state (a fixed, wrong critic);
* ``bias``:  V̂ = V^π + c, the same constant in every state.

Two biases are reported against A^π(s_0, a_0):

* the *bias* E[Â | s_0, a_0] − A^π(s_0, a_0);
* the *gradient bias*: the part of the bias that depends on the action,
  b(s, a) − Σ_{a'} π(a' | s) b(s, a'). A bias that depends on the state only acts as a
  baseline and cancels in E[∇ log π(a | s) Â]; only the gradient bias moves the policy
  gradient. This is the sense in which GAE(γ, 1) is unbiased "whatever V̂" (Schulman et
  al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage Estimation",
  §3, γ-just estimators): Â = G − V̂(s_0) is off by −ε(s_0), a baseline.

Episode ends: the MDP terminates (an absorbing terminal state, V = 0 there) with
probability 3–12 % per step, and trajectories are cut after ``horizon`` steps with a
truncation flag and a bootstrap V̂(s_T). The expectation of every estimator under that
truncation is also computed exactly (propagating the state distribution), so the sampled
numbers are checked against exact ones, and the truncation weight max γ^T P(alive at T)
says how much the cut could matter (about 1e-7 at the default horizon: negligible).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import numeric

LAMBDAS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
NSTEPS: tuple[int, ...] = (2, 4, 8, 16)
ERROR_KINDS: tuple[str, ...] = ("exact", "noise", "bias")


@dataclass(frozen=True)
class MDP:
    """A finite MDP with an absorbing terminal state and a fixed stochastic policy.

    Shapes: ``P[s, a, s']`` (S, A, S) transition probabilities *among non-terminal states*
    (each row sums to 1 − termination probability); ``R[s, a]`` (S, A) mean rewards;
    ``policy[s, a]`` (S, A); rewards are observed with Gaussian noise ``reward_noise``.
    """

    P: np.ndarray
    R: np.ndarray
    policy: np.ndarray
    gamma: float
    reward_noise: float

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def termination(self) -> np.ndarray:
        """P(episode ends | s, a), shape (S, A)."""
        return 1.0 - self.P.sum(axis=2)


def random_mdp(
    n_states: int = 6,
    n_actions: int = 2,
    gamma: float = 0.95,
    reward_noise: float = 0.5,
    seed: int = 0,
) -> MDP:
    """A random terminating MDP and policy (fixed seed), termination 3–12 % per step."""
    rng = np.random.default_rng(seed)
    stay = 1.0 - rng.uniform(0.03, 0.12, size=(n_states, n_actions))
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions)) * stay[..., None]
    R = rng.uniform(-1.0, 1.0, size=(n_states, n_actions))
    logits = rng.normal(size=(n_states, n_actions))
    policy = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return MDP(P=P, R=R, policy=policy, gamma=gamma, reward_noise=reward_noise)


def policy_transition(mdp: MDP) -> np.ndarray:
    """P_π[s, s'] = Σ_a π(a | s) P(s' | s, a), shape (S, S) (sub-stochastic)."""
    return np.einsum("sa,sat->st", mdp.policy, mdp.P)


def exact_values(mdp: MDP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(V^π, Q^π, A^π) by solving (I − γ P_π) V = r_π; shapes (S,), (S, A), (S, A)."""
    r_pi = (mdp.policy * mdp.R).sum(axis=1)
    V = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * policy_transition(mdp), r_pi)
    Q = mdp.R + mdp.gamma * mdp.P @ V
    return V, Q, Q - V[:, None]


def value_errors(
    mdp: MDP, noise_scale: float = 1.0, bias: float = 2.0, seed: int = 1
) -> dict[str, np.ndarray]:
    """The critic errors V̂ − V^π by kind: none, fixed per-state noise, a constant shift."""
    rng = np.random.default_rng(seed)
    return {
        "exact": np.zeros(mdp.n_states),
        "noise": rng.normal(0.0, noise_scale, size=mdp.n_states),
        "bias": np.full(mdp.n_states, bias),
    }


@dataclass(frozen=True)
class Trajectories:
    """Sampled trajectories, time-major: one column per (start pair, repetition).

    ``states`` (T + 1, B) holds the state index, ``S`` (one past the last) once terminated;
    ``pair`` (B,) is the index s_0 * A + a_0 of each column's start pair.
    """

    states: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    pair: np.ndarray


def _sample_categorical(
    rng: np.random.Generator, probs: np.ndarray, complete: bool = False
) -> np.ndarray:
    """One draw per row of ``probs``; rows may sum to < 1, the rest being index len(row).

    ``complete`` rows sum to one: rounding must then never yield the extra index.
    """
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[0])[:, None]
    draw = (u >= cumulative).sum(axis=-1)
    return np.minimum(draw, probs.shape[-1] - 1) if complete else draw


def sample_trajectories(
    mdp: MDP, samples_per_pair: int, horizon: int, seed: int = 2
) -> Trajectories:
    """Roll out π from every (s_0, a_0), ``samples_per_pair`` times each, for ``horizon`` steps.

    After termination a column is padded (state S, reward 0, ``terminated`` True) so the
    kernels' done-cut ignores it; a column still running at the last step is marked
    ``truncated`` there and bootstraps from V̂(s_T).
    """
    rng = np.random.default_rng(seed)
    S, A = mdp.n_states, mdp.n_actions
    pair = np.repeat(np.arange(S * A), samples_per_pair)
    batch = pair.size
    states = np.full((horizon + 1, batch), S, dtype=np.int64)
    rewards = np.zeros((horizon, batch))
    terminated = np.ones((horizon, batch), dtype=bool)
    truncated = np.zeros((horizon, batch), dtype=bool)
    # Appending a terminal row makes "already ended" columns stay ended without branches.
    P_ext = np.concatenate([mdp.P, np.zeros((1, A, S))], axis=0)
    R_ext = np.concatenate([mdp.R, np.zeros((1, A))], axis=0)
    policy_ext = np.concatenate([mdp.policy, np.full((1, A), 1.0 / A)], axis=0)
    states[0] = pair // A
    action = pair % A
    for step in range(horizon):
        s = states[step]
        if step > 0:
            action = _sample_categorical(rng, policy_ext[s], complete=True)
        alive = s < S
        rewards[step] = np.where(
            alive, R_ext[s, action] + mdp.reward_noise * rng.standard_normal(batch), 0.0
        )
        nxt = _sample_categorical(rng, P_ext[s, action])
        states[step + 1] = nxt
        terminated[step] = ~alive | (nxt == S)
    truncated[-1] = states[-1] < S
    return Trajectories(states, rewards, terminated, truncated, pair)


def _critic_arrays(traj: Trajectories, v_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, next_values) of a critic ``v_hat`` (S,) along the trajectories; 0 once ended."""
    v_ext = np.append(v_hat, 0.0)
    return v_ext[traj.states[:-1]], v_ext[traj.states[1:]]


@dataclass(frozen=True)
class Estimator:
    """One sampled estimator: a name, its parameter, the numeric call and its step weights.

    ``weights(gamma, horizon)`` gives w_l with E[Â_0] = Σ_l w_l E[δ̂_l · 1{alive at l}], used
    for the exact expectation; ``uses_critic`` False means V̂ ≡ 0 (REINFORCE's return).
    """

    name: str
    param: str | None
    param_value: float | int | None
    compute: Callable[..., np.ndarray]
    weights: Callable[[float, int], np.ndarray]
    steps_needed: Callable[[int], int]
    uses_critic: bool = True


def _power_weights(decay: float, length: int, horizon: int) -> np.ndarray:
    w = np.zeros(horizon)
    k = min(length, horizon)
    w[:k] = decay ** np.arange(k)
    return w


def default_estimators(
    lambdas: Sequence[float] = LAMBDAS, nsteps: Sequence[int] = NSTEPS
) -> list[Estimator]:
    """TD error, n-step for each n, GAE for each λ, Monte Carlo, REINFORCE's return."""
    out = [
        Estimator(
            "td-error",
            None,
            None,
            lambda r, v, nv, te, tr, g: numeric.td_error(r, v, nv, te, tr, gamma=g),
            lambda g, h: _power_weights(g, 1, h),
            lambda h: 1,
        )
    ]
    for n in nsteps:
        out.append(
            Estimator(
                "nstep",
                "n",
                int(n),
                lambda r, v, nv, te, tr, g, n=n: numeric.nstep_advantage(
                    r, v, nv, te, tr, gamma=g, n=n
                ),
                lambda g, h, n=n: _power_weights(g, n, h),
                lambda h, n=n: min(n, h),
            )
        )
    for lam in lambdas:
        out.append(
            Estimator(
                "gae",
                "lambda",
                float(lam),
                lambda r, v, nv, te, tr, g, lam=lam: numeric.gae(
                    r, v, nv, te, tr, gamma=g, lam=lam
                ),
                lambda g, h, lam=lam: _power_weights(g * lam, h, h),
                lambda h: h,
            )
        )
    out.append(
        Estimator(
            "mc",
            None,
            None,
            lambda r, v, nv, te, tr, g: numeric.mc_advantage(r, v, nv, te, tr, gamma=g),
            lambda g, h: _power_weights(g, h, h),
            lambda h: h,
        )
    )
    out.append(
        Estimator(
            "reinforce",
            None,
            None,
            lambda r, v, nv, te, tr, g: numeric.mc_advantage(r, v, nv, te, tr, gamma=g),
            lambda g, h: _power_weights(g, h, h),
            lambda h: h,
            uses_critic=False,
        )
    )
    return out


def exact_expectation(mdp: MDP, v_hat: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """E[Σ_l w_l δ̂_l 1{alive at l} | s_0, a_0] for every start pair, shape (S, A).

    E[δ̂_l | s_l, a_l] = D(s, a) = R(s, a) + γ Σ_{s'} P(s' | s, a) V̂(s') − V̂(s); the alive-state
    distribution after the first step is P(· | s_0, a_0) and then moves by P_π. The last
    sampled step bootstraps from V̂(s_T), which D already contains.
    """
    D = mdp.R + mdp.gamma * mdp.P @ v_hat - v_hat[:, None]
    d_pi = (mdp.policy * D).sum(axis=1)
    P_pi = policy_transition(mdp)
    total = weights[0] * D
    mu = mdp.P.copy()  # (S, A, S): distribution of s_1 given (s_0, a_0), sub-stochastic
    for w in weights[1:]:
        if w != 0.0:
            total = total + w * (mu @ d_pi)
        mu = mu @ P_pi
    return total


def truncation_weight(mdp: MDP, horizon: int) -> float:
    """max over (s_0, a_0) of γ^T P(not ended by step T): how much the cut at T can matter."""
    mu = mdp.P.copy()
    for _ in range(horizon - 1):
        mu = mu @ policy_transition(mdp)
    return float(mdp.gamma**horizon * mu.sum(axis=2).max())


def _gradient_part(bias: np.ndarray, policy: np.ndarray) -> np.ndarray:
    """b(s, a) − Σ_{a'} π(a' | s) b(s, a'): the action-dependent part of a bias."""
    return bias - (policy * bias).sum(axis=1, keepdims=True)


def gradient_variance(mean: np.ndarray, var: np.ndarray, policy: np.ndarray) -> float:
    """Mean over start states of tr Cov[(e_a − π(·|s)) Â], a ~ π(·|s): the policy-gradient noise.

    (e_a − π(·|s)) is ∇ log π(a | s) for a tabular softmax policy, so this is the variance
    of the REINFORCE-style gradient estimate at the first step. Unlike Var[Â | s, a] it sees
    the baseline: an estimator whose mean is Q(s, a) instead of A(s, a) pays for the spread
    of Q across actions. Inputs ``mean`` and ``var`` of Â per pair, shapes (S, A).
    """
    n_act = policy.shape[1]
    score = np.eye(n_act)[None, :, :] - policy[:, None, :]  # (S, a, a'): ∇_θ[s,a'] log π(a|s)
    second_moment = var + mean**2
    expected_sq = (policy * (score**2).sum(axis=2) * second_moment).sum(axis=1)
    expected = (policy[..., None] * score * mean[..., None]).sum(axis=1)  # (S, a')
    return float((expected_sq - (expected**2).sum(axis=1)).mean())


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


@dataclass
class StudyResult:
    """Everything ``run_study`` measured; ``to_dict`` is the JSON document of ``gae-sym study``."""

    config: dict[str, Any]
    mdp: MDP
    V: np.ndarray
    A: np.ndarray
    errors: dict[str, np.ndarray]
    rows: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "mdp": {
                "states": self.mdp.n_states,
                "actions": self.mdp.n_actions,
                "gamma": self.mdp.gamma,
                "reward_noise": self.mdp.reward_noise,
                "termination_per_step": [
                    round(float(self.mdp.termination.min()), 4),
                    round(float(self.mdp.termination.max()), 4),
                ],
                "V": _rounded(self.V),
                "advantage": _rounded(self.A),
                "policy": _rounded(self.mdp.policy),
            },
            "value_errors": {kind: _rounded(err) for kind, err in self.errors.items()},
            "rows": self.rows,
            "checks": self.checks,
        }


def _rounded(x: np.ndarray, digits: int = 6) -> Any:
    return np.round(np.asarray(x, dtype=float), digits).tolist()


def run_study(
    samples_per_pair: int = 8000,
    horizon: int = 128,
    seed: int = 0,
    lambdas: Sequence[float] = LAMBDAS,
    nsteps: Sequence[int] = NSTEPS,
    noise_scale: float = 1.0,
    bias: float = 2.0,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Sample every estimator for every critic error and summarise bias and variance.

    Per row (estimator × critic error), over the S·A start pairs: ``bias_rms`` and
    ``gradient_bias_rms`` (sampled) with their ``*_exact`` counterparts, ``noise_floor``
    (RMS standard error of a pair's mean: a sampled bias this size is sampling noise),
    ``variance`` (mean over pairs of Var[Â | s_0, a_0]), ``gradient_variance`` (see
    :func:`gradient_variance`) and ``max_abs_z`` (largest
    |sampled − exact mean| / standard error: the sampler agrees with the exact
    expectation when it is a few units at most).
    """
    mdp = random_mdp(seed=seed)
    V, _, A = exact_values(mdp)
    errors = value_errors(mdp, noise_scale=noise_scale, bias=bias, seed=seed + 1)
    traj = sample_trajectories(mdp, samples_per_pair, horizon, seed=seed + 2)
    S, n_act = mdp.n_states, mdp.n_actions
    result = StudyResult(
        config={
            "seed": seed,
            "samples_per_pair": samples_per_pair,
            "horizon": horizon,
            "lambdas": [float(x) for x in lambdas],
            "nsteps": [int(x) for x in nsteps],
            "noise_scale": noise_scale,
            "bias": bias,
            "truncation_weight": float(f"{truncation_weight(mdp, horizon):.3g}"),
        },
        mdp=mdp,
        V=V,
        A=A,
        errors=errors,
    )
    estimators = default_estimators(lambdas, nsteps)
    for kind, error in errors.items():
        if progress:
            progress(f"critic error '{kind}'")
        critic = V + error
        values, next_values = _critic_arrays(traj, critic)
        zeros = np.zeros_like(values)
        for est in estimators:
            if not est.uses_critic and kind != "exact":
                continue  # REINFORCE ignores the critic: one row is enough
            steps = est.steps_needed(horizon)
            v, nv = (values, next_values) if est.uses_critic else (zeros, zeros)
            adv = est.compute(
                traj.rewards[:steps],
                v[:steps],
                nv[:steps],
                traj.terminated[:steps],
                traj.truncated[:steps],
                mdp.gamma,
            )
            first = np.asarray(adv)[0].reshape(S * n_act, samples_per_pair)
            mean = first.mean(axis=1).reshape(S, n_act)
            var = first.var(axis=1, ddof=1).reshape(S, n_act)
            std_error = np.sqrt(var / samples_per_pair)
            exact = exact_expectation(
                mdp, critic if est.uses_critic else np.zeros(S), est.weights(mdp.gamma, horizon)
            )
            sampled_bias = mean - A
            exact_bias = exact - A
            result.rows.append(
                {
                    "estimator": est.name,
                    "param": est.param,
                    "value": est.param_value,
                    "critic_error": kind if est.uses_critic else "none (no critic)",
                    "bias_rms": _sig(_rms(sampled_bias)),
                    "bias_rms_exact": _sig(_rms(exact_bias)),
                    "gradient_bias_rms": _sig(_rms(_gradient_part(sampled_bias, mdp.policy))),
                    "gradient_bias_rms_exact": _sig(_rms(_gradient_part(exact_bias, mdp.policy))),
                    "noise_floor": _sig(_rms(std_error)),
                    "variance": _sig(float(var.mean())),
                    "gradient_variance": _sig(gradient_variance(mean, var, mdp.policy)),
                    "max_abs_z": round(float(np.max(np.abs(mean - exact) / std_error)), 2),
                }
            )
    result.checks = headline_checks(result)
    return result


def _sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (stable JSON and tables)."""
    if x == 0.0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def find_row(
    rows: Sequence[dict[str, Any]], estimator: str, critic_error: str, value: Any = None
) -> dict[str, Any]:
    """The row of ``estimator`` (with parameter ``value``) under ``critic_error``."""
    for row in rows:
        if (
            row["estimator"] == estimator
            and (row["critic_error"] == critic_error or not critic_error)
            and (value is None or row["value"] == value)
        ):
            return row
    raise KeyError(f"no row for {estimator} {value} under {critic_error!r}")


def headline_checks(result: StudyResult, z_limit: float = 5.0) -> list[dict[str, Any]]:
    """The claims the study exists to show, each with the numbers that decide it.

    "Exact" zero means below 1e-9 (floating point); sampled agreement means every pair's
    mean within ``z_limit`` standard errors of its exact expectation.
    """
    rows = result.rows
    tw = result.config["truncation_weight"]
    gae_rows = {
        kind: [r for r in rows if r["estimator"] == "gae" and r["critic_error"] == kind]
        for kind in ERROR_KINDS
    }
    exact_rows = gae_rows["exact"]
    checks = []
    checks.append(
        {
            "id": "gae-unbiased-with-true-values",
            "claim": "With V̂ = V^π, GAE(γ, λ) is unbiased for A^π(s, a) for every λ",
            "holds": all(r["bias_rms_exact"] < 1e-9 for r in exact_rows)
            and all(r["max_abs_z"] < z_limit for r in exact_rows),
            "evidence": {
                "max_bias_rms_exact": max(r["bias_rms_exact"] for r in exact_rows),
                "max_bias_rms_sampled": max(r["bias_rms"] for r in exact_rows),
                "noise_floor": max(r["noise_floor"] for r in exact_rows),
                "max_abs_z": max(r["max_abs_z"] for r in exact_rows),
            },
        }
    )
    ones = [find_row(rows, "gae", kind, 1.0) for kind in ERROR_KINDS]
    checks.append(
        {
            "id": "lambda1-unbiased-whatever-critic",
            "claim": (
                "GAE(γ, 1) has no gradient bias whatever V̂: its bias is −(V̂ − V^π)(s_0), a baseline"
            ),
            "holds": all(r["gradient_bias_rms_exact"] <= 10 * tw + 1e-9 for r in ones)
            and all(r["max_abs_z"] < z_limit for r in ones),
            "evidence": {
                r["critic_error"]: {
                    "bias_rms_exact": r["bias_rms_exact"],
                    "gradient_bias_rms_exact": r["gradient_bias_rms_exact"],
                    "gradient_bias_rms": r["gradient_bias_rms"],
                    "noise_floor": r["noise_floor"],
                }
                for r in ones
            }
            | {"truncation_weight": tw},
        }
    )
    lower = [
        r
        for kind in ("noise", "bias")
        for r in gae_rows[kind]
        if r["value"] is not None and r["value"] < 1.0
    ]
    checks.append(
        {
            "id": "lambda-below-1-biased-with-wrong-critic",
            "claim": (
                "With a wrong V̂, GAE(γ, λ < 1) has a gradient bias; for the noisy critic it "
                "shrinks steadily as λ → 1"
            ),
            # The gradient bias, not the plain one: a constant shift of V̂ biases every λ
            # (λ = 1 included) as an estimate of A, but only λ < 1 misleads the gradient.
            "holds": all(r["gradient_bias_rms_exact"] > 1e-3 for r in lower)
            and all(
                _non_increasing([r["gradient_bias_rms_exact"] for r in gae_rows[kind]])
                for kind in ("noise",)
            ),
            "evidence": {
                kind: {str(r["value"]): r["gradient_bias_rms_exact"] for r in gae_rows[kind]}
                for kind in ("noise", "bias")
            },
        }
    )
    variances = [r["variance"] for r in exact_rows]
    checks.append(
        {
            "id": "variance-grows-with-lambda",
            "claim": "With V̂ = V^π the variance of GAE(γ, λ) grows with λ",
            "holds": _non_decreasing(variances),
            "evidence": {str(r["value"]): r["variance"] for r in exact_rows},
        }
    )
    return checks


def _non_decreasing(xs: Sequence[float]) -> bool:
    return all(b >= a for a, b in itertools.pairwise(xs))


def _non_increasing(xs: Sequence[float]) -> bool:
    return all(b <= a for a, b in itertools.pairwise(xs))


__all__ = [
    "ERROR_KINDS",
    "LAMBDAS",
    "MDP",
    "NSTEPS",
    "StudyResult",
    "default_estimators",
    "exact_expectation",
    "exact_values",
    "find_row",
    "gradient_variance",
    "headline_checks",
    "random_mdp",
    "run_study",
    "sample_trajectories",
    "truncation_weight",
    "value_errors",
]
