"""Benchmark: the project's GAE kernels against the implementations people use, in one run.

Every method computes A^GAE(γ, λ) of the same trajectory (DESIGN.md convention, episode ends at
rate 0.005, a fifth of them time-limit truncations) and is checked against a float64 reference
before it is timed. Methods are interleaved in a shuffled order on every repeat and the median is
reported, because a shared 2-core VM varies up to 2x between runs of the same code.

Cache state (``cache``): interleaving alone leaves each call in whatever state the method
before it left the caches, and that is not the same for every method: the numpy methods share
one set of input arrays (a method that follows another finds them cached), while each JAX
method holds its own device copies (always evicted by the methods in between). So each timed
call is prepared:

* ``"warm"`` (the default): untimed calls of the same method just before, at least one and
  for at least ``WARM_SECONDS``, so every method runs in its steady state, its own working set
  as cached as its size allows, as in a training loop that computes advantages right after the
  rollout wrote them. One call was not enough on the 2-vCPU VM: after another method (or
  50 ms of a Python loop, or a 50 ms sleep) a 100 µs kernel took 350, 220, 135, then ~100 µs
  on its first calls, the same for every method. A call of ``WARM_CALL_LIMIT_S`` or more (the
  Python loops, the out-of-cache case) streams its data through the caches itself and is not
  repeated;
* ``"cold"``: a flush just before, a write of twice the last-level cache (``flush_bytes``), so
  every method reads its inputs from memory.

Metrics per (shape, dtype, method):

* ``m_steps_per_s``: T·B / median seconds / 1e6;
* ``gb_per_s``: effective bandwidth, the bytes a step must touch at least (r, V, V' read, the two
  flags read, A written: 4·itemsize + 2) times T·B / median seconds; the same formula for every
  method, so it is a speed in memory units, not a measurement of their traffic;
* ``max_abs_diff``: max |A − A_ref| against the float64 reference recurrence; ``correct``: that
  difference is within ``tolerance`` = ``TOLERANCE[dtype]`` · max(1, max |A_ref|) (float32 data,
  or a method that rounds γ to float32: 1e-4; float64: 1e-9). Only correct methods compete for
  ``best_alternative``;
* ``vs_best_alternative``: this method's speed / the fastest third-party or textbook method's
  (``vs_tianshou``: / Tianshou's, the fastest library in the issue's measurements);
* ``vs_copy``: this method's effective GB/s / ``np.copyto`` moving the same number of bytes
  (half read, half written), the memory floor.

Conventions of the alternatives (each is fed the case it handles, prepared outside the timing):

* Stable-Baselines3 ``RolloutBuffer.compute_returns_and_advantage`` bootstraps from
  ``values[t+1]`` and cuts at ``episode_starts``; SB3 handles truncation in ``collect_rollouts``
  by adding γ·V(final obs) to the reward, which the preparation does too.
* Tianshou ``Algorithm.compute_episodic_return`` works on flat, env-major buffers and cuts the
  last step of each unfinished env segment (``buffer.unfinished_index()``), masking V(s') with
  ``~terminated``; it returns float64 whatever the input dtype.
* TorchRL ``generalized_advantage_estimate`` / ``vec_generalized_advantage_estimate`` take
  ``done`` and ``terminated`` separately, exactly our convention; γ times an int mask makes a
  float32 tensor (torch's default dtype), so their float64 results carry γ rounded to float32
  (~1e-6 off the reference).
* The lecture's loop (seed, ``compute_gae``) has no done flags; its "textbook" row runs the same
  Python loop per column with the done cut and V(s'_t) added, so that it is correct.

torch threads: on a 2-vCPU VM OpenMP's default spin-wait added ~8 ms to every torch parallel
region; ``gae-sym bench`` sets ``OMP_WAIT_POLICY=PASSIVE`` before torch is imported unless the
variable is already set, and reports the value in force.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pathlib
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

GAMMA = 0.99
LAM = 0.95
END_RATE = 0.005
TRUNCATED_SHARE = 0.2
SHAPES: tuple[tuple[int, int], ...] = ((2048, 64), (1_000_000, 1), (128, 4096))
QUICK_SHAPES: tuple[tuple[int, int], ...] = ((2048, 64), (50_000, 1), (128, 1024))
DTYPES: tuple[str, ...] = ("float32", "float64")
# Per method and case, stop repeating once this much time went into it (slow Python loops).
TIME_BUDGET_S = 3.0
QUICK_TIME_BUDGET_S = 0.6
# A first call slower than this cannot be mostly compile time (numba compiles in ~1-2 s).
SLOW_CALL_S = 5.0
# cache="warm": a call this slow is not repeated untimed before its timed call (see above).
WARM_CALL_LIMIT_S = 0.05
# cache="warm": untimed calls of the method go on for at least this long (at least one call).
WARM_SECONDS = 0.005
CACHES = ("warm", "cold")
# Relative to max(1, max |A_ref|): float32 rounding over a long recurrence stays near 5e-6 (issue
# 4); float64 methods agree with the reference to ~1e-15.
TOLERANCE = {"float32": 1e-4, "float64": 1e-9}

KERNEL = "gae-sym kernel (numba, into out)"
PUBLIC = "numeric.gae (validated, numpy in)"
PLAIN_NUMBA = "plain numba loop"
FLOOR = "np.copyto (memory floor)"
TIANSHOU = "Tianshou compute_episodic_return (numba)"
JAX_SCAN = "gae-sym JAX lax.scan (jitted)"
JAX_ASSOCIATIVE = "gae-sym JAX associative_scan (jitted)"
JAX_CHUNKED = "gae-sym JAX chunked scan (jitted)"
JAX_NUMBA = "gae-sym JAX, numba via XLA FFI (jitted)"
# The rows of the project's kernels on all cores (numeric.set_threads(n)), when n > 1.
KERNEL_THREADS = "gae-sym kernel (numba, into out, {} threads)"
JAX_NUMBA_THREADS = "gae-sym JAX, numba via XLA FFI (jitted, {} threads)"
RLAX = "rlax truncated_gae (jit + vmap)"
PUREJAXRL = "PureJaxRL-style lax.scan (jitted)"
# Out of cache: 10^6 x 64 float32 (256 MB per array), only the fast methods run on it.
LARGE_CASE: tuple[tuple[int, int], str] = ((1_000_000, 64), "float32")


@dataclass(frozen=True)
class Trajectory:
    """One batch of trajectories, time-major ``(T, B)``, in the DESIGN.md convention."""

    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.rewards.shape

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated

    def astype(self, dtype: np.dtype) -> Trajectory:
        floats = (a.astype(dtype) for a in (self.rewards, self.values, self.next_values))
        return Trajectory(*floats, self.terminated, self.truncated)


def make_trajectory(
    steps: int, batch: int, dtype: Any = np.float64, seed: int = 0, end_rate: float = END_RATE
) -> Trajectory:
    """A rollout as a vectorized collector records it: ``V(s'_t) = V(s_{t+1})`` unless done.

    At a termination V(s'_t) is whatever the critic says of the final observation (masked by
    every correct method); at a truncation it is the bootstrap value that matters.
    """
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((steps, batch))
    rewards = rng.standard_normal((steps, batch))
    ends = rng.random((steps, batch)) < end_rate
    truncated = ends & (rng.random((steps, batch)) < TRUNCATED_SHARE)
    terminated = ends & ~truncated
    next_values = np.empty_like(values)
    next_values[:-1] = np.where(ends[:-1], rng.standard_normal((steps - 1, batch)), values[1:])
    next_values[-1] = rng.standard_normal(batch)
    return Trajectory(rewards, values, next_values, terminated, truncated).astype(np.dtype(dtype))


def reference_gae(traj: Trajectory, gamma: float = GAMMA, lam: float = LAM) -> np.ndarray:
    """The recurrence A_t = δ_t + γλ(1 − done_t) A_{t+1} in float64, vectorized over B only."""
    r, v, nv = (a.astype(np.float64) for a in (traj.rewards, traj.values, traj.next_values))
    delta = r + gamma * np.where(traj.terminated, 0.0, nv) - v
    keep = gamma * lam * (~traj.done)
    out = np.empty_like(delta)
    acc = np.zeros(delta.shape[1])
    for t in range(delta.shape[0] - 1, -1, -1):
        acc = delta[t] + keep[t] * acc
        out[t] = acc
    return out


def step_bytes(dtype: Any) -> int:
    """Bytes one step must touch: r, V, V' read, two bool flags read, A written."""
    return 4 * np.dtype(dtype).itemsize + 2


# --- the methods: each ``prepare(traj) -> run`` where ``run()`` returns A as (T, B) -----------


@contextlib.contextmanager
def _kernel_threads(threads: int) -> Iterator[None]:
    """numeric.set_threads(threads) for the block, then back to what was set (None, "follow
    $GAE_SYM_THREADS", stays None)."""
    from numeric import _threads

    previous = _threads.configured_threads()
    _threads.set_threads(threads)
    try:
        yield
    finally:
        _threads.set_threads(previous)


def _kernel(threads: int) -> Callable[[Trajectory], Callable[[], np.ndarray]]:
    def prepare(traj: Trajectory) -> Callable[[], np.ndarray]:
        from numeric import _threads
        from numeric.kernels import numba_kernels as fast

        # The kernel interface writes into a caller's buffer (as SB3's RolloutBuffer does);
        # ``numeric.gae`` below is the allocating, validating call.
        out = np.empty_like(traj.rewards)

        def run() -> np.ndarray:
            # _kernel_threads inline: this is the timed call, and a generator-based context
            # manager would add its own microsecond to a 40 us kernel.
            previous = _threads.configured_threads()
            _threads.set_threads(threads)
            try:
                fast.gae_kernel(*_arrays(traj), GAMMA, LAM, out)
            finally:
                _threads.set_threads(previous)
            return out

        return run

    return prepare


def _arrays(traj: Trajectory) -> tuple[np.ndarray, ...]:
    return traj.rewards, traj.values, traj.next_values, traj.terminated, traj.truncated


def _public_api(traj: Trajectory) -> Callable[[], np.ndarray]:
    import numeric

    return lambda: np.asarray(numeric.gae(*_arrays(traj), gamma=GAMMA, lam=LAM))


def _public_api_torch(traj: Trajectory) -> Callable[[], np.ndarray]:
    import torch

    import numeric

    tensors = [torch.from_numpy(a) for a in _arrays(traj)]
    return lambda: numeric.gae(*tensors, gamma=GAMMA, lam=LAM).numpy()


def _kernel_torch(traj: Trajectory) -> Callable[[], np.ndarray]:
    """``numba_kernels.torch_kernels``: CPU tensors as numpy views of their memory, no copy."""
    import torch

    from numeric.kernels import numba_kernels as fast
    from numeric.kernels import torch_kernels as _generated_torch

    generated = {
        "gae": _generated_torch.gae_kernel,
        "td": _generated_torch.td_kernel,
        "nstep": _generated_torch.nstep_kernel,
    }
    gae_kernel = fast.torch_kernels(generated)["gae"]
    tensors = [torch.from_numpy(a) for a in _arrays(traj)]
    out = torch.empty(traj.shape, dtype=tensors[0].dtype)

    def run() -> np.ndarray:
        gae_kernel(*tensors, GAMMA, LAM, out)
        return out.numpy()

    return run


def _textbook(traj: Trajectory) -> Callable[[], np.ndarray]:
    """The lecture's ``compute_gae`` loop in plain Python, per column, with the done cut."""

    def run() -> np.ndarray:
        steps, batch = traj.shape
        out = np.empty(traj.shape, dtype=traj.rewards.dtype)
        for b in range(batch):
            rewards = traj.rewards[:, b].tolist()
            values = traj.values[:, b].tolist()
            next_values = traj.next_values[:, b].tolist()
            terminated = traj.terminated[:, b].tolist()
            done = traj.done[:, b].tolist()
            gae = 0.0
            advantages = []
            for t in reversed(range(steps)):
                bootstrap = 0.0 if terminated[t] else next_values[t]
                delta = rewards[t] + GAMMA * bootstrap - values[t]
                gae = delta + GAMMA * LAM * (0.0 if done[t] else gae)
                advantages.append(gae)
            out[:, b] = advantages[::-1]
        return out

    return run


def _numpy_loop(traj: Trajectory) -> Callable[[], np.ndarray]:
    """CleanRL ``ppo.py`` / SB3 style: a Python loop over t, numpy across the batch."""
    r, v, nv, term, _ = _arrays(traj)
    dtype = r.dtype.type

    def run() -> np.ndarray:
        advantages = np.zeros_like(r)
        not_terminal = 1.0 - term.astype(r.dtype)
        not_done = 1.0 - traj.done.astype(r.dtype)
        last_gae_lam = np.zeros(r.shape[1], dtype=r.dtype)
        for t in reversed(range(r.shape[0])):
            delta = r[t] + dtype(GAMMA) * nv[t] * not_terminal[t] - v[t]
            last_gae_lam = delta + dtype(GAMMA * LAM) * not_done[t] * last_gae_lam
            advantages[t] = last_gae_lam
        return advantages

    return run


def _lfilter(traj: Trajectory) -> Callable[[], np.ndarray]:
    """RLlib / Spinning Up style: δ vectorized, then scipy ``lfilter`` per episode segment."""
    from scipy.signal import lfilter

    r, v, nv, term, _ = _arrays(traj)
    zero = r.dtype.type(0)

    def run() -> np.ndarray:
        delta = r + r.dtype.type(GAMMA) * np.where(term, zero, nv) - v
        out = np.empty_like(delta)
        done = traj.done
        for b in range(delta.shape[1]):
            ends = np.flatnonzero(done[:, b]) + 1
            start = 0
            for stop in [*ends.tolist(), delta.shape[0]]:
                if stop > start:
                    segment = delta[start:stop, b]
                    out[start:stop, b] = lfilter([1.0], [1.0, -GAMMA * LAM], segment[::-1])[::-1]
                start = stop
        return out

    return run


_plain_numba_loop = None


def _plain_numba(traj: Trajectory) -> Callable[[], np.ndarray]:
    """The loop people write first: the CleanRL loop under ``@njit``, backward over t, a carry
    per column (the natural order for time-major arrays; no scan, no unsigned-index trick).
    Its float64 literals make float32 inputs compute in float64, as such loops usually do."""
    global _plain_numba_loop
    if _plain_numba_loop is None:
        import numba

        @numba.njit(cache=True)
        def loop(r, v, nv, term, trunc, gamma, decay, out):
            carry = np.zeros(r.shape[1], dtype=out.dtype)
            for t in range(r.shape[0] - 1, -1, -1):
                for b in range(r.shape[1]):
                    boot = 0.0 if term[t, b] else nv[t, b]
                    delta = r[t, b] + gamma * boot - v[t, b]
                    carry[b] = delta + (0.0 if (term[t, b] or trunc[t, b]) else decay) * carry[b]
                    out[t, b] = carry[b]

        _plain_numba_loop = loop

    out = np.empty_like(traj.rewards)  # preallocated, like the kernel row it is compared with

    def run() -> np.ndarray:
        _plain_numba_loop(*_arrays(traj), GAMMA, GAMMA * LAM, out)
        return out

    return run


def _sb3(traj: Trajectory) -> Callable[[], np.ndarray]:
    """Stable-Baselines3 ``RolloutBuffer.compute_returns_and_advantage``."""
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    steps, batch = traj.shape
    buffer = RolloutBuffer(
        steps,
        spaces.Box(-1.0, 1.0, (1,), dtype=np.float32),
        spaces.Discrete(2),
        device="cpu",
        gae_lambda=LAM,
        gamma=GAMMA,
        n_envs=batch,
    )
    dtype = traj.rewards.dtype
    # SB3's truncation handling (collect_rollouts): r += γ V(final observation).
    buffer.rewards = traj.rewards + dtype.type(GAMMA) * np.where(
        traj.truncated, traj.next_values, dtype.type(0)
    )
    buffer.values = traj.values.copy()
    buffer.episode_starts = np.zeros((steps, batch), dtype=dtype)
    buffer.episode_starts[1:] = traj.done[:-1]
    buffer.advantages = np.zeros((steps, batch), dtype=dtype)
    last_values = torch.from_numpy(traj.next_values[-1].copy())
    dones = traj.done[-1].astype(dtype)

    def run() -> np.ndarray:
        buffer.compute_returns_and_advantage(last_values, dones)
        return buffer.advantages

    return run


class _EnvSegments:
    """The two things ``compute_episodic_return`` asks of a (vector) replay buffer.

    A ``VectorReplayBuffer`` holding B env segments back to back answers ``terminated`` and
    ``unfinished_index()`` (the last step of each segment not ended by a done) the same way;
    filling a real one step by step would take minutes for 10^6 steps.
    """

    def __init__(self, terminated: np.ndarray, done: np.ndarray, steps: int) -> None:
        self.terminated = terminated
        last = np.arange(steps - 1, done.size, steps)
        self._unfinished = last[~done[last]]

    def unfinished_index(self) -> np.ndarray:
        return self._unfinished


def _tianshou(traj: Trajectory) -> Callable[[], np.ndarray]:
    """Tianshou ``Algorithm.compute_episodic_return`` (its GAE loop is numba)."""
    from tianshou.algorithm.algorithm_base import Algorithm
    from tianshou.data import Batch

    steps, batch = traj.shape
    # Tianshou's buffers are env-major: each env's steps contiguous.
    flat = {
        name: np.ascontiguousarray(a.T).reshape(-1)
        for name, a in zip(
            ("rew", "v_s", "v_s_", "terminated", "truncated"), _arrays(traj), strict=True
        )
    }
    data = Batch(rew=flat["rew"], terminated=flat["terminated"], truncated=flat["truncated"])
    buffer = _EnvSegments(flat["terminated"], flat["terminated"] | flat["truncated"], steps)
    indices = np.arange(steps * batch)

    def run() -> np.ndarray:
        _, advantage = Algorithm.compute_episodic_return(
            data,
            buffer,
            indices,
            v_s_=flat["v_s_"],
            v_s=flat["v_s"],
            gamma=GAMMA,
            gae_lambda=LAM,
        )
        return advantage.reshape(batch, steps).T

    return run


def _torchrl(vectorized: bool) -> Callable[[Trajectory], Callable[[], np.ndarray]]:
    def prepare(traj: Trajectory) -> Callable[[], np.ndarray]:
        import torch
        from torchrl.objectives.value import functional

        estimate = (
            functional.vec_generalized_advantage_estimate
            if vectorized
            else functional.generalized_advantage_estimate
        )
        # TorchRL wants [*batch, T, *feature]; a (B, T, 1) layout made once, outside the timing.
        r, v, nv = (torch.from_numpy(a.T.copy()).unsqueeze(-1) for a in _arrays(traj)[:3])
        term = torch.from_numpy(traj.terminated.T.copy()).unsqueeze(-1)
        done = torch.from_numpy(traj.done.T.copy()).unsqueeze(-1)

        def run() -> np.ndarray:
            with torch.no_grad():
                advantage, _ = estimate(GAMMA, LAM, v, nv, r, done, term)
            return advantage.squeeze(-1).numpy().T

        return run

    return prepare


def _jax_arrays(traj: Trajectory) -> list[Any]:
    import jax

    # float64 cases need x64, which run_bench turns on while it runs (see _jax_x64).
    return [jax.device_put(a) for a in _arrays(traj)]


@contextlib.contextmanager
def _jax_x64(candidates: Sequence[Method]) -> Iterator[None]:
    """JAX's float64 (off by default) for the bench's duration, then back to what it was."""
    if not any("jax" in m.requires for m in candidates):
        yield
        return
    import jax

    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def _jitted(call: Callable[[], Any]) -> Callable[[], Any]:
    """The timed call of a jitted function; its first call (trace + compile) is timed apart."""
    start = time.perf_counter()
    call().block_until_ready()
    compile_seconds = time.perf_counter() - start

    def run() -> Any:
        return call().block_until_ready()

    run.compile_seconds = compile_seconds  # type: ignore[attr-defined]
    return run


def _jax_parameters(traj: Trajectory) -> list[Any]:
    """γ and λ as JAX scalars of the arrays' dtype, made once: operands of the jitted kernel
    (a new value does not retrace), like rlax's discount and λ arrays, made once too. Python
    floats would cost two host-to-device transfers a call (~15 µs on 2048 x 64)."""
    import jax

    dtype = traj.rewards.dtype.type
    return [jax.device_put(dtype(GAMMA)), jax.device_put(dtype(LAM))]


def _jax_kernel(variant: str) -> Callable[[Trajectory], Callable[[], Any]]:
    def prepare(traj: Trajectory) -> Callable[[], Any]:
        from numeric.kernels import jax_kernels

        arrays = _jax_arrays(traj) + _jax_parameters(traj)
        kernel = getattr(jax_kernels, f"gae_{variant}")
        return _jitted(lambda: kernel(*arrays))

    return prepare


def _jax_numba(threads: int) -> Callable[[Trajectory], Callable[[], Any]]:
    def prepare(traj: Trajectory) -> Callable[[], Any]:
        import jax

        from numeric import jax_ffi

        arrays = _jax_arrays(traj) + _jax_parameters(traj)
        # jax_ffi.gae reads the thread count when traced: a function of its own per count
        # (jax.jit(jax_ffi.gae) would share one trace cache across counts).
        kernel = jax.jit(lambda *operands: jax_ffi.gae(*operands))
        with _kernel_threads(threads):
            return _jitted(lambda: kernel(*arrays))  # its first call traces

    return prepare


def _public_api_jax(traj: Trajectory) -> Callable[[], Any]:
    import numeric

    arrays = _jax_arrays(traj)
    return _jitted(lambda: numeric.gae(*arrays, gamma=GAMMA, lam=LAM))


def _bootstrap_rewards(traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """(r', V_ext) for methods whose δ bootstraps from values[t + 1]: the same δ_t as ours.

    ``V_ext`` is V(s_0..s_{T-1}) then V'(s_{T-1}); r'_t = r_t + γ(1 − term_t) V'_t − γ(1 − term_t)
    V_ext[t + 1], so that r'_t + γ(1 − term_t) V_ext[t + 1] − V_t is our δ_t (prepared once,
    outside the timing, as SB3's truncation bootstrap is).
    """
    r, v, nv, term, _ = _arrays(traj)
    extended = np.concatenate([v, nv[-1:]])
    keep = r.dtype.type(GAMMA) * (~term).astype(r.dtype)
    return r + keep * nv - keep * extended[1:], extended


def _rlax(traj: Trajectory) -> Callable[[], Any]:
    """rlax ``truncated_generalized_advantage_estimation``, one trajectory per call, vmapped over
    B and jitted (rlax's own example of batching). discount_t = γ(1 − term_t) and a per-step
    λ_t = λ(1 − truncated_t) cut the chain at every episode end, as its docstring allows."""
    import jax
    import rlax

    rewards, extended = _bootstrap_rewards(traj)
    dtype = traj.rewards.dtype.type
    discount = dtype(GAMMA) * (~traj.terminated).astype(dtype)
    lam = dtype(LAM) * (~traj.truncated).astype(dtype)
    inputs = [jax.device_put(a) for a in (rewards, discount, lam, extended)]
    batched = jax.jit(
        jax.vmap(rlax.truncated_generalized_advantage_estimation, in_axes=1, out_axes=1)
    )
    return _jitted(lambda: batched(*inputs))


def _purejaxrl(traj: Trajectory) -> Callable[[], Any]:
    """The ``_calculate_gae`` of PureJaxRL's ppo.py: ``lax.scan`` backwards over (T, B) with
    (gae, next_value) as carry and ``unroll=16``, jitted. Its δ bootstraps from the next step's
    value and masks with ``done``: fed r' (see ``_bootstrap_rewards``) with term folded in."""
    import jax
    import jax.numpy as jnp

    rewards, extended = _bootstrap_rewards(traj)
    dtype = traj.rewards.dtype.type
    # PureJaxRL's δ = r + γ next_value (1 − done) − value: put the ended steps' bootstrap in r.
    done = traj.done.astype(dtype)
    keep = dtype(GAMMA) * (~traj.terminated).astype(dtype)
    rewards = rewards + keep * extended[1:] - dtype(GAMMA) * (1 - done) * extended[1:]
    xs = [jax.device_put(a) for a in (done, extended[:-1], rewards)]
    last_value = jax.device_put(extended[-1])

    @jax.jit
    def calculate_gae(done, value, reward, last_val):
        def get_advantages(gae_and_next_value, transition):
            gae, next_value = gae_and_next_value
            done, value, reward = transition
            delta = reward + GAMMA * next_value * (1 - done) - value
            gae = delta + GAMMA * LAM * (1 - done) * gae
            return (gae, value), gae

        _, advantages = jax.lax.scan(
            get_advantages,
            (jnp.zeros_like(last_val), last_val),
            (done, value, reward),
            reverse=True,
            unroll=16,
        )
        return advantages

    return _jitted(lambda: calculate_gae(*xs, last_value))


def _copy_floor(traj: Trajectory) -> Callable[[], np.ndarray]:
    """``np.copyto`` moving the bytes a GAE step touches: half read, half written."""
    total = traj.rewards.size * step_bytes(traj.rewards.dtype)
    source = np.ones(total // 2, dtype=np.uint8)
    target = np.empty_like(source)

    def run() -> np.ndarray:
        np.copyto(target, source)
        return target

    return run


@dataclass(frozen=True)
class Method:
    """A row of the bench: ``prepare(traj)`` does the set-up and returns the timed call."""

    name: str
    prepare: Callable[[Trajectory], Callable[[], np.ndarray]]
    ours: bool = False
    floor: bool = False
    requires: tuple[str, ...] = ()
    float32_gamma: bool = False  # computes with γ rounded to float32 whatever the data dtype
    large: bool = False  # fast enough for LARGE_CASE (10^6 x 64)

    def tolerance(self, dtype: str) -> float:
        return TOLERANCE["float32" if self.float32_gamma else dtype]


def methods(threads: int | None = None) -> list[Method]:
    """Every method the bench knows; ``available`` filters those whose packages are missing."""
    threads = threads if threads is not None else _machine_threads()
    found = [
        Method(KERNEL, _kernel(1), ours=True, large=True),
        Method(
            "gae-sym kernel on torch CPU tensors", _kernel_torch, ours=True, requires=("torch",)
        ),
        Method(PUBLIC, _public_api, ours=True, large=True),
        Method(
            "numeric.gae (torch CPU tensors)", _public_api_torch, ours=True, requires=("torch",)
        ),
        Method("textbook Python loop (lecture)", _textbook),
        Method("numpy loop over T (CleanRL/SB3 style)", _numpy_loop),
        Method("scipy lfilter per episode (RLlib/Spinning Up)", _lfilter, requires=("scipy",)),
        Method(PLAIN_NUMBA, _plain_numba, large=True),
        Method(
            "SB3 compute_returns_and_advantage",
            _sb3,
            requires=("stable_baselines3", "torch", "gymnasium"),
        ),
        Method(TIANSHOU, _tianshou, requires=("tianshou",), large=True),
        Method(JAX_SCAN, _jax_kernel("scan"), ours=True, requires=("jax",), large=True),
        Method(JAX_ASSOCIATIVE, _jax_kernel("associative"), ours=True, requires=("jax",)),
        Method(JAX_CHUNKED, _jax_kernel("chunked"), ours=True, requires=("jax",), large=True),
        Method(JAX_NUMBA, _jax_numba(1), ours=True, requires=("jax", "numba"), large=True),
        Method("numeric.gae (JAX arrays)", _public_api_jax, ours=True, requires=("jax",)),
        Method(RLAX, _rlax, requires=("rlax", "jax"), large=True),
        Method(PUREJAXRL, _purejaxrl, requires=("jax",), large=True),
        Method(
            "TorchRL generalized_advantage_estimate",
            _torchrl(False),
            requires=("torchrl",),
            float32_gamma=True,
        ),
        Method(
            "TorchRL vec_generalized_advantage_estimate",
            _torchrl(True),
            requires=("torchrl",),
            float32_gamma=True,
        ),
        Method(FLOOR, _copy_floor, floor=True, large=True),
    ]
    if threads > 1:
        found.insert(
            1, Method(KERNEL_THREADS.format(threads), _kernel(threads), ours=True, large=True)
        )
        at = next(i for i, m in enumerate(found) if m.name == JAX_NUMBA) + 1
        threaded = Method(
            JAX_NUMBA_THREADS.format(threads),
            _jax_numba(threads),
            ours=True,
            requires=("jax", "numba"),
            large=True,
        )
        found.insert(at, threaded)
    return found


def _machine_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def available(candidates: Iterable[Method]) -> tuple[list[Method], list[str]]:
    """(methods whose packages import, names of those skipped with the missing package)."""
    usable, skipped = [], []
    for method in candidates:
        missing = [m for m in method.requires if importlib.util.find_spec(m) is None]
        if missing:
            skipped.append(f"{method.name} (not installed: {', '.join(missing)})")
        else:
            usable.append(method)
    return usable, skipped


def last_level_cache_bytes() -> int:
    """The largest CPU cache Linux reports (sysfs), or 32 MiB where it reports none."""
    sizes = []
    for index in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        with contextlib.suppress(OSError, ValueError):
            text = pathlib.Path(index).read_text().strip()
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            sizes.append(int(text.rstrip("KMG")) * scale)
    return max(sizes, default=32 << 20)


def flush_bytes() -> int:
    """Bytes cache="cold" writes before each timed call: twice the last-level cache."""
    return 2 * last_level_cache_bytes()


class _CacheFlush:
    """Evicts the caches by writing a buffer twice the last-level cache: the next method's
    cached lines are written back or dropped, and its reads start from memory."""

    def __init__(self) -> None:
        self._buffer = np.zeros(flush_bytes(), dtype=np.uint8)
        self._fill = 0

    def __call__(self) -> None:
        self._fill = (self._fill + 1) % 251  # a new value each time: every line is written
        self._buffer.fill(self._fill)


def _check_cache(cache: str) -> None:
    if cache not in CACHES:
        raise ValueError(f"cache must be one of {CACHES}, not {cache!r}")


def _prepare_call(cache: str) -> Callable[[Callable[[], Any], list[float]], None]:
    """What runs, untimed, just before each timed call of a method (see "Cache state")."""
    if cache == "cold":
        flush = _CacheFlush()
        return lambda run, samples: flush()

    def warm(run: Callable[[], Any], samples: list[float]) -> None:
        if samples and min(samples) < WARM_CALL_LIMIT_S:
            until = time.perf_counter() + WARM_SECONDS
            run()
            while time.perf_counter() < until:
                run()

    return warm


def _timed(run: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def bench_case(
    shape: tuple[int, int],
    dtype: str,
    candidates: Sequence[Method],
    *,
    repeats: int,
    time_budget_s: float,
    seed: int = 0,
    end_rate: float = END_RATE,
    progress: Callable[[], None] | None = None,
    cache: str = "warm",
) -> list[dict[str, Any]]:
    """Check, then time, every method on one (shape, dtype); returns one row per method.

    ``cache``: "warm" or "cold", what runs untimed before each timed call (module docstring).
    """
    _check_cache(cache)
    before_call = _prepare_call(cache)
    traj = make_trajectory(*shape, dtype=dtype, seed=seed, end_rate=end_rate)
    reference = reference_gae(traj)
    scale = max(1.0, float(np.max(np.abs(reference))))
    steps = shape[0] * shape[1]
    rows: dict[str, dict[str, Any]] = {}
    runs: dict[str, Callable[[], np.ndarray]] = {}
    times: dict[str, list[float]] = {}
    firsts: dict[str, float] = {}
    for method in candidates:
        try:
            run = method.prepare(traj)
            first, result = _timed(run)  # also the warm-up (numba compile, torch init)
        except Exception as error:  # a library's own failure is a result, not a crash
            rows[method.name] = {"method": method.name, "error": f"{type(error).__name__}: {error}"}
            continue
        row: dict[str, Any] = {"method": method.name, "max_abs_diff": None}
        if hasattr(run, "compile_seconds"):  # jitted: trace + compile, timed apart from the runs
            row["compile_seconds"] = run.compile_seconds
        if not method.floor:
            diff = float(np.max(np.abs(np.asarray(result) - reference)))
            tolerance = method.tolerance(dtype) * scale
            row.update(max_abs_diff=diff, tolerance=tolerance, correct=diff <= tolerance)
        rows[method.name] = row
        runs[method.name] = run
        times[method.name] = []
        firsts[method.name] = first
        # A very slow call (a Python loop over 10^6 steps) is its own timing; anything faster
        # may have included a compile (numba, torch) and is timed again below.
        if first > max(time_budget_s, SLOW_CALL_S):
            times[method.name].append(first)
    order = list(runs)
    for _ in range(repeats):
        random.shuffle(order)
        for name in order:
            if sum(times[name]) < time_budget_s or not times[name]:
                # Until a call is timed, the checked first call says what one costs.
                before_call(runs[name], times[name] or [firsts[name]])
                times[name].append(_timed(runs[name])[0])
        if progress:
            progress()
    floor_gbs = None
    if FLOOR in times:
        floor_gbs = steps * step_bytes(dtype) / statistics.median(times[FLOOR]) / 1e9
    for name, samples in times.items():
        seconds = statistics.median(samples)
        rows[name].update(
            seconds=seconds,
            best_seconds=min(samples),
            repeats=len(samples),
            m_steps_per_s=steps / seconds / 1e6,
            gb_per_s=steps * step_bytes(dtype) / seconds / 1e9,
        )
        if floor_gbs:
            rows[name]["vs_copy"] = rows[name]["gb_per_s"] / floor_gbs
    kinds = {m.name: m for m in candidates}
    alternatives = [
        r
        for n, r in rows.items()
        if "seconds" in r and not kinds[n].ours and not kinds[n].floor and r["correct"]
    ]
    best = max(alternatives, key=lambda r: r["m_steps_per_s"], default=None)
    tianshou = rows.get(TIANSHOU, {}).get("m_steps_per_s")
    for name, row in rows.items():
        row.update(shape=list(shape), dtype=dtype, ours=kinds[name].ours, floor=kinds[name].floor)
        if best and "seconds" in row:
            row["vs_best_alternative"] = row["m_steps_per_s"] / best["m_steps_per_s"]
            row["best_alternative"] = best["method"]
        if tianshou and "seconds" in row:
            row["vs_tianshou"] = row["m_steps_per_s"] / tianshou
    return [rows[m.name] for m in candidates if m.name in rows]


def run_bench(
    shapes: Sequence[tuple[int, int]] = SHAPES,
    dtypes: Sequence[str] = DTYPES,
    *,
    repeats: int = 7,
    time_budget_s: float = TIME_BUDGET_S,
    names: Sequence[str] | None = None,
    end_rate: float = END_RATE,
    progress: Callable[[], None] | None = None,
    large: bool = False,
    cache: str = "warm",
) -> dict[str, Any]:
    """Run the whole bench; returns the JSON document ``gae-sym bench --json`` prints.

    ``cache``: "warm" (each timed call follows untimed calls of the same method) or "cold"
    (each follows a flush of ``flush_bytes()``), see the module docstring.
    """
    _check_cache(cache)
    candidates, skipped = available(methods())
    if names is not None:
        candidates = [m for m in candidates if m.name in names]
    cases = [(tuple(shape), dtype) for shape in shapes for dtype in dtypes]
    if large:
        cases.append(LARGE_CASE)
    rows: list[dict[str, Any]] = []
    with _jax_x64(candidates):
        for shape, dtype in cases:
            large_case = (shape, dtype) == LARGE_CASE
            chosen = [m for m in candidates if m.large] if large_case else candidates
            rows.extend(
                bench_case(
                    shape,
                    dtype,
                    chosen,
                    repeats=repeats,
                    time_budget_s=time_budget_s,
                    end_rate=end_rate,
                    progress=progress,
                    cache=cache,
                )
            )
    return {
        "gamma": GAMMA,
        "lam": LAM,
        "end_rate": end_rate,
        "truncated_share": TRUNCATED_SHARE,
        "repeats": repeats,
        "statistic": "median",
        "cache": cache,
        "flush_bytes": flush_bytes() if cache == "cold" else None,
        "warm_seconds": WARM_SECONDS if cache == "warm" else None,
        "environment": _environment(),
        "skipped": skipped,
        "results": rows,
        "headline": headline(rows),
    }


def _row(
    rows: list[dict[str, Any]], shape: tuple[int, int], dtype: str, name: str
) -> dict[str, Any] | None:
    for row in rows:
        if tuple(row["shape"]) == tuple(shape) and row["dtype"] == dtype and row["method"] == name:
            return row
    return None


def _speed(
    rows: list[dict[str, Any]], shape: tuple[int, int], dtype: str, name: str
) -> float | None:
    row = _row(rows, shape, dtype, name)
    if row is None:
        return None
    return row.get("m_steps_per_s") if row.get("correct", True) else None


def _threaded_speed(
    rows: list[dict[str, Any]], shape: tuple[int, int], dtype: str, template: str
) -> float | None:
    """_speed of the row named by ``template`` with whichever thread count this run had."""
    prefix, suffix = template.split("{}")
    for row in rows:
        name = row["method"]
        count = name[len(prefix) : -len(suffix)]
        if name.startswith(prefix) and name.endswith(suffix) and count.isdigit():
            return _speed(rows, shape, dtype, name)
    return None


def headline(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's numbers, as ratios measured in this one run (None: a method did not run).

    Per case: kernel / Tianshou (goal >= 4), kernel / plain numba (>= 1), our JAX lax.scan /
    rlax (>= 2), kernel / public numeric.gae (<= 1.5 at 2048 x 64 float32); on LARGE_CASE the
    effective bandwidth / np.copyto's (>= 0.5) of the kernel and of the public call. The JAX
    goal for each JAX backend (lax.scan, associative, chunked, numba through XLA's FFI, on one
    thread and on all cores), and the bare numba kernel / rlax, no goal: the ceiling of a
    one-core compiled backend against rlax.
    """

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    cases = list(dict.fromkeys((tuple(r["shape"]), r["dtype"]) for r in rows))
    out = []
    for shape, dtype in cases:
        kernel = _speed(rows, shape, dtype, KERNEL)
        entry = {
            "shape": list(shape),
            "dtype": dtype,
            "kernel_vs_tianshou": ratio(kernel, _speed(rows, shape, dtype, TIANSHOU)),
            "kernel_vs_plain_numba": ratio(kernel, _speed(rows, shape, dtype, PLAIN_NUMBA)),
            "kernel_over_public": ratio(kernel, _speed(rows, shape, dtype, PUBLIC)),
            "jax_vs_rlax": ratio(
                _speed(rows, shape, dtype, JAX_SCAN), _speed(rows, shape, dtype, RLAX)
            ),
            "jax_associative_vs_rlax": ratio(
                _speed(rows, shape, dtype, JAX_ASSOCIATIVE), _speed(rows, shape, dtype, RLAX)
            ),
            "jax_chunked_vs_rlax": ratio(
                _speed(rows, shape, dtype, JAX_CHUNKED), _speed(rows, shape, dtype, RLAX)
            ),
            "jax_numba_vs_rlax": ratio(
                _speed(rows, shape, dtype, JAX_NUMBA), _speed(rows, shape, dtype, RLAX)
            ),
            # The same on all cores (numeric.set_threads), where the machine has more than one.
            "jax_numba_threads_vs_rlax": ratio(
                _threaded_speed(rows, shape, dtype, JAX_NUMBA_THREADS),
                _speed(rows, shape, dtype, RLAX),
            ),
            # Context for the JAX goal: the bare one-core numba kernel against rlax, what the
            # FFI backend could reach without XLA's per-call cost (lax.scan backends run the
            # same scan as rlax).
            "kernel_vs_rlax": ratio(kernel, _speed(rows, shape, dtype, RLAX)),
        }
        # The memory-floor goal for the into-out kernel and for the public call (which
        # allocates its output and checks its inputs in the same pass).
        for key, name in (("kernel_vs_copy", KERNEL), ("public_vs_copy", PUBLIC)):
            row = _row(rows, shape, dtype, name)
            entry[key] = None if row is None else row.get("vs_copy")
        out.append(entry)
    return out


def _environment() -> dict[str, Any]:
    import numba

    from numeric import _threads

    info: dict[str, Any] = {
        "cpu_count": _machine_threads(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threading_layer_env": os.environ.get("NUMBA_THREADING_LAYER"),
        "kernel_threads_default": _threads.kernel_threads(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }
    for package in ("torch", "stable_baselines3", "tianshou", "torchrl", "scipy", "jax", "rlax"):
        if importlib.util.find_spec(package) is not None:
            module = importlib.import_module(package)
            info[package] = getattr(module, "__version__", "?")
    return info
