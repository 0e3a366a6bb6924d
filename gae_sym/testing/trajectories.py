"""Trajectories for property tests: a canonical record, hypothesis strategies, fixed edge cases.

Every case is stored in the project's trajectory convention (DESIGN.md): time-major arrays
``rewards[t] = r_t``, ``values[t] = V(s_t)``, ``next_values[t] = V(s'_t)`` and gymnasium's
``terminated[t]`` / ``truncated[t]`` flags, plus γ and λ. The three calling conventions
(``lecture``, ``masked``, ``canonical``; see :mod:`gae_sym.testing.conventions`) are views
of this record; the strategies only generate what the chosen convention can express:

- ``lecture``: one segment, no done inside, ``next_values = values[1:] + [next_value]``;
- ``masked``: terminations anywhere (``masks[t] = 0``), no truncation inside the segment;
- ``canonical``: terminations and truncations anywhere; at a done step ``next_values[t]`` is
  the value of the final observation, which differs from ``values[t + 1]`` (the reset state);
- ``episode-start`` (CleanRL, SB3, baselines): terminations anywhere, no truncation inside
  (``dones[t]`` says s_t began an episode; ``started`` holds ``dones[0]``, the flag of the
  step before the segment, drawn at random: a correct function never reads it);
- ``discount`` (rlax): terminations anywhere as per-step discounts γ(1 − terminated_t).

What each convention can express is the table :data:`EXPRESSES` (terminations, truncations);
a new convention adds a row there and one in :mod:`gae_sym.testing.conventions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# convention -> (can hold terminations inside the segment, can hold truncations inside it)
EXPRESSES: dict[str, tuple[bool, bool]] = {
    "lecture": (False, False),
    "masked": (True, False),
    "canonical": (True, True),
    "episode-start": (True, False),
    "discount": (True, False),
}
CONVENTIONS = tuple(EXPRESSES)

# Shrinking moves towards the first entry, so minimal counterexamples use γ = λ = 0.5.
NOTABLE_DISCOUNTS = (0.5, 0.0, 1.0, 0.9, 0.99, 0.95)

DEFAULT_TERMINATION_RATE = 0.15
_FLAG_LEVELS = 1000
DEFAULT_TRUNCATION_RATE = 0.1
VERY_LONG = 1100  # the length of the longest edge case


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One test case in the canonical convention: arrays of shape ``(T, *batch)``, γ, λ."""

    rewards: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    gamma: float
    lam: float
    # Whether s_0 began a new episode (the episode-start convention's dones[0], shape
    # ``batch``); it changes no advantage, so None (False) everywhere else.
    started: np.ndarray | None = None

    @property
    def length(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.rewards.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.rewards.dtype

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """(rewards, values, next_values, terminated, truncated): the positional arguments
        of the ``numeric`` estimators."""
        return (self.rewards, self.values, self.next_values, self.terminated, self.truncated)

    def scale(self) -> float:
        """The largest input magnitude (at least 1): the unit of the absolute tolerance."""
        arrays = (self.rewards, self.values, self.next_values)
        return max(1.0, *(float(np.max(np.abs(a))) for a in arrays))

    def __repr__(self) -> str:
        return (
            f"Trajectory(T={self.length}, batch={self.batch_shape}, gamma={self.gamma}, "
            f"lam={self.lam}, terminated={np.flatnonzero(self.terminated).tolist()}, "
            f"truncated={np.flatnonzero(self.truncated).tolist()})"
        )

    def start_flags(self) -> np.ndarray:
        """:attr:`started` as a bool array of shape ``batch`` (False when not set)."""
        if self.started is None:
            return np.zeros(self.batch_shape, dtype=bool)
        return np.asarray(self.started, dtype=bool).reshape(self.batch_shape)


def segment(
    rewards: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    next_value: float,
    *,
    gamma: float,
    lam: float,
    terminated: Sequence[bool] | np.ndarray | None = None,
    truncated: Sequence[bool] | np.ndarray | None = None,
    final_values: Sequence[float] | np.ndarray | None = None,
    dtype: np.dtype | type = np.float64,
) -> Trajectory:
    """Build a :class:`Trajectory` from one rollout segment of a single environment.

    ``next_values[t] = values[t + 1]`` while the episode goes on, ``next_value`` after the
    last step, and ``final_values[t]`` (the final observation's value) where step t ended
    the episode before the last step; without ``final_values`` those are ``values[t + 1]``.
    """
    r = np.asarray(rewards, dtype=dtype)
    v = np.asarray(values, dtype=dtype)
    term = np.zeros(r.shape, bool) if terminated is None else np.asarray(terminated, bool)
    trunc = np.zeros(r.shape, bool) if truncated is None else np.asarray(truncated, bool)
    nv = np.append(v[1:], np.asarray(next_value, dtype=dtype))
    if final_values is not None:
        fv = np.asarray(final_values, dtype=dtype)
        ended = term | trunc
        ended[-1] = False
        nv = np.where(ended, fv, nv)
    return Trajectory(r, v, nv.astype(dtype), term, trunc, float(gamma), float(lam))


def discounts() -> st.SearchStrategy[float]:
    """γ or λ in [0, 1]: the notable values (0, 1, 0.99, ...) often, any float otherwise."""
    return st.one_of(st.sampled_from(NOTABLE_DISCOUNTS), st.floats(0.0, 1.0))


def _floats(dtype: np.dtype, bounds: tuple[float, float]) -> st.SearchStrategy[float]:
    low, high = bounds
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)


