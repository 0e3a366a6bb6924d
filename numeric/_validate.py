"""Input checks shared by every estimator: refuse bad input with a message that says how to fix it.

The numeric functions never broadcast silently, never modify their inputs and never
guess: a shape mismatch, a flag that is not 0/1, a NaN or a γ outside [0, 1] is a
``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

ARRAY_NAMES = ("rewards", "values", "next_values", "terminated", "truncated")


def is_torch_tensor(x: Any) -> bool:
    """True for a torch.Tensor, without importing torch."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def check_unit_interval(name: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"{name} must be a real number in [0, 1], got {x!r}")
    x = float(x)
    if not (0.0 <= x <= 1.0) or math.isnan(x):
        raise ValueError(f"{name} must lie in [0, 1], got {x}; pass e.g. {name}=0.99")
    return x


def check_steps(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (number of steps), got {n!r}")
    return int(n)


def _check_float_array(name: str, a: np.ndarray) -> None:
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(
            f"{name} must be a floating-point array, got dtype {a.dtype}; "
            f"convert with {name}.astype(np.float32) or np.float64"
        )
    if not np.all(np.isfinite(a)):
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
