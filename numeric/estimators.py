"""The public estimator functions: validate, flatten the batch, run a generated kernel.

Trajectory convention (DESIGN.md), arrays of shape ``(T, *batch)``, time-major:

* δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t)
* A^GAE_t = δ_t + γλ (1 − done_t) A^GAE_{t+1}, A_T = 0, done = terminated ∨ truncated
  (Schulman et al. 2016, "High-Dimensional Continuous Control Using GAE")
* A^MC_t = A^GAE_t at λ = 1; G^λ_t = A^GAE_t + V(s_t)
* A^(n)_t = Σ_{l<n} γ^l δ_{t+l}, stopping after the first done and at the segment end

The kernels come from ``numeric/kernels/numpy_kernels.py`` and ``numeric/kernels/torch_kernels.py``,
written by ``gae-sym codegen`` from the proven recursion. numpy arrays in, numpy out;
torch tensors in, torch out on the same device (computed under ``torch.no_grad()``:
advantages and returns are targets, they carry no gradient). The output dtype is the
float dtype of rewards, values and next_values (the widest of them); inputs are never
modified.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from numeric._validate import (
    check_numpy_inputs,
    check_steps,
    check_torch_inputs,
    check_unit_interval,
    is_torch_tensor,
)

Kernel = Callable[..., None]


@functools.cache
def _numpy_kernels() -> Mapping[str, Kernel]:
    """The numpy kernels by name: ``{"gae": ..., "td": ..., "nstep": ...}``.

    The one place that picks the numpy implementation (a faster one may be returned
    here when available); every kernel has the signature of the generated ones.
    """
    from numeric.kernels import numpy_kernels as kernels

    generated = {"gae": kernels.gae_kernel, "td": kernels.td_kernel, "nstep": kernels.nstep_kernel}
    try:
        from numeric.kernels.numba_kernels import kernels as fast_kernels

        # The generated numba kernels (numeric/kernels/numba_kernels.py); dtypes numba does
        # not compile (float16, longdouble) go to the generated numpy ones.
        return fast_kernels(generated)
    except ImportError:  # numba missing: the generated kernels alone
        return generated


@functools.cache
def _torch_kernels() -> Mapping[str, Kernel]:
    # CPU float32/float64 tensors run the numba kernels on zero-copy ``.numpy()`` views;
    # CUDA tensors and other dtypes run the generated torch kernel, on their device.
    from numeric.kernels import torch_kernels as kernels

    generated = {"gae": kernels.gae_kernel, "td": kernels.td_kernel, "nstep": kernels.nstep_kernel}
    try:
        from numeric.kernels.numba_kernels import torch_kernels

        return torch_kernels(generated)
    except ImportError:  # numba missing: the generated kernels alone
        return generated


class _Batch(NamedTuple):
    """Validated inputs as 2-D ``(T, B)`` arrays, plus what it takes to shape the result."""

    rewards: Any
    values: Any
    next_values: Any
    terminated: Any
    truncated: Any
    shape: tuple[int, ...]
    kernels: Mapping[str, Kernel]
    empty: Callable[[], Any]

    def unflatten(self, out: Any) -> Any:
        return out.reshape(self.shape)


def _flatten(array: Any, steps: int) -> Any:
    # (T, *batch) -> (T, B); a view when the memory layout allows it.
    return array.reshape(steps, -1)


def _batch(rewards, values, next_values, terminated, truncated) -> _Batch:
    arrays = (rewards, values, next_values, terminated, truncated)
    if any(is_torch_tensor(a) for a in arrays):
        import torch

        *checked, dtype = check_torch_inputs(*arrays)
        shape = tuple(checked[0].shape)
        flat = [_flatten(a, shape[0]) for a in checked]
        device = checked[0].device

        def empty():
            return torch.empty(flat[0].shape, dtype=dtype, device=device)

        return _Batch(*flat, shape, _torch_kernels(), empty)
    *checked, dtype = check_numpy_inputs(*arrays)
    shape = checked[0].shape
    flat = [_flatten(a, shape[0]) for a in checked]
    return _Batch(*flat, shape, _numpy_kernels(), lambda: np.empty(flat[0].shape, dtype=dtype))


def _run(batch: _Batch, name: str, *args: Any) -> Any:
    """Run kernel ``name`` on the batch (``args`` between the arrays and ``out``)."""
    out = batch.empty()
    arrays = [batch.rewards, batch.values, batch.next_values, batch.terminated]
    if name != "td":
        arrays.append(batch.truncated)
    if is_torch_tensor(out):
        import torch

        with torch.no_grad():
            batch.kernels[name](*arrays, *args, out)
    else:
        batch.kernels[name](*arrays, *args, out)
    return batch.unflatten(out)


def td_error(rewards, values, next_values, terminated, truncated, *, gamma: float):
    """One-step TD errors δ_t = r_t + γ (1 − terminated_t) V(s'_t) − V(s_t).

    Arrays of shape ``(T, *batch)``; returns the same shape and float dtype. ``truncated``
    is checked but does not enter δ: a truncated step still bootstraps from V(s'_t).
    """
    gamma = check_unit_interval("gamma", gamma)
    batch = _batch(rewards, values, next_values, terminated, truncated)
    return _run(batch, "td", gamma)


def gae(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float):
    """GAE(γ, λ): A_t = δ_t + γλ (1 − done_t) A_{t+1}, A_T = 0 (Schulman et al. 2016).

    Equal to Σ_l (γλ)^l [no done in t..t+l−1] δ_{t+l} (theorem ``gae-recursion``). Arrays
    of shape ``(T, *batch)``; returns the same shape and float dtype.
    """
    gamma = check_unit_interval("gamma", gamma)
    lam = check_unit_interval("lam", lam)
    batch = _batch(rewards, values, next_values, terminated, truncated)
    return _run(batch, "gae", gamma, lam)


def mc_advantage(rewards, values, next_values, terminated, truncated, *, gamma: float):
    """Monte-Carlo advantage Σ_l γ^l δ_{t+l} up to the episode or segment end: GAE at λ = 1.

    On an episode that ends at T by termination this is Σ_l γ^l r_{t+l} − V(s_t); a
    truncated or unfinished segment is bootstrapped with γ^k V(s'_{last}).
    """
    return gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=1.0)


def lambda_return(rewards, values, next_values, terminated, truncated, *, gamma: float, lam: float):
    """λ-return G^λ_t = A^GAE_t + V(s_t) (Sutton & Barto 2018, §12.1), the critic's target."""
    advantages = gae(rewards, values, next_values, terminated, truncated, gamma=gamma, lam=lam)
    if is_torch_tensor(advantages):
        return advantages + values.detach().to(advantages.dtype)
    return advantages + np.asarray(values).astype(advantages.dtype, copy=False)


def nstep_advantage(rewards, values, next_values, terminated, truncated, *, gamma: float, n: int):
    """n-step advantage A^(n)_t = Σ_{l<n} γ^l δ_{t+l}, cut after the first done step.

    The sum also stops at the segment end, so any n ≥ T gives the Monte-Carlo advantage;
    n = 1 gives δ_t. Equal to −V(s_t) + Σ_{l<n} γ^l r_{t+l} + γ^n V(s_{t+n}) inside an
    episode (n-step telescoping). O(T) per column whatever n is.
    """
    gamma = check_unit_interval("gamma", gamma)
    n = check_steps(n)
    batch = _batch(rewards, values, next_values, terminated, truncated)
    return _run(batch, "nstep", gamma, n)


def _lecture_array(x: Any) -> Any:
    """A lecture-style sequence (list of floats, list of tensors, array, tensor) as an array."""
    if is_torch_tensor(x):
        return x
    if isinstance(x, (list, tuple)) and x and all(is_torch_tensor(e) for e in x):
        import torch

        # The lecture appends one critic output per step, often of shape (1,).
        return torch.stack([e.reshape(()) if e.numel() == 1 else e for e in x])
    array = np.asarray(x)
    if array.dtype.kind in "biu":  # the lecture's rewards are often plain ints
        array = array.astype(np.float64)
    return array


def _as_tensor_like(x: Any, like: Any) -> Any:
    import torch

    dtype = like.dtype if like.is_floating_point() else None
    return torch.as_tensor(x, dtype=dtype, device=like.device)


def compute_gae(rewards, values, next_value, gamma: float = 0.99, lam: float = 0.95):
    """The lecture's ``compute_gae``: advantages of one segment with no episode end inside.

    ``rewards[t]`` and ``values[t]`` for t = 0..T−1 (lists, arrays of shape ``(T, *batch)``
    or tensors) and ``next_value`` = V(s_T), the value of the state after the last step.
    It is :func:`gae` with ``next_values = values[1:] + [next_value]`` and no terminated or
    truncated step: A_t = δ_t + γλ A_{t+1}, δ_t = r_t + γ V(s_{t+1}) − V(s_t), so the last
    step is bootstrapped with ``next_value`` (pass 0 if the episode terminated there).
    Returns an array (or tensor) of shape ``(T, *batch)``, not a list.
    """
    r = _lecture_array(rewards)
    v = _lecture_array(values)
    # The lecture collects rewards as Python floats and values as critic tensors: when one
    # side is torch, the other joins it (dtype and device of the tensor, as the lecture's
    # arithmetic would), instead of being refused as a numpy/torch mix.
    if is_torch_tensor(v) and not is_torch_tensor(r):
        r = _as_tensor_like(r, v)
    elif is_torch_tensor(r) and not is_torch_tensor(v):
        v = _as_tensor_like(v, r)
    if len(v) == 0:
        raise ValueError("empty input: values has no steps; need T >= 1 rewards and values")
    if is_torch_tensor(v):
        import torch

        last = torch.as_tensor(next_value, dtype=v.dtype, device=v.device).detach()
        if last.numel() != int(np.prod(v.shape[1:], dtype=np.int64)):
            raise ValueError(
                f"next_value has {last.numel()} elements but values[0] has shape "
                f"{tuple(v.shape[1:])}; pass V(s_T) for each batch column"
            )
        next_values = torch.cat([v[1:], last.reshape(1, *v.shape[1:])])
        flags = torch.zeros(v.shape, dtype=torch.bool, device=v.device)
    else:
        if v.ndim == 0:
            raise ValueError("values must be a sequence V(s_0), ..., V(s_(T-1)), got a scalar")
        last = np.asarray(next_value, dtype=v.dtype if v.dtype.kind == "f" else np.float64)
        if last.size != int(np.prod(v.shape[1:], dtype=np.int64)):
            raise ValueError(
                f"next_value has {last.size} elements but values[0] has shape {v.shape[1:]}; "
                "pass V(s_T) for each batch column"
            )
        next_values = np.concatenate([v[1:], last.reshape(1, *v.shape[1:])])
        flags = np.zeros(v.shape, dtype=bool)
    return gae(r, v, next_values, flags, flags, gamma=gamma, lam=lam)


__all__ = [
    "compute_gae",
    "gae",
    "lambda_return",
    "mc_advantage",
    "nstep_advantage",
    "td_error",
]
