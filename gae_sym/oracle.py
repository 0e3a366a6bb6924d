"""The test oracle: the proven closed forms, turned into numpy code by ``lambdify``.

Nothing here is a hand-written loop over time. Each function evaluates a SymPy
expression of :mod:`gae_sym.estimators` at every t, with ``lambdify``:

* δ_t: :func:`~gae_sym.estimators.td_error_flagged`;
* GAE: :func:`~gae_sym.estimators.gae_closed_form_flagged` over the N = T − t steps
  left, A_t = Σ_{l<N} (γλ)^l Π_{j<l} (1 − d_{t+j}) δ_{t+l}; theorem ``gae-recursion``
  proves it equal to the backward recursion the kernels run;
* Monte Carlo: the same closed form at λ = 1 (DESIGN.md: the MC advantage is GAE at λ = 1);
* n-step: the same closed form at λ = 1 with its upper limit min(n, N) − 1, i.e.
  Σ_{l<n} γ^l δ_{t+l} stopping after the first done and at the segment end;
* λ-return: :func:`~gae_sym.estimators.lambda_return` (A^GAE_t + V(s_t)) with its GAE
  sum replaced by the flagged closed form.

The sums become Python generator expressions (O(T²) work, O(T³) with the done
products): a reference for tests, not a kernel. Every function has the signature of the
numeric API, takes arrays of shape ``(T, *batch)`` and returns float64 numpy arrays.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sympy import Expr, Min, Product, Symbol, lambdify
from sympy.printing.numpy import NumPyPrinter

from gae_sym import estimators as definitions
from gae_sym.symbols import N, V, V_next, delta, done, gamma, lam, n, r, t, terminated

_rewards, _values, _next_values = Symbol("rewards"), Symbol("values"), Symbol("next_values")
_terminated = Symbol("terminated_f")
_lam = Symbol("lam")  # ``lambda`` is a Python keyword


class OraclePrinter(NumPyPrinter):
    """NumPyPrinter plus ``Product``, printed like SymPy prints ``Sum`` (a generator)."""

    def _print_Product(self, expr: Product) -> str:
        loops = " ".join(
            f"for {self._print(i)} in range({self._print(a)}, {self._print(b)}+1)"
            for i, a, b in expr.limits[::-1]
        )
        prod = self._module_format("math.prod")
        return f"({prod}(({self._print(expr.function)} {loops}), start=1))"

    def _print_Min(self, expr: Expr) -> str:
        # The only Min is an integer summation bound: Python's min, not an array reduction
        # (lambdify's numpy namespace binds ``min`` to numpy.min).
        return "builtins.min({})".format(", ".join(self._print(arg) for arg in expr.args))


def _lambdify(args: tuple, expr: Expr) -> Callable:
    # The printed Product calls math.prod; lambdify's namespace only has numpy and builtins.
    modules = ["numpy", {"math": math}]
    args = tuple(_lam if arg == lam else arg for arg in args)
    return lambdify(args, expr.subs(lam, _lam), modules=modules, printer=OraclePrinter)


@functools.cache
def _td_error_fn() -> Callable:
    whole_arrays = definitions.td_error_flagged(t).subs(
        {r[t]: _rewards, V[t]: _values, V_next[t]: _next_values, terminated[t]: _terminated}
    )
    return _lambdify((_rewards, _values, _next_values, _terminated, gamma), whole_arrays)


@functools.cache
def _gae_fn() -> Callable:
    return _lambdify((delta, done, gamma, lam, t, N), definitions.gae_closed_form_flagged(t, N))


@functools.cache
def _mc_fn() -> Callable:
    return _lambdify(
        (delta, done, gamma, t, N), definitions.gae_closed_form_flagged(t, N).subs(lam, 1)
    )


@functools.cache
def _nstep_fn() -> Callable:
    closed_form = definitions.gae_closed_form_flagged(t, Min(n, N)).subs(lam, 1)
    return _lambdify((delta, done, gamma, n, t, N), closed_form)


@functools.cache
def _lambda_return_fn() -> Callable:
    closed_form = definitions.gae_closed_form_flagged(t, N)
    expr = definitions.lambda_return(t).subs(definitions.gae(t), closed_form)
    if expr.has(definitions.gae(t)):
        raise RuntimeError("could not replace the GAE sum of lambda_return by its closed form")
    return _lambdify((delta, done, V, gamma, lam, t, N), expr)


def _float64(x: Any) -> np.ndarray:
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _flags(x: Any) -> np.ndarray:
    return _float64(x) != 0


def _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma):
    term, trunc = _flags(terminated), _flags(truncated)
    deltas = _td_error_fn()(
        _float64(rewards), _float64(values), _float64(next_values), term.astype(np.float64), gamma
    )
    return deltas, (term | trunc).astype(np.float64)


def _each_step(fn: Callable, deltas: np.ndarray, *args: Any) -> np.ndarray:
    """Evaluate fn(..., t, N) at every t with N = T − t steps left; stack over time."""
    steps = deltas.shape[0]
    return np.stack([np.asarray(fn(*args, t0, steps - t0)) for t0 in range(steps)])


def td_error(rewards, values, next_values, terminated, truncated, *, gamma: float) -> np.ndarray:
    """δ_t = r_t + γ (1 − term_t) V(s'_t) − V(s_t), from ``td_error_flagged``."""
    deltas, _ = _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma)
    return deltas


def gae(
    rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float
) -> np.ndarray:
    """A_t = Σ_{l<T−t} (γλ)^l Π_{j<l} (1 − d_{t+j}) δ_{t+l}, from ``gae_closed_form_flagged``."""
    deltas, dones = _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma)
    return _each_step(_gae_fn(), deltas, deltas, dones, float(gamma), float(lam))


def mc_advantage(
    rewards, values, next_values, terminated, truncated, *, gamma: float
) -> np.ndarray:
    """A^MC_t = Σ_{l<T−t} γ^l Π_{j<l} (1 − d_{t+j}) δ_{t+l}: the closed form at λ = 1."""
    deltas, dones = _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma)
    return _each_step(_mc_fn(), deltas, deltas, dones, float(gamma))


def nstep_advantage(
    rewards, values, next_values, terminated, truncated, *, gamma: float, n: int
) -> np.ndarray:
    """A^(n)_t = Σ_{l<min(n, T−t)} γ^l Π_{j<l} (1 − d_{t+j}) δ_{t+l}."""
    deltas, dones = _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma)
    return _each_step(_nstep_fn(), deltas, deltas, dones, float(gamma), int(n))


def lambda_return(
    rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float
) -> np.ndarray:
    """G^λ_t = A^GAE_t + V(s_t), the GAE sum in its flagged closed form."""
    deltas, dones = _deltas_and_done(rewards, values, next_values, terminated, truncated, gamma)
    return _each_step(
        _lambda_return_fn(), deltas, deltas, dones, _float64(values), float(gamma), float(lam)
    )


ORACLES: dict[str, Callable[..., np.ndarray]] = {
    "td-error": td_error,
    "nstep": nstep_advantage,
    "mc": mc_advantage,
    "gae": gae,
    "lambda-return": lambda_return,
}
"""The oracle of each estimator, keyed by its command-line name (as ``estimators()``)."""

__all__ = [
    "ORACLES",
    "OraclePrinter",
    "gae",
    "lambda_return",
    "mc_advantage",
    "nstep_advantage",
    "td_error",
]