def _flags(shape: tuple[int, ...], rate: float) -> st.SearchStrategy[np.ndarray]:
    # One uniform level per step (no fill value), so `rate` is the per-step probability; the
    # levels shrink to 0, i.e. minimal counterexamples keep only the flags they need.
    if rate <= 0.0:
        return st.just(np.zeros(shape, dtype=bool))
    # Integer draws shrink much faster than float ones.
    threshold = round((1.0 - rate) * _FLAG_LEVELS)
    levels = st.integers(0, _FLAG_LEVELS - 1)
    uniforms = hnp.arrays(np.int64, shape, elements=levels, fill=st.nothing())
    return uniforms.map(lambda u: u >= threshold)


def _resolve_rates(
    convention: str, termination_rate: float | None, truncation_rate: float | None
) -> tuple[float, float]:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    terminations, truncations = EXPRESSES[convention]
    default_term = DEFAULT_TERMINATION_RATE if terminations else 0.0
    default_trunc = DEFAULT_TRUNCATION_RATE if truncations else 0.0
    term = default_term if termination_rate is None else float(termination_rate)
    trunc = default_trunc if truncation_rate is None else float(truncation_rate)
    if not terminations and term > 0:
        raise ValueError(
            f"the {convention} convention has no done flags: termination_rate must be 0"
        )
    if not truncations and trunc > 0:
        raise ValueError(
            f"the {convention} convention cannot express a truncation inside the segment: "
            "truncation_rate must be 0 (use convention='canonical')"
        )
    for name, rate in (("termination_rate", term), ("truncation_rate", trunc)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {rate}")
    return term, trunc


def trajectories(
    convention: str = "canonical",
    *,
    min_length: int = 1,
    max_length: int = 64,
    batch_shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] = (),
    dtype: np.dtype | type = np.float64,
    termination_rate: float | None = None,
    truncation_rate: float | None = None,
    reward_range: tuple[float, float] = (-10.0, 10.0),
    value_range: tuple[float, float] = (-10.0, 10.0),
    gammas: st.SearchStrategy[float] | None = None,
    lams: st.SearchStrategy[float] | None = None,
    lengths: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Trajectory]:
    """Hypothesis strategy for :class:`Trajectory` cases that ``convention`` can express.

    ``batch_shape`` (a tuple or a strategy of tuples) adds trailing batch dimensions, one
    done pattern per column. ``lengths`` replaces the uniform T in [min_length,
    max_length] (``verify`` draws from a few sizes for jitted JAX code). Rates are
    per-step probabilities (defaults: terminations 0.15 except ``lecture``, truncations 0.1
    for ``canonical`` only). ``gammas``/``lams`` default to :func:`discounts`. Arrays
    shrink towards 0, γ and λ towards 0.5. A request the convention cannot express is a
    ``ValueError`` here, not at draw time.
    """
    term_rate, trunc_rate = _resolve_rates(convention, termination_rate, truncation_rate)
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
    batches = batch_shape if isinstance(batch_shape, st.SearchStrategy) else st.just(batch_shape)
    # The reference kernels load now, not in the first timed example of a test that uses
    # them (hypothesis's deadline; issue 18: the numba warm-up failed a test run alone).
    from gae_sym.testing.conventions import warm_reference

    warm_reference(dtype)
    return _trajectories(
        convention,
        lengths if lengths is not None else st.integers(min_length, max_length),
        batches,
        np.dtype(dtype),
        term_rate,
        trunc_rate,
        reward_range,
        value_range,
        gammas if gammas is not None else discounts(),
        lams if lams is not None else discounts(),
    )


