"""Check the public ``numeric`` estimators against the rollouts a real actor-critic trained on.

Every rollout a learner uses is recorded as a :class:`Rollout` (time-major ``(T, B)`` arrays in
the trajectory convention of DESIGN.md, plus the advantages and returns that the training loop
itself computed), and :class:`RolloutChecker` runs these checks on it:

==================================  ==========================================================
``gae-numpy-vs-loop``               ``numeric.gae`` on float64 numpy = the loop's advantages
``gae-torch-vs-loop``               ``numeric.gae`` on float32 torch tensors = the loop's advantages
``lambda-return-vs-loop-returns``   ``numeric.lambda_return`` = the loop's returns (critic targets)
``td-error-vs-gae-lambda0``         ``td_error`` = ``gae(λ=0)``
``mc-advantage-vs-gae-lambda1``     ``mc_advantage`` = ``gae(λ=1)``
``mc-advantage-vs-raw-returns``     ``mc_advantage`` = Σ_l γ^l r_{t+l} (+ γ^L V(s_final) if the
                                    episode was truncated) − V(s_t), summed straight from the raw
                                    rewards, on every step whose episode ended inside the rollout
``lambda-return-minus-values``      ``lambda_return − values`` = ``gae``
==================================  ==========================================================

Tolerances: a rounding-error bound per rollout, not one absolute number. The training loop works
in float32 (torch's default dtype) and the kernels in float64 on the same float32 inputs. One step
of the loop's backward recursion rounds at most ~12 times (the products and sums of δ_t and A_t,
and γ, γλ held in float32), each by at most u·M (u = 2^-24, M = the largest magnitude among the
rollout's rewards, values, advantages and returns), and an error made at step t reaches A_{t−l}
damped by (γλ)^l, so over at most H = min(T, 1/(1 − γλ)) steps. Hence

    tolerance = ROUNDINGS_PER_STEP · u · M · H,   ROUNDINGS_PER_STEP = 16

(at γ = 0.99, λ = 0.95, M ≈ 100: ~1.6e-3; CARTPOLE-NOTES measured at most 4.9e-5 over whole runs).
A fixed absolute tolerance fails honest runs: at γ = λ = 1 (H = 500, M = 500) the float32 loop is
~5e-4 from the float64 kernel. A real bookkeeping bug (a missed bootstrap, a dummy step in the
chain) moves an advantage by O(γ·V), orders of magnitude above the bound. The identities between
kernels are evaluated in float64 (u = 2^-53) with H = T.

Which checks are independent. ``gae`` against the loop, ``lambda_return`` against the loop's
returns, ``td_error`` (its own kernel) against ``gae(λ=0)`` and ``mc_advantage`` against the raw
discounted rewards compare separately written code. ``mc_advantage`` is ``gae(λ=1)`` and
``lambda_return`` is ``gae + values`` by construction in ``numeric.estimators``, so those two
identities (asked for by issue 7) only guard the wiring; they are reported as such.

Every installed backend, through the public ``numeric.gae`` (``backend=...``): on every rollout
each generated kernel family that can run here is compared with the loop's advantages, within
the same float32 bound, and reported in ``backends_checked``:

==============================  =================================================================
``numpy-generated``             ``numeric.gae(..., backend="numpy")`` on float64 numpy arrays
``numba-generated``             ``backend="numba"`` (numba installed): what numpy inputs get
``torch-generated``             ``backend="torch"`` on float64 CPU tensors (the printed torch loop)
``torch-cuda-generated``        CUDA tensors (a GPU present): the chunked torch scan
``jax-generated``               JAX arrays (jax installed), ``lax.scan``; float32 unless x64 is on
``jax-associative-generated``   JAX arrays, ``lax.associative_scan`` with ``scan_combine``
``jax-chunked-generated``       JAX arrays, the chunked scan (``scan_combine``, ``scan_join``)
``jax-numba-generated``         JAX arrays on CPU (numba installed), the numba kernel inside
                                XLA through its FFI (``backend="jax-numba"``)
==============================  =================================================================

JAX compiles once per shape, so its inputs are padded at the end to a power-of-two length (at
least 64) with
zero rewards and values (exact: the padded steps have δ = 0, so A = 0 there and the carry into
the real last step is 0).

Only ``valid`` steps are compared: with gymnasium 1.x NEXT_STEP autoreset the step after an
episode end is a dummy (reward 0, action ignored) that enters neither the advantages of real steps
(the λ-chain is cut at ``done``) nor the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import numeric

# Roundings one step of a backward recursion can add (at most ~12 in the float32 loops), rounded up.
ROUNDINGS_PER_STEP = 16
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


@dataclass(frozen=True)
class Rollout:
    """One rollout as the learner used it; arrays of shape ``(T, B)``.

    ``rewards``, ``values`` (V(s_t)), ``next_values`` (V of the observation returned by step t,
    the *final* observation when the episode ended there), ``advantages`` and ``returns`` are the
    float32 arrays of the training loop; ``terminated``/``truncated`` are the flags that describe
    what the loop did (bool); ``valid`` marks the steps that entered the loss.
    """

    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    gamma: float
    lam: float

    @property
    def steps(self) -> int:
        return int(self.valid.sum())


@dataclass(frozen=True)
class Check:
    """One check; ``precision`` says which rounding bound applies (see the module docstring)."""

    name: str
    description: str
    precision: str  # "float32": against the training loop; "float64": between float64 kernels


CHECKS = (
    Check(
        "gae-numpy-vs-loop",
        "numeric.gae (numpy, float64) equals the advantages the training loop computed (float32)",
        "float32",
    ),
    Check(
        "gae-torch-vs-loop",
        "numeric.gae (torch, float32) equals the advantages the training loop computed (float32)",
        "float32",
    ),
    Check(
        "lambda-return-vs-loop-returns",
        "numeric.lambda_return (float64) equals the returns (critic targets) of the training loop",
        "float32",
    ),
    Check(
        "td-error-vs-gae-lambda0",
        "numeric.td_error equals numeric.gae at lambda = 0 (float64)",
        "float64",
    ),
    Check(
        "mc-advantage-vs-gae-lambda1",
        "numeric.mc_advantage equals numeric.gae at lambda = 1 (float64; mc_advantage calls gae at"
        " lambda = 1, so this guards the wiring: mc-advantage-vs-raw-returns is the independent"
        " check)",
        "float64",
    ),
    Check(
        "mc-advantage-vs-raw-returns",
        "numeric.mc_advantage equals sum_l gamma^l r_{t+l} (+ gamma^L V(final obs) when truncated)"
        " - V(s_t), summed from the raw rewards, wherever the episode ended inside the rollout",
        "float64",
    ),
    Check(
        "lambda-return-minus-values",
        "numeric.lambda_return - values equals numeric.gae (float64; lambda_return is gae + values"
        " by construction: lambda-return-vs-loop-returns is the independent check)",
        "float64",
    ),
)


def discounted_returns_of_ended_episodes(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """G_t = Σ_{u=t}^{e} γ^{u−t} r_u + γ^{e−t+1} (1 − terminated_e) V(s'_e), e = the episode end.

    Summed directly (a triangular matrix of powers of γ per episode, no recursion), in float64,
    for the steps whose episode ends (terminated or truncated) inside the rollout. Returns
    ``(G, ended)``: ``ended`` marks the steps where ``G`` is defined; elsewhere ``G`` is NaN.
    Shapes ``(T, B)``.
    """
    r = rewards.astype(np.float64)
    nv = next_values.astype(np.float64)
    done = terminated | truncated
    T, B = r.shape
    G = np.full((T, B), np.nan)
    ended = np.zeros((T, B), dtype=bool)
    for b in range(B):
        start = 0
        for end in np.flatnonzero(done[:, b]):
            L = end - start + 1
            lags = np.arange(L)
            # powers[i, u] = γ^(u − i) for u ≥ i, else 0
            powers = np.triu(float(gamma) ** (lags[None, :] - lags[:, None]).clip(min=0))
            seg = powers @ r[start : end + 1, b]
            if not terminated[end, b]:
                seg = seg + float(gamma) ** (L - lags) * nv[end, b]
            G[start : end + 1, b] = seg
            ended[start : end + 1, b] = True
            start = end + 1
    return G, ended


def tolerances(r: Rollout) -> dict[str, float]:
    """Each check's bound on this rollout: ROUNDINGS_PER_STEP · u · M · H (module docstring)."""
    arrays = (r.rewards, r.values, r.next_values, r.advantages, r.returns)
    magnitude = max(1.0, *(float(np.max(np.abs(a))) for a in arrays))
    steps = r.rewards.shape[0]
    decay = r.gamma * r.lam
    horizon = {
        "float32": steps if decay >= 1.0 else min(steps, 1.0 / (1.0 - decay)),
        "float64": steps,
    }
    return {
        c.name: ROUNDINGS_PER_STEP * UNIT_ROUNDOFF[c.precision] * magnitude * horizon[c.precision]
        for c in CHECKS
    }


def _pad_to_power_of_two(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    steps = arrays[0].shape[0]
    padded = max(512, 1 << max(0, (steps - 1).bit_length()))
    if padded == steps:
        return arrays
    return tuple(
        np.concatenate([a, np.zeros((padded - steps, *a.shape[1:]), a.dtype)]) for a in arrays
    )


def _jax_on_cpu() -> bool:
    import jax

    return jax.default_backend() == "cpu"


def installed_backends() -> list[tuple[str, Callable[..., np.ndarray]]]:
    """(name, run) for each generated backend that can run here; ``run(inputs64, g, lam)``."""
    import importlib.util

    def numpy_backend(backend: str) -> Callable[..., np.ndarray]:
        return lambda inputs, g, lam: numeric.gae(*inputs, gamma=g, lam=lam, backend=backend)

    found = [("numpy-generated", numpy_backend("numpy"))]
    if importlib.util.find_spec("numba") is not None:
        found.append(("numba-generated", numpy_backend("numba")))
    if importlib.util.find_spec("torch") is not None:
        import torch

        def torch_backend(device: str) -> Callable[..., np.ndarray]:
            def run(inputs, g, lam):
                tensors = [torch.from_numpy(np.ascontiguousarray(x)).to(device) for x in inputs]
                out = numeric.gae(*tensors, gamma=g, lam=lam, backend="torch")
                return out.cpu().numpy()

            return run

        found.append(("torch-generated", torch_backend("cpu")))
        if torch.cuda.is_available():
            found.append(("torch-cuda-generated", torch_backend("cuda")))
    if importlib.util.find_spec("jax") is not None:

        def jax_backend(backend: str) -> Callable[..., np.ndarray]:
            def run(inputs, g, lam):
                import jax.numpy as jnp

                steps = inputs[0].shape[0]
                arrays = [jnp.asarray(x) for x in _pad_to_power_of_two(inputs)]
                out = numeric.gae(*arrays, gamma=g, lam=lam, backend=backend)
                return np.asarray(out)[:steps]

            return run

        found.append(("jax-generated", jax_backend("jax")))
        found.append(("jax-associative-generated", jax_backend("jax-associative")))
        found.append(("jax-chunked-generated", jax_backend("jax-chunked")))
        if importlib.util.find_spec("numba") is not None and _jax_on_cpu():
            found.append(("jax-numba-generated", jax_backend("jax-numba")))
    return found


def _max_abs(a: Any, b: Any, mask: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if not mask.any():
        return 0.0
    return float(np.max(np.abs(a[mask] - b[mask])))


def check_backends(
    rollout: Rollout, backends: list[tuple[str, Callable[..., np.ndarray]]]
) -> dict[str, float]:
    """Each backend's ``numeric.gae`` against the loop's advantages: ``{name: max_abs_diff}``."""
    inputs64 = (
        rollout.rewards.astype(np.float64),
        rollout.values.astype(np.float64),
        rollout.next_values.astype(np.float64),
        rollout.terminated,
        rollout.truncated,
    )
    return {
        name: _max_abs(run(inputs64, rollout.gamma, rollout.lam), rollout.advantages, rollout.valid)
        for name, run in backends
    }


def check_rollout(rollout: Rollout) -> dict[str, tuple[float, int]]:
    """Run every check on one rollout; ``{name: (max_abs_diff, steps compared)}``."""
    import torch

    g, lam = rollout.gamma, rollout.lam
    inputs64 = (
        rollout.rewards.astype(np.float64),
        rollout.values.astype(np.float64),
        rollout.next_values.astype(np.float64),
        rollout.terminated,
        rollout.truncated,
    )
    inputs_torch = tuple(
        torch.from_numpy(np.ascontiguousarray(x))
        for x in (
            rollout.rewards.astype(np.float32),
            rollout.values.astype(np.float32),
            rollout.next_values.astype(np.float32),
            rollout.terminated,
            rollout.truncated,
        )
    )
    valid = rollout.valid
    n_valid = int(valid.sum())

    adv64 = numeric.gae(*inputs64, gamma=g, lam=lam)
    adv_torch = numeric.gae(*inputs_torch, gamma=g, lam=lam).detach().cpu().numpy()
    lret64 = numeric.lambda_return(*inputs64, gamma=g, lam=lam)
    td = numeric.td_error(*inputs64, gamma=g)
    gae0 = numeric.gae(*inputs64, gamma=g, lam=0.0)
    mc = numeric.mc_advantage(*inputs64, gamma=g)
    gae1 = numeric.gae(*inputs64, gamma=g, lam=1.0)
    raw_returns, ended = discounted_returns_of_ended_episodes(
        rollout.rewards, rollout.next_values, rollout.terminated, rollout.truncated, g
    )
    on_ended = valid & ended

    return {
        "gae-numpy-vs-loop": (_max_abs(adv64, rollout.advantages, valid), n_valid),
        "gae-torch-vs-loop": (_max_abs(adv_torch, rollout.advantages, valid), n_valid),
        "lambda-return-vs-loop-returns": (_max_abs(lret64, rollout.returns, valid), n_valid),
        "td-error-vs-gae-lambda0": (_max_abs(td, gae0, valid), n_valid),
        "mc-advantage-vs-gae-lambda1": (_max_abs(mc, gae1, valid), n_valid),
        "mc-advantage-vs-raw-returns": (
            _max_abs(mc, raw_returns - inputs64[1], on_ended),
            int(on_ended.sum()),
        ),
        "lambda-return-minus-values": (_max_abs(lret64 - inputs64[1], adv64, valid), n_valid),
    }


@dataclass
class RolloutChecker:
    """Accumulates the checks over every rollout of a run (usable as a learner's ``on_rollout``).

    A check agrees when on every rollout its difference is within that rollout's bound
    (:func:`tolerances`). ``keep=True`` also keeps the rollouts themselves (for tests and
    offline inspection).
    """

    keep: bool = False
    rollouts_checked: int = 0
    steps_checked: int = 0
    max_abs_diff: dict[str, float] = field(default_factory=lambda: {c.name: 0.0 for c in CHECKS})
    # the largest bound used, and the worst difference as a fraction of its rollout's bound
    tolerance: dict[str, float] = field(default_factory=lambda: {c.name: 0.0 for c in CHECKS})
    worst_ratio: dict[str, float] = field(default_factory=lambda: {c.name: 0.0 for c in CHECKS})
    steps_compared: dict[str, int] = field(default_factory=lambda: {c.name: 0 for c in CHECKS})
    kept: list[Rollout] = field(default_factory=list)
    # The generated backends run on every rollout (None: every installed one, found on first use).
    backends: list[tuple[str, Callable[..., np.ndarray]]] | None = None
    backend_diff: dict[str, float] = field(default_factory=dict)
    backend_tolerance: dict[str, float] = field(default_factory=dict)
    backend_ratio: dict[str, float] = field(default_factory=dict)

    def __call__(self, rollout: Rollout) -> None:
        self.add(rollout)

    def add(self, rollout: Rollout) -> None:
        bounds = tolerances(rollout)
        for name, (diff, steps) in check_rollout(rollout).items():
            self.max_abs_diff[name] = max(self.max_abs_diff[name], diff)
            self.tolerance[name] = max(self.tolerance[name], bounds[name])
            # NaN compares False everywhere: make it a disagreement, not a silent pass
            ratio = diff / bounds[name] if diff == diff else np.inf
            self.worst_ratio[name] = max(self.worst_ratio[name], ratio)
            self.steps_compared[name] += steps
        if self.backends is None:
            self.backends = installed_backends()
        bound = bounds["gae-torch-vs-loop"]  # float32 loop against a kernel: the same bound
        for name, diff in check_backends(rollout, self.backends).items():
            self.backend_diff[name] = max(self.backend_diff.get(name, 0.0), diff)
            self.backend_tolerance[name] = max(self.backend_tolerance.get(name, 0.0), bound)
            ratio = diff / bound if diff == diff else np.inf
            self.backend_ratio[name] = max(self.backend_ratio.get(name, 0.0), ratio)
        self.rollouts_checked += 1
        self.steps_checked += rollout.steps
        if self.keep:
            self.kept.append(rollout)

    def _agrees(self, name: str) -> bool:
        return self.rollouts_checked > 0 and self.worst_ratio[name] <= 1.0

    @property
    def agree(self) -> bool:
        """Every check and every backend within its bound on every rollout (one at least)."""
        backends_agree = all(ratio <= 1.0 for ratio in self.backend_ratio.values())
        return all(self._agrees(c.name) for c in CHECKS) and backends_agree

    def backends_checked(self) -> list[dict[str, Any]]:
        """One entry per backend that ran: name, max_abs_diff, tolerance, agree."""
        return [
            {
                "name": name,
                "max_abs_diff": self.backend_diff[name],
                "tolerance": self.backend_tolerance[name],
                "max_diff_over_tolerance": self.backend_ratio[name],
                "agree": self.rollouts_checked > 0 and self.backend_ratio[name] <= 1.0,
            }
            for name in self.backend_diff
        ]

    def summary(self) -> dict[str, Any]:
        """The JSON-ready part of a report: counts, worst difference, tolerance, each check."""
        checks = [
            {
                "name": c.name,
                "description": c.description,
                "max_abs_diff": self.max_abs_diff[c.name],
                "tolerance": self.tolerance[c.name],
                "max_diff_over_tolerance": self.worst_ratio[c.name],
                "steps_compared": self.steps_compared[c.name],
                "agree": self._agrees(c.name),
            }
            for c in CHECKS
        ]
        return {
            "rollouts_checked": self.rollouts_checked,
            "steps_checked": self.steps_checked,
            "max_abs_diff": max(self.max_abs_diff.values()),
            "tolerance": max(self.tolerance[c.name] for c in CHECKS if c.precision == "float32"),
            "tolerance_why": (
                f"per rollout: {ROUNDINGS_PER_STEP} roundings per step x unit roundoff "
                "(2^-24 where the float32 training loop meets a float64 kernel, 2^-53 between "
                "float64 kernels) x the largest magnitude in the rollout x the steps an error "
                "can travel (min(T, 1/(1 - gamma*lambda)) for the loop, T between kernels); "
                "'tolerance' is the largest bound used for the loop checks"
            ),
            "agree": self.agree,
            "checks": checks,
            "backends_checked": self.backends_checked(),
        }


RolloutCallback = Callable[[Rollout], None]
