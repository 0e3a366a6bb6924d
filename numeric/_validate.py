"""Input checks shared by every estimator: refuse bad input with a message that says how to fix it.

The numeric functions never modify their inputs and never guess: a shape mismatch between
rewards, values and next_values, a flag that is not 0/1, a NaN or a γ outside [0, 1] is a
``ValueError`` naming the argument. What they do accept, on purpose:

* integer rewards/values (``np.zeros(T, int)``, a list of ints): computed in float64 (or in
  the float dtype of the other arrays when some are floats);
* ``truncated=None``: no step is truncated (a task with no time limit);
* flags with fewer axes than the values, aligned on the time axis: a ``(T,)`` flag array
  against ``(T, B)`` values applies to every column (``(T, 1)`` too); the flags are
  broadcast as views, never copied.
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


def is_jax_array(x: Any) -> bool:
    """True for a jax.Array or a JAX tracer (inside jit/vmap), without importing jax."""
    return type(x).__module__.split(".")[0] in ("jax", "jaxlib") and hasattr(x, "shape")


def _is_python_number(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, (bool, np.bool_, np.ndarray))


def check_flag_argument(name: str, x: Any) -> None:
    """A γ-looking number passed where a flag array goes (``gae(r, v, nv, term, 0.99, ...)``)."""
    if type(x) is not np.ndarray and _is_python_number(x):  # the common case first: an array
        raise TypeError(
            f"{name}={x!r} is a number, not a flag array; gamma, lam and n are keyword-only: "
            f"numeric.gae(rewards, values, next_values, terminated, truncated, gamma=0.99, "
            "lam=0.95)"
        )


def _time_major_broadcast(name: str, flag_shape: tuple, shape: tuple) -> tuple[int, ...] | None:
    """The shape to view a flag array as so it broadcasts against ``shape`` on the time axis.

    ``(T,)`` against ``(T, B)`` becomes ``(T, 1)``; None when the shapes cannot align.
    """
    if len(flag_shape) == 0 or len(flag_shape) > len(shape):
        return None
    padded = tuple(flag_shape) + (1,) * (len(shape) - len(flag_shape))
    if all(f in (1, s) for f, s in zip(padded, shape, strict=True)) and padded[0] == shape[0]:
        return padded
    return None


def _flag_shape_error(name: str, flag_shape: tuple, shape: tuple) -> ValueError:
    if len(flag_shape) == 0:
        return ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
    return ValueError(
        f"shape mismatch: rewards has shape {tuple(shape)} but {name} has shape "
        f"{tuple(flag_shape)}; flags must have the shape of the values, or fewer axes aligned "
        f"on time (e.g. ({shape[0]},) for every column)"
    )


def _is_concrete_0d_number(x: Any) -> bool:
    """A 0-d numpy array or concrete JAX array of a real (not bool) dtype."""
    if not (isinstance(x, np.ndarray) or is_jax_array(x)) or getattr(x, "ndim", None) != 0:
        return False
    if is_jax_array(x):
        import jax

        if isinstance(x, jax.core.Tracer):
            return False  # no value to look at (a jitted numpy call says so below)
    return getattr(x.dtype, "kind", None) in ("f", "i", "u")


def check_unit_interval(name: str, x: Any) -> float:
    """γ or λ as a float in [0, 1]; ``ValueError`` naming ``name`` otherwise."""
    if type(x) is not float:  # a Python float, the common case, skips the ABC check
        if _is_concrete_0d_number(x):
            x = float(x)  # np.array(0.99) or jnp.float32(0.99): one number
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


_FAST_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _all_finite_each(arrays: list[np.ndarray]) -> bool:
    return all(_all_finite(a) for a in arrays)


def _empty_message(shape: tuple[int, ...]) -> str:
    need = "T >= 1 steps" if shape[0] == 0 else "a batch of at least one column"
    return f"empty input: arrays have shape {shape}; need {need}"


def _check_float_array(name: str, a: np.ndarray, finite: bool = False) -> None:
    """A float (or integer) array; ``finite=True``: already known to be finite."""
    if a.dtype.kind in "iu":
        return  # integers are exact and finite; computed in a float dtype
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(
            f"{name} must be a floating-point array, got dtype {a.dtype}; "
            f"convert with {name}.astype(np.float32) or np.float64"
        )
    if not finite and not _all_finite(a):
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


def cpu_tensor_views(
    rewards: Any, values: Any, next_values: Any, terminated: Any, truncated: Any
) -> tuple[np.ndarray, ...] | None:
    """numpy views (no copy) of CPU tensors in the common call: rewards, values, next_values
    float32 or float64 of one dtype and shape, the flags bool of that shape (``truncated``
    may be None); None for anything else, which takes the torch path. Without importing
    torch: only a tensor's own type says it is one."""
    tensors = (rewards, values, next_values, terminated)
    if not all(type(x).__module__ == "torch" and type(x).__name__ == "Tensor" for x in tensors):
        return None
    import torch

    r = rewards
    if not (r.dtype is torch.float32 or r.dtype is torch.float64) or r.device.type != "cpu":
        return None
    if not all(
        x.dtype is r.dtype and x.shape == r.shape and x.device == r.device
        for x in (values, next_values)
    ):
        return None
    flags = (terminated,) if truncated is None else (terminated, truncated)
    for x in flags:
        if not (
            type(x) is type(r)
            and x.dtype is torch.bool
            and x.shape == r.shape
            and x.device == r.device
        ):
            return None
    try:
        views = tuple(x.detach().numpy() for x in (*tensors, truncated) if x is not None)
    except (RuntimeError, TypeError):  # a layout or view numpy cannot share: the torch path
        return None
    return views if truncated is not None else (*views, None)