@st.composite
def _trajectories(
    draw: st.DrawFn,
    convention: str,
    lengths: st.SearchStrategy[int],
    batches: st.SearchStrategy[tuple[int, ...]],
    dtype: np.dtype,
    term_rate: float,
    trunc_rate: float,
    reward_range: tuple[float, float],
    value_range: tuple[float, float],
    gammas: st.SearchStrategy[float],
    lams: st.SearchStrategy[float],
) -> Trajectory:
    batch = tuple(int(b) for b in draw(batches))
    length = draw(lengths)
    shape = (length, *batch)

    def floats(bounds):
        return hnp.arrays(dtype, shape, elements=_floats(dtype, bounds))

    rewards = draw(floats(reward_range))
    values = draw(floats(value_range))
    bootstrap = draw(hnp.arrays(dtype, batch, elements=_floats(dtype, value_range)))
    terminated = draw(_flags(shape, term_rate))
    truncated = draw(_flags(shape, trunc_rate))
    next_values = np.concatenate([values[1:], bootstrap[None]], axis=0)
    if convention == "canonical":
        # Where an episode ended, V(s'_t) is the final observation's value, not V(s_{t+1}).
        final_values = draw(floats(value_range))
        next_values = np.where(terminated | truncated, final_values, next_values)
    started = draw(hnp.arrays(bool, batch)) if convention == "episode-start" else None
    return Trajectory(
        rewards, values, next_values, terminated, truncated, draw(gammas), draw(lams), started
    )


