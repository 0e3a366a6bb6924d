"""The generated numba GAE kernel inside ``jax.jit`` on CPU, through XLA's FFI (backend
``"jax-numba"``).

Why: on CPU, XLA runs ``lax.scan`` at a few ns a step, and rlax runs that same scan, so no
formulation inside XLA is much faster than rlax (``gae-sym bench`` measures it). This backend
calls the compiled numba loops of :mod:`numeric.kernels.numba_kernels` (printed from the
proven recursion) as an XLA custom call: XLA hands the handler its own buffers, nothing is
copied, and the call is one node of the jitted program.

- Shapes: ``(T, B)`` arrays of float32 or float64 (flags bool), as ``numeric.gae``'s JAX
  entry builds them; ``gamma`` and ``lam`` are operands, so a new value never retraces.
- ``jax.vmap``: ``vmap_method="broadcast_all"``: one call, the handler runs each leading
  slice (a batched ``gamma`` or ``lam`` too).
- ``jax.grad`` / ``jax.jvp``: a ``custom_jvp`` whose tangent is that of the ``lax.scan``
  kernel (:func:`numeric.kernels.jax_kernels.gae_scan`): linear in the tangents, so reverse
  mode works, with respect to every float input and to gamma and lam.
- CPU only (the target is registered for the ``cpu`` platform), on XLA's calling thread.
- Threads: one by default, as on numpy arrays; ``numeric.set_threads(n)`` (or
  ``GAE_SYM_THREADS``) lets the handler run the parallel loops on up to n numba threads
  where the shape repays them (many columns, or one long trajectory). The count is read
  when the call is traced: a function jitted before ``set_threads`` keeps its count.

Importing this module imports jax and numba; ``numeric`` imports it only for this backend.
"""

from __future__ import annotations

import ctypes
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from numeric._threads import kernel_threads
from numeric.kernels import jax_kernels, numba_kernels

DTYPES = ("float32", "float64")

# The compiled handlers, kept alive for as long as XLA may call them.
_HANDLERS: dict[str, Any] = {}


def _capsule(address: int) -> Any:
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
    return new(address, None, None)


def target(dtype: str, threads: int = 1) -> str:
    """The FFI target of the GAE handler for ``dtype`` on up to ``threads`` numba threads
    (at most numba's pool), compiled and registered once (``_HANDLERS``, by target name)."""
    if dtype not in DTYPES:
        raise ValueError(f"backend='jax-numba' computes in float32 or float64, not {dtype}")
    threads = numba_kernels.numba_threads(threads)
    name = f"gae_sym_numba_gae_{dtype}" + ("" if threads == 1 else f"_{threads}_threads")
    if name not in _HANDLERS:
        handler = numba_kernels.xla_ffi_gae_handler(np.dtype(dtype), threads)
        _HANDLERS[name] = handler
        jax.ffi.register_ffi_target(name, _capsule(handler.address), platform="cpu")
    return name


@jax.custom_jvp
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """A^GAE(γ, λ) of ``(T, B)`` JAX arrays by the numba kernel: A_t = δ_t + c_t A_{t+1}.

    ``rewards``, ``values``, ``next_values`` float32 or float64 (one dtype), ``terminated``,
    ``truncated`` bool, all ``(T, B)``; ``gamma``, ``lam`` scalars (traced or not). Returns a
    ``(T, B)`` array of the rewards' dtype, on ``kernel_threads()`` numba threads at most (read
    now, at trace time). Theorem gae-recursion (and gae-scan for the blocked scan of one long
    column).
    """
    dtype = jnp.dtype(rewards.dtype)
    call = jax.ffi.ffi_call(
        target(dtype.name, kernel_threads()),
        jax.ShapeDtypeStruct(rewards.shape, dtype),
        vmap_method="broadcast_all",
    )
    return call(
        rewards,
        values,
        next_values,
        terminated,
        truncated,
        jnp.asarray(gamma, dtype=dtype),
        jnp.asarray(lam, dtype=dtype),
    )


@gae.defjvp
def _gae_jvp(primals, tangents):
    # GAE is linear in (r, V, V') for fixed flags, γ and λ; the lax.scan kernel's JVP gives the
    # tangent (γ and λ included) in operations JAX can transpose, the handler the primal.
    _, tangent = jax.jvp(jax_kernels.gae_scan, primals, tangents)
    return gae(*primals), tangent