def check_torch_inputs(
    rewards: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    finite_later: bool = False,
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Validate torch tensors; return (r, v, nv, term, trunc, dtype) the way the numpy check does.

    All must be tensors on one device; rewards, values and next_values of one shape, floating
    point (or integer: float64) and finite (the widest float dtype is used); the flags bool,
    or 0/1 integers or floats, of that shape or fewer axes aligned on time (expanded as views).
    ``truncated`` None: never truncated. Nothing is modified; only narrower floats are cast.
    ``finite_later``: CPU float32/float64 tensors are not checked for NaN and inf here (the
    numba GAE checks them in its own pass; :func:`check_torch_finite` gives the message).
    """
    import torch

    no_truncation = truncated is None
    if no_truncation:
        device = next(
            x.device for x in (rewards, values, next_values, terminated) if is_torch_tensor(x)
        )
        truncated = torch.zeros((), dtype=torch.bool, device=device)
    tensors = (rewards, values, next_values, terminated, truncated)
    for name, x in zip(ARRAY_NAMES, tensors, strict=True):
        if not is_torch_tensor(x):
            raise ValueError(
                f"mixed inputs: {name} has type {type(x).__name__}, others are torch tensors; "
                "pass all five arrays as torch tensors (torch.as_tensor(x, device=...)) or "
                "all as numpy arrays"
            )
    shape = tuple(rewards.shape)
    for name, x in zip(ARRAY_NAMES, tensors, strict=True):
        if x.device != rewards.device:
            raise ValueError(
                f"{name} is on {x.device} but rewards on {rewards.device}; move every tensor "
                f"to one device, e.g. {name}.to(rewards.device)"
            )
    for name, x in zip(ARRAY_NAMES[:3], tensors[:3], strict=True):
        if x.dim() == 0:
            raise ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
        if tuple(x.shape) != shape:
            raise ValueError(
                f"shape mismatch: rewards has shape {shape} but {name} has shape "
                f"{tuple(x.shape)}; rewards, values and next_values must have the same "
                "(T, *batch) shape (no broadcasting)"
            )
    if 0 in shape:
        raise ValueError(_empty_message(shape))
    floats = list(tensors[:3])
    for name, x in zip(ARRAY_NAMES[:3], floats, strict=True):
        if x.is_floating_point():
            cpu_fast = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            if not (finite_later and cpu_fast):
                _check_torch_finite(torch, name, x)
        elif x.dtype == torch.bool or x.is_complex():
            raise ValueError(
                f"{name} must be a floating-point tensor, got dtype {x.dtype}; convert with "
                f"{name}.float() or {name}.double()"
            )
    float_dtypes = [x.dtype for x in floats if x.is_floating_point()]
    dtype = functools.reduce(torch.promote_types, float_dtypes) if float_dtypes else torch.float64
    floats = [x if x.dtype == dtype else x.to(dtype) for x in floats]
    flags = []
    for name, x in zip(ARRAY_NAMES[3:], tensors[3:], strict=True):
        if name == "truncated" and no_truncation:
            flags.append(x.expand(shape))
            continue
        view = _time_major_broadcast(name, tuple(x.shape), shape)
        if view is None:
            raise _flag_shape_error(name, tuple(x.shape), shape)
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
        flags.append(x if tuple(x.shape) == shape else x.reshape(view).expand(shape))
    return (*floats, *flags, dtype)


def _check_torch_finite(torch: Any, name: str, x: Any) -> None:
    if not _torch_all_finite(torch, x):
        bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(x))[0])
        raise ValueError(f"{name} contains NaN or inf (first at index {bad})")


def check_torch_finite(rewards: Any, values: Any, next_values: Any) -> None:
    """``ValueError`` naming the first float tensor that holds a NaN or inf, and where."""
    import torch

    for name, x in zip(ARRAY_NAMES[:3], (rewards, values, next_values), strict=True):
        if x.is_floating_point():
            _check_torch_finite(torch, name, x)


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


def common_numpy_inputs(
    rewards: Any, values: Any, next_values: Any, terminated: Any, truncated: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.dtype] | None:
    """The common call in a few checks, all but finiteness: (r, v, nv, term, trunc, dtype)
    when rewards, values and next_values are float32/float64 numpy arrays of one dtype and shape
    and the flags bool arrays of that shape (``truncated`` None: a view of False); None for
    any other input, which takes :func:`check_numpy_inputs`'s general path and its messages.

    The caller still owes the finite check: :func:`check_numpy_inputs` makes it at once,
    ``numeric.gae`` inside the kernel's own pass (``numba_kernels.gae_kernel_finite``), then
    :func:`check_finite` only when that pass saw a value that may not be finite.
    """
    # Plain conditions rather than loops: this runs on every numeric.gae call (~1 us).
    r, v, nv = rewards, values, next_values
    if not (type(r) is np.ndarray and type(v) is np.ndarray and type(nv) is np.ndarray):
        return None  # lists, tensors, JAX arrays: the general path (never converted here)
    dtype, shape = r.dtype, r.shape
    if not (
        dtype in _FAST_FLOATS
        and r.ndim
        and 0 not in shape
        and v.dtype == dtype
        and nv.dtype == dtype
        and v.shape == shape
        and nv.shape == shape
        and _is_bool_array(terminated, shape)
    ):
        return None
    if truncated is None:
        truncated = np.broadcast_to(np.False_, shape)
    elif not _is_bool_array(truncated, shape):
        return None
    return r, v, nv, terminated, truncated, dtype


_BOOL = np.dtype(np.bool_)


def _is_bool_array(x: Any, shape: tuple[int, ...]) -> bool:
    return type(x) is np.ndarray and x.dtype == _BOOL and x.shape == shape


def check_finite(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray) -> None:
    """``ValueError`` naming the first of the float arrays that holds a NaN or inf, and where."""
    for name, a in zip(ARRAY_NAMES[:3], (rewards, values, next_values), strict=True):
        _check_float_array(name, a)


def check_numpy_inputs(
    rewards: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    all_finite: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.dtype]:
    """Validate numpy-like inputs; return (r, v, nv, term, trunc, dtype) without copying floats.

    Float arrays of different precision are brought to the wider one, integer arrays to the
    float dtype of the others (float64 when none is a float): those are the only copies.
    Flags with fewer axes are broadcast on the time axis as views; ``truncated`` None is a
    view of False. ``all_finite(r, v, nv)``: a one-pass check of all three (True/False, or None
    when it does not apply); a False is followed by the per-array check for the message.
    """
    common = common_numpy_inputs(rewards, values, next_values, terminated, truncated)
    if common is not None:
        floats = list(common[:3])
        if (all_finite is not None and all_finite(*floats) is True) or _all_finite_each(floats):
            return common
    arrays = [np.asarray(x) for x in (rewards, values, next_values)]
    shape = arrays[0].shape
    for name, a in zip(ARRAY_NAMES[:3], arrays, strict=True):
        if a.ndim == 0:
            raise ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
        if a.shape != shape:
            raise ValueError(
                f"shape mismatch: rewards has shape {shape} but {name} has shape {a.shape}; "
                "rewards, values and next_values must have the same (T, *batch) shape "
                "(no broadcasting)"
            )
    if 0 in shape:
        raise ValueError(_empty_message(shape))
    known_finite = False
    if all_finite is not None and all(a.dtype.kind == "f" for a in arrays):
        known_finite = all_finite(*arrays) is True
    for name, a in zip(ARRAY_NAMES[:3], arrays, strict=True):
        _check_float_array(name, a, finite=known_finite)
    float_arrays = [a for a in arrays if a.dtype.kind == "f"]
    dtype = np.result_type(*float_arrays) if float_arrays else np.dtype(np.float64)
    arrays = [a if a.dtype == dtype else a.astype(dtype) for a in arrays]
    flags = []
    for name, x in zip(ARRAY_NAMES[3:], (terminated, truncated), strict=True):
        if x is None and name == "truncated":
            flags.append(np.broadcast_to(np.False_, shape))
            continue
        a = _check_flag_array(name, np.asarray(x))
        if a.shape != shape:
            view = _time_major_broadcast(name, a.shape, shape)
            if view is None:
                raise _flag_shape_error(name, a.shape, shape)
            a = np.broadcast_to(a.reshape(view), shape)
        flags.append(a)
    return (*arrays, *flags, dtype)


def _as_numpy_float(a: Any) -> np.ndarray:
    """A concrete JAX float array as numpy for the value checks; bfloat16 (a float to JAX,
    not to numpy) widened to float32, which keeps every value and every NaN and inf."""
    array = np.asarray(a)
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float32)


def check_jax_inputs(
    rewards: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    all_finite: Any = None,
) -> tuple[tuple[Any, ...], Any, tuple[int, ...], tuple[tuple[int, ...] | None, ...]]:
    """Validate JAX arrays (or tracers) without running a JAX operation.

    Returns ``(arrays, dtype, shape, flag_views)``: the five inputs as given (numpy lists
    converted), the float dtype to compute in, the values' shape and, per flag, the shape to
    view it as before broadcasting (None: ``truncated`` not given). Shapes and dtypes are
    checked always (they are static under ``jax.jit``); values (finite floats, 0/1 flags) only
    on concrete arrays, through numpy, since a tracer has none to look at. Integers become the
    default JAX float dtype (float64 when ``jax_enable_x64`` is on). ``all_finite(r, v, nv)``:
    a one-pass finite check of the three, as check_numpy_inputs takes (True: no look at each).
    """
    import jax
    import jax.numpy as jnp

    def as_array(x: Any) -> Any:
        return x if is_jax_array(x) or isinstance(x, np.ndarray) else np.asarray(x)

    arrays = [as_array(x) for x in (rewards, values, next_values)]
    shape = tuple(arrays[0].shape)
    for name, a in zip(ARRAY_NAMES[:3], arrays, strict=True):
        if a.ndim == 0:
            raise ValueError(f"{name} must have shape (T, *batch) with T >= 1, got a scalar")
        if tuple(a.shape) != shape:
            raise ValueError(
                f"shape mismatch: rewards has shape {shape} but {name} has shape "
                f"{tuple(a.shape)}; rewards, values and next_values must have the same "
                "(T, *batch) shape (no broadcasting)"
            )
        if not (jnp.issubdtype(a.dtype, jnp.floating) or jnp.issubdtype(a.dtype, jnp.integer)):
            raise ValueError(
                f"{name} must be a floating-point array, got dtype {a.dtype}; convert with "
                f"{name}.astype(jnp.float32)"
            )
    if 0 in shape:
        raise ValueError(_empty_message(shape))
    float_dtypes = [a.dtype for a in arrays if jnp.issubdtype(a.dtype, jnp.floating)]
    if (
        len(float_dtypes) == 3
        and all(isinstance(a, jax.Array) for a in arrays)
        and (float_dtypes[0] == float_dtypes[1] == float_dtypes[2])
    ):
        # The common call: a jax.Array's dtype is canonical already (result_type: ~12 us).
        dtype = float_dtypes[0]
    else:
        dtype = jnp.result_type(*float_dtypes) if float_dtypes else jnp.result_type(float)
    concrete = [
        (name, _as_numpy_float(a))
        for name, a in zip(ARRAY_NAMES[:3], arrays, strict=True)
        if not isinstance(a, jax.core.Tracer) and jnp.issubdtype(a.dtype, jnp.floating)
    ]
    finite = (
        all_finite is not None
        and len(concrete) == 3
        and all_finite(*(a for _, a in concrete)) is True
    )
    for name, a in concrete:
        _check_float_array(name, a, finite=finite)
    flags, views = [], []
    for name, x in zip(ARRAY_NAMES[3:], (terminated, truncated), strict=True):
        if x is None and name == "truncated":
            flags.append(None)
            views.append(None)
            continue
        a = as_array(x)
        view = _time_major_broadcast(name, tuple(a.shape), shape)
        if view is None:
            raise _flag_shape_error(name, tuple(a.shape), shape)
        if not isinstance(a, jax.core.Tracer):
            _check_flag_array(name, np.asarray(a))
        flags.append(a)
        views.append(view)
    return (*arrays, *flags), dtype, shape, tuple(views)