def edge_cases(convention: str, seed: int = 0) -> list[tuple[str, Trajectory]]:
    """The fixed cases every run tries first, named, for ``convention``.

    γ = 0, λ = 0, γ = 1, λ = 1, T = 1, plain segments and long ones (50, 64 and 1100 steps);
    with ``masked``/``canonical`` also a terminal last step, terminations in the middle and
    back to back; with ``canonical`` truncations (inside, last step, with a termination).
    Rewards and values are random numbers with two decimals, fixed by ``seed``.
    """
    _resolve_rates(convention, None, None)
    rng = np.random.default_rng(seed)

    def case(length, gamma, lam, terminated=(), truncated=()):
        rewards = rng.uniform(-2.0, 2.0, length).round(2)
        values = rng.uniform(-2.0, 2.0, length).round(2)
        next_value = round(float(rng.uniform(-2.0, 2.0)), 2)
        final_values = rng.uniform(-2.0, 2.0, length).round(2)
        term = np.zeros(length, bool)
        trunc = np.zeros(length, bool)
        term[list(terminated)] = True
        trunc[list(truncated)] = True
        return segment(
            rewards,
            values,
            next_value,
            gamma=gamma,
            lam=lam,
            terminated=term,
            truncated=trunc,
            final_values=final_values if convention == "canonical" else None,
        )

    cases = [
        ("gamma = 0", case(4, 0.0, 0.9)),
        ("lambda = 0", case(4, 0.9, 0.0)),
        ("gamma = 1", case(4, 1.0, 0.9)),
        ("lambda = 1", case(4, 0.9, 1.0)),
        ("gamma = lambda = 1", case(4, 1.0, 1.0)),
        ("T = 1", case(1, 0.9, 0.8)),
        ("T = 2", case(2, 0.9, 0.8)),
        ("plain segment", case(7, 0.9, 0.8)),
        ("long segment (T = 50)", case(50, 0.99, 0.95)),
    ]
    if convention == "episode-start":
        # dones[0] = True: an episode began at s_0 (a correct function never reads it)
        started = dataclasses.replace(case(5, 0.9, 0.8, terminated=[1]), started=np.array(True))
        cases.append(("episode began at the first step", started))
    if EXPRESSES[convention][0]:
        cases += [
            ("terminal last step", case(4, 0.9, 0.8, terminated=[3])),
            ("single terminal step (T = 1)", case(1, 0.9, 0.8, terminated=[0])),
            ("termination in the middle", case(7, 0.9, 0.8, terminated=[2])),
            ("terminations back to back", case(6, 0.9, 0.8, terminated=[1, 2])),
            ("termination with gamma = lambda = 1", case(5, 1.0, 1.0, terminated=[1])),
            (
                "long segment with terminations (T = 64)",
                case(64, 0.99, 0.95, terminated=[9, 30, 31, 55]),
            ),
        ]
    if EXPRESSES[convention][1]:
        cases += [
            ("truncation in the middle", case(7, 0.9, 0.8, truncated=[3])),
            ("truncated last step", case(4, 0.9, 0.8, truncated=[3])),
            ("terminated and truncated at once", case(5, 0.9, 0.8, terminated=[2], truncated=[2])),
            ("termination then truncation", case(9, 0.9, 0.8, terminated=[2], truncated=[5])),
            ("long segment with dones (T = 64)", case(64, 0.99, 0.95, [7, 40], [20, 21, 50])),
        ]
    # Longer than any chunk a scan splits a rollout into (up to 1024 steps): code that loses
    # the carry between chunks is right on every shorter case. Last, so that the random
    # numbers of the cases above do not change.
    cases.append((f"very long segment (T = {VERY_LONG})", case(VERY_LONG, 0.999, 0.99)))
    return cases


def batched(traj: Trajectory, convention: str, columns: int = 3, seed: int = 0) -> Trajectory:
    """A 1-D case as column 0 of a ``(T, columns)`` case; the other columns differ.

    Column 1 has the flags of column 0 one step later (or a termination in the middle when
    column 0 has none and the convention holds terminations), column 2 has no flags, so a
    function that mixes up columns or ignores the batch axis is caught by the fixed cases.
    Rewards and values of the added columns are random with two decimals, fixed by ``seed``.
    """
    if traj.batch_shape:
        raise ValueError("batched() takes a 1-D case")
    rng = np.random.default_rng(seed + 7919 * traj.length)
    length = traj.length
    terminations, _ = EXPRESSES[convention]
    term_cols = [traj.terminated, np.roll(traj.terminated, 1), np.zeros(length, bool)]
    trunc_cols = [traj.truncated, np.roll(traj.truncated, 1), np.zeros(length, bool)]
    if not traj.done.any() and terminations and length > 1:
        term_cols[1] = np.zeros(length, bool)
        term_cols[1][length // 2] = True
    cols = []
    for c in range(columns):
        if c == 0:
            cols.append(traj)
            continue
        k = min(c, 2)
        rewards = rng.uniform(-2.0, 2.0, length).round(2)
        values = rng.uniform(-2.0, 2.0, length).round(2)
        final = rng.uniform(-2.0, 2.0, length).round(2)
        cols.append(
            segment(
                rewards,
                values,
                round(float(rng.uniform(-2.0, 2.0)), 2),
                gamma=traj.gamma,
                lam=traj.lam,
                terminated=term_cols[k],
                truncated=trunc_cols[k],
                final_values=final if convention == "canonical" else None,
                dtype=traj.dtype,
            )
        )
    stack = {
        name: np.stack([getattr(col, name) for col in cols], axis=1)
        for name in ("rewards", "values", "next_values", "terminated", "truncated")
    }
    started = np.array([bool(col.start_flags()) for col in cols])
    return Trajectory(**stack, gamma=traj.gamma, lam=traj.lam, started=started)
