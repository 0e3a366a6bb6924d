"""Input checks shared by every estimator: refuse bad input with a message that says how to fix it.

The numeric functions never broadcast silently, never modify their inputs and never
guess: a shape mismatch, a flag that is not 0/1, a NaN or a γ outside [0, 1] is a
``ValueError`` naming the argument.
"""

from __future__ import annotations

import functools
import math
from numbers import Integral, Real
from typing import Any

import numpy as np

ARRAY_NAMES = ("rewards", "values", "next_values", "terminated", "truncated")


def is_torch_tensor(x: Any) -> bool:
    """True for a torch.Tensor, without importing torch."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def check_unit_interval(name: str, x: Any) -> float:
    """γ or λ as a float in [0, 1]; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"{name} must be a real number in [0, 1], got {x!r}")
    x = float(x)
    if not (0.0 <= x <= 1.0) or math.isnan(x):
        raise ValueError(f"{name} must lie in [0, 1], got {x}; pass e.g. {name}=0.99")
    return x


def check_steps(n: Any) -> int:
    """The n of an n-step estimator as a positive int (bools and 2.0 are refused)."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (number of steps), got {n!r}")
    return int(n)


def _all_finite(a: np.ndarray) -> bool:
    """Every element of float array ``a`` is finite.

    max and min propagate NaN and reach ±inf when one is there, so both finite means every
    element is: two SIMD reductions without a temporary (about 4x faster than
    ``np.isfinite(a).all()``, 2x faster than a sum, on 2048 x 64 float32).
    """
    return bool(np.isfinite(a.max()) and np.isfinite(a.min()))


def _check_float_array(name: str, a: np.ndarray) -> None:
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(
            f"{name} must be a floating-point array, got dtype {a.dtype}; "
            f"convert with {name}.astype(np.float32) or np.float64"
        )
    if not _all_finite(a):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})"
        )


def _check_flag_array(name: str, a: np.ndarray) -> np.ndarray:
    """Flags as a bool array; accepts bool, or integer/float arrays holding only 0 and 1."""
    if a.dtype == np.bool_:
        return a
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"{name} must hold booleans or 0/1, got dtype {a.dtype}")
    ok = (a == 0) | (a == 1)
    if not np.all(ok):
        bad = np.argwhere(~ok)[0]
        raise ValueError(
            f"{name} must hold only 0/1 (or booleans); found {a[tuple(bad)]!r} "
            f"at index {tuple(int(i) for i in bad)}"
        )
    return a != 0


def check_torch_inputs(
    rewards: Any, values: Any, next_values: Any, terminated: Any, truncated: Any
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Validate torch tensors; return (r, v, nv, term, trunc, dtype) the way the numpy check does.

    All five must be tensors on one device with the same shape; rewards, values and
    next_values floating point and finite (the widest of their dtypes is used); the flags
    bool, or 0/1 integers or floats. Nothing is modified; only narrower floats are cast.
    """
    import torch

    tensors = (rewards, values, next_values, terminated, truncated)
    for name, x in zip(ARRAY_NAMES, tensors, strict=True):
        if not is_torch_tensor(x):
            raise ValueError(
                f"mixed inputs: {name} is a {type(x).__name__}, others are torch tensors; "
                "pass all five arrays as torch tensors (torch.as_tensor(x, device=...)) or "
                "all as numpy arrays"
            )
    shape = tuple(rewards.shape)
    for name, x in zip(ARRAY_NAMES, tensors, strict=True):
        if x.dim() == 0:
            raise ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
        if tuple(x.shape) != shape:
            raise ValueError(
                f"shape mismatch: rewards has shape {shape} but {name} has shape "
                f"{tuple(x.shape)}; all five arrays must have the same (T, *batch) shape "
                "(no broadcasting)"
            )
        if x.device != rewards.device:
            raise ValueError(
                f"{name} is on {x.device} but rewards on {rewards.device}; move every tensor "
                f"to one device, e.g. {name}.to(rewards.device)"
            )
    if 0 in shape:
        raise ValueError(f"empty input: arrays have shape {shape}; need T >= 1 steps")
    floats = list(tensors[:3])
    for name, x in zip(ARRAY_NAMES[:3], floats, strict=True):
        if not x.is_floating_point():
            raise ValueError(
                f"{name} must be a floating-point tensor, got dtype {x.dtype}; convert with "
                f"{name}.float() or {name}.double()"
            )
        if not _torch_all_finite(torch, x):
            bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(x))[0])
            raise ValueError(f"{name} contains NaN or inf (first at index {bad})")
    dtype = functools.reduce(torch.promote_types, (x.dtype for x in floats))
    floats = [x if x.dtype == dtype else x.to(dtype) for x in floats]
    flags = []
    for name, x in zip(ARRAY_NAMES[3:], tensors[3:], strict=True):
        if x.dtype != torch.bool:
            if x.is_complex():
                raise ValueError(f"{name} must hold booleans or 0/1, got dtype {x.dtype}")
            ok = (x == 0) | (x == 1)
            if not bool(ok.all()):
                bad = tuple(int(i) for i in torch.nonzero(~ok)[0])
                raise ValueError(
                    f"{name} must hold only 0/1 (or booleans); found {x[bad].item()!r} "
                    f"at index {bad}"
                )
            x = x != 0
        flags.append(x)
    return (*floats, *flags, dtype)


def _torch_all_finite(torch: Any, x: Any) -> bool:
    """Every element of tensor ``x`` is finite.

    CPU tensors are checked through their numpy view: a torch reduction wakes torch's
    thread pool, which costs ~40 µs per call with ``OMP_WAIT_POLICY=PASSIVE`` (as much as
    the whole GAE kernel on 2048 x 64). Elsewhere a finite sum proves it (one reduction);
    only a non-finite sum needs the element-wise test.
    """
    if x.device.type == "cpu" and x.dtype in (torch.float16, torch.float32, torch.float64):
        return _all_finite(x.detach().numpy())
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def check_numpy_inputs(
    rewards: Any, values: Any, next_values: Any, terminated: Any, truncated: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.dtype]:
    """Validate numpy-like inputs; return (r, v, nv, term, trunc, dtype) without copying floats.

    Float arrays of different precision are brought to the wider one (that is the only
    copy made, and only of the narrower arrays).
    """
    arrays = [np.asarray(x) for x in (rewards, values, next_values)]
    flags = [np.asarray(x) for x in (terminated, truncated)]
    shape = arrays[0].shape
    for name, a in zip(ARRAY_NAMES, arrays + flags, strict=True):
        if a.ndim == 0:
            raise ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
        if a.shape != shape:
            raise ValueError(
                f"shape mismatch: rewards has shape {shape} but {name} has shape {a.shape}; "
                "all five arrays must have the same (T, *batch) shape (no broadcasting)"
            )
    if shape[0] == 0 or 0 in shape:
        raise ValueError(f"empty input: arrays have shape {shape}; need T >= 1 steps")
    for name, a in zip(ARRAY_NAMES[:3], arrays, strict=True):
        _check_float_array(name, a)
    dtype = np.result_type(*arrays)
    arrays = [a if a.dtype == dtype else a.astype(dtype) for a in arrays]
    term, trunc = (_check_flag_array(n, f) for n, f in zip(ARRAY_NAMES[3:], flags, strict=True))
    return (*arrays, term, trunc, dtype)
