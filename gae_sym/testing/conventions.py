"""Calling conventions, layouts and outputs: how a :class:`Trajectory` becomes a call.

A *convention* says what the function is given (one table row each, :data:`CONVENTIONS`;
the call below is the positional order used when the parameter names do not match):

| convention      | call                                                                   |
| --------------- | ---------------------------------------------------------------------- |
| ``lecture``     | ``f(rewards, values, next_value, gamma, lam)``                         |
| ``masked``      | ``f(rewards, values, next_value, masks, gamma, lam)``, ``masks[t] = 0``|
|                 | when step t ended the episode (``dones = 1 - masks`` by name)          |
| ``canonical``   | ``f(rewards, values, next_values, terminated, truncated, *, gamma, lam)``|
|                 | (``numeric.gae``; by name also ``done`` and ``bootstrap_values``)      |
| ``episode-start``| ``f(rewards, values, dones, next_value, next_done, gamma, lam)``:     |
|                 | ``dones[t]`` = s_t began an episode (CleanRL, SB3 ``episode_starts``,  |
|                 | baselines, rl_games); ``next_done``/``next_value`` for the step after; |
|                 | by name also ``masks = 1 - dones``, ``next_mask`` (torch-ac)           |
| ``discount``    | ``f(rewards, discounts, lam, values)``: ``discounts[t] = γ(1 −          |
|                 | terminated_t)``, ``values`` has T + 1 entries (rlax)                   |

Parameters are matched **by name** first (``--args`` renames: ``rewards=rew`` says the
function's ``rew`` is the convention's ``rewards``), keyword-only and positional-only
parameters included; a by-name call must pass every input GAE needs (one of the
convention's ``essentials``), otherwise the positional order above is tried.

A *layout* is the shape of the arrays: ``T`` (one segment), ``T,N`` (time-major, N
environments, one done pattern per column), ``T,N,1``, ``N,T`` (batch-major), ``N,T,1``;
per-environment inputs (``next_value``, ``next_done``) have shape ``(N,)`` or ``(N, 1)``.
*Outputs* name what the function returns: ``advantages``, ``returns`` (advantages +
values), or a tuple of them (``advantages,returns``). The reference is ``numeric.gae``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gae_sym.testing.trajectories import CONVENTIONS as _EXPRESSIBLE
from gae_sym.testing.trajectories import Trajectory

INPUT_TYPES = ("list", "numpy", "torch", "jax")
OUTPUTS = ("advantages", "returns")

# Input kinds: STEP arrays have the time axis (T, *batch); STEP1 have T + 1 entries along it;
# ENV arrays have one entry per environment (*batch); SCALAR are plain floats (γ, λ).
STEP, STEP1, ENV, SCALAR = "step", "step+1", "env", "scalar"


def _no_dones_inside(traj: Trajectory, convention: str) -> None:
    if traj.done[:-1].any() or traj.terminated[-1:].any():
        raise ValueError(f"the {convention} convention takes segments without dones")


def _no_truncation_inside(traj: Trajectory, convention: str) -> None:
    if traj.truncated[:-1].any():
        raise ValueError(
            f"the {convention} convention cannot express a truncation inside the segment"
        )


def _lecture(traj: Trajectory) -> dict[str, Any]:
    _no_dones_inside(traj, "lecture")
    return {
        "rewards": traj.rewards,
        "values": traj.values,
        "next_value": traj.next_values[-1],
        "gamma": traj.gamma,
        "lam": traj.lam,
    }


def _masked(traj: Trajectory) -> dict[str, Any]:
    _no_truncation_inside(traj, "masked")
    masks = (~traj.terminated).astype(traj.dtype)
    return {
        "rewards": traj.rewards,
        "values": traj.values,
        "next_value": traj.next_values[-1],
        "masks": masks,
        "gamma": traj.gamma,
        "lam": traj.lam,
        "dones": 1 - masks,
    }


def _canonical(traj: Trajectory) -> dict[str, Any]:
    return {
        "rewards": traj.rewards,
        "values": traj.values,
        "next_values": traj.next_values,
        "terminated": traj.terminated,
        "truncated": traj.truncated,
        "gamma": traj.gamma,
        "lam": traj.lam,
        "done": traj.done,
        # V(s'_t) already zeroed where step t terminated (Tianshou's v_s_, SB3-style folds)
        "bootstrap_values": np.where(traj.terminated, 0, traj.next_values).astype(traj.dtype),
    }


def _episode_start(traj: Trajectory) -> dict[str, Any]:
    _no_truncation_inside(traj, "episode-start")
    ended = traj.terminated.astype(traj.dtype)
    starts = np.concatenate([traj.start_flags()[None].astype(traj.dtype), ended[:-1]], axis=0)
    return {
        "rewards": traj.rewards,
        "values": traj.values,
        "dones": starts,
        "next_value": traj.next_values[-1],
        "next_done": ended[-1],
        "gamma": traj.gamma,
        "lam": traj.lam,
        # torch-ac's names: masks[t] = 1 - dones[t] (s_t continues an episode)
        "masks": 1 - starts,
        "next_mask": 1 - ended[-1],
    }


def _discount(traj: Trajectory) -> dict[str, Any]:
    _no_truncation_inside(traj, "discount")
    dtype = traj.dtype
    return {
        "rewards": traj.rewards,
        "discounts": (dtype.type(traj.gamma) * (~traj.terminated)).astype(dtype),
        "lam": traj.lam,
        "values": np.concatenate([traj.values, traj.next_values[-1:]], axis=0),
    }


@dataclass(frozen=True)
class Convention:
    """One row of the table: the inputs offered, the positional call, what a call needs."""

    name: str
    call: tuple[str, ...]  # positional order (names after ``keyword_only`` by keyword)
    keyword_only: tuple[str, ...]
    build: Callable[[Trajectory], dict[str, Any]]
    kinds: dict[str, str]  # non-STEP inputs
    essentials: tuple[tuple[str, ...], ...]  # a by-name call passes all names of one of these

    @property
    def signature(self) -> str:
        names = [n for n in self.call if n not in self.keyword_only]
        if self.keyword_only:
            names += ["*", *self.keyword_only]
        return f"f({', '.join(names)})"

    def kind(self, name: str) -> str:
        return self.kinds.get(name, STEP)

    def offered(self) -> tuple[str, ...]:
        """Every input name a by-name call may use (the call's first)."""
        extra = {
            "masked": ("dones",),
            "canonical": ("done", "bootstrap_values"),
            "episode-start": ("masks", "next_mask"),
        }.get(self.name, ())
        return (*self.call, *extra)


_COMMON = {"gamma": SCALAR, "lam": SCALAR}
TABLE: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "lecture",
            ("rewards", "values", "next_value", "gamma", "lam"),
            (),
            _lecture,
            {**_COMMON, "next_value": ENV},
            (("rewards", "values", "next_value", "gamma", "lam"),),
        ),
        Convention(
            "masked",
            ("rewards", "values", "next_value", "masks", "gamma", "lam"),
            (),
            _masked,
            {**_COMMON, "next_value": ENV},
            (
                ("rewards", "values", "next_value", "masks", "gamma", "lam"),
                ("rewards", "values", "next_value", "dones", "gamma", "lam"),
            ),
        ),
        Convention(
            "canonical",
            ("rewards", "values", "next_values", "terminated", "truncated", "gamma", "lam"),
            ("gamma", "lam"),
            _canonical,
            dict(_COMMON),
            (
                ("rewards", "values", "next_values", "terminated", "truncated", "gamma", "lam"),
                ("rewards", "values", "next_values", "terminated", "done", "gamma", "lam"),
                ("rewards", "values", "bootstrap_values", "done", "gamma", "lam"),
            ),
        ),
        Convention(
            "episode-start",
            ("rewards", "values", "dones", "next_value", "next_done", "gamma", "lam"),
            (),
            _episode_start,
            {**_COMMON, "next_value": ENV, "next_done": ENV},
            tuple(
                ("rewards", "values", starts, "next_value", after, "gamma", "lam")
                for starts in ("dones", "masks")
                for after in ("next_done", "next_mask")
            ),
        ),
        Convention(
            "discount",
            ("rewards", "discounts", "lam", "values"),
            (),
            _discount,
            {"lam": SCALAR, "values": STEP1},
            (("rewards", "discounts", "lam", "values"),),
        ),
    )
}
assert tuple(TABLE) == _EXPRESSIBLE, "trajectories.EXPRESSES and TABLE must list the same"
SIGNATURES = {name: c.signature for name, c in TABLE.items()}


def convention_for(name: str) -> Convention:
    if name not in TABLE:
        raise ValueError(f"unknown convention {name!r}; use one of {', '.join(TABLE)}")
    return TABLE[name]


@dataclass(frozen=True)
class Layout:
    """The shape of the arrays handed over: time-major or batch-major, a trailing 1 or not."""

    name: str
    batched: bool
    batch_major: bool
    trailing_one: bool

    def to_user(self, array: np.ndarray, kind: str) -> np.ndarray:
        """A time-major ``(T[+1], *batch)`` (or ``batch``) array in this layout."""
        if kind == SCALAR:
            return array
        if self.trailing_one:
            array = array[..., None]
        if self.batch_major and kind in (STEP, STEP1):
            array = np.swapaxes(array, 0, 1)
        return np.array(array, order="C")

    def from_user(self, array: np.ndarray) -> np.ndarray:
        """A STEP array of this layout back in time-major order."""
        if self.batch_major:
            array = np.swapaxes(array, 0, 1)
        if self.trailing_one:
            array = array[..., 0]
        return array

    def user_shape(self, time_major: tuple[int, ...]) -> tuple[int, ...]:
        return self.to_user(np.empty(time_major), STEP).shape

    def user_index(self, index: tuple[int, ...]) -> tuple[int, ...]:
        """A time-major element index as an index of this layout."""
        if self.batch_major:
            index = (index[1], index[0], *index[2:])
        return (*index, 0) if self.trailing_one else index

    @property
    def shape(self) -> str:
        return "(" + ", ".join(self.name.split(",")) + ")"


LAYOUTS = {
    "T": Layout("T", False, False, False),
    "T,N": Layout("T,N", True, False, False),
    "T,N,1": Layout("T,N,1", True, False, True),
    "N,T": Layout("N,T", True, True, False),
    "N,T,1": Layout("N,T,1", True, True, True),
}
LAYOUT_ALIASES = {"time-major": "T,N", "batch-major": "N,T"}


def layout_for(name: str) -> Layout:
    key = LAYOUT_ALIASES.get(name, name.replace(" ", ""))
    if key not in LAYOUTS:
        choices = ", ".join([*LAYOUTS, *LAYOUT_ALIASES])
        raise ValueError(f"unknown layout {name!r}; use one of {choices}")
    return LAYOUTS[key]


def parse_outputs(spec: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"advantages"``, ``"returns"`` or a comma-separated tuple of them."""
    names = tuple(s.strip() for s in spec.split(",")) if isinstance(spec, str) else tuple(spec)
    if not names or any(n not in OUTPUTS for n in names):
        raise ValueError(
            f"unknown output {','.join(names)!r}: name each returned array "
            f"{' or '.join(OUTPUTS)}, comma-separated for a tuple (advantages,returns)"
        )
    return names


def parse_args_mapping(spec: str | dict[str, str] | None, convention: str) -> dict[str, str]:
    """``"rewards=rew,values=vals"`` as ``{"rewards": "rew", ...}``; ``ValueError`` if bad."""
    if spec is None or spec == "":
        return {}
    if isinstance(spec, dict):
        pairs = list(spec.items())
    else:
        pairs = []
        for item in spec.split(","):
            name, sep, param = item.partition("=")
            if not sep:
                raise ValueError(f"--args entries are NAME=PARAM, got {item.strip()!r}")
            pairs.append((name.strip(), param.strip()))
    offered = convention_for(convention).offered()
    mapping: dict[str, str] = {}
    for name, param in pairs:
        if name not in offered:
            raise ValueError(
                f"{name!r} is not an input of the {convention} convention; "
                f"its inputs are {', '.join(offered)}"
            )
        if not param.isidentifier():
            raise ValueError(f"{param!r} is not a parameter name (in {name}={param})")
        if name in mapping:
            raise ValueError(f"{name} is mapped twice")
        mapping[name] = param
    targets = list(mapping.values())
    if len(set(targets)) != len(targets):
        raise ValueError("two inputs are mapped to the same parameter")
    return mapping


def reference_gae(traj: Trajectory) -> np.ndarray:
    """The proven GAE of ``traj`` from the project's kernels (``numeric.gae``)."""
    import numeric

    return np.asarray(numeric.gae(*traj.arrays, gamma=traj.gamma, lam=traj.lam))


def warm_reference(dtype: np.dtype | type = np.float64) -> None:
    """Call the reference kernels once, so that no timed call pays their numba warm-up.

    The first ``numeric`` call of a process loads the compiled kernels (about 0.8 s); a
    hypothesis test of the user's that calls ``numeric.gae`` would otherwise exceed its
    deadline on its first example. :func:`~gae_sym.testing.trajectories.trajectories` calls
    this when it builds a strategy, i.e. before any example runs.
    """
    _warm(np.dtype(dtype).name)


@functools.cache
def _warm(dtype_name: str) -> None:
    import numeric

    dtype = np.dtype(dtype_name)
    for shape in ((2,), (2, 2)):
        zeros, flags = np.zeros(shape, dtype), np.zeros(shape, bool)
        args = (zeros, zeros, zeros, flags, flags)
        numeric.gae(*args, gamma=0.5, lam=0.5)
        numeric.td_error(*args, gamma=0.5)
        numeric.lambda_return(*args, gamma=0.5, lam=0.5)


def reference_outputs(traj: Trajectory, outputs: tuple[str, ...]) -> np.ndarray:
    """What a correct function returns, time-major; stacked on a first axis for a tuple."""
    advantages = reference_gae(traj)
    return outputs_from_advantages(advantages, traj, outputs)


def outputs_from_advantages(
    advantages: np.ndarray, traj: Trajectory, outputs: tuple[str, ...]
) -> np.ndarray:
    parts = [advantages if name == "advantages" else advantages + traj.values for name in outputs]
    return parts[0] if len(parts) == 1 else np.stack(parts)


def named_inputs(traj: Trajectory, convention: str) -> dict[str, Any]:
    """The inputs of ``traj`` as ``convention`` names them (numpy arrays and floats)."""
    inputs = convention_for(convention).build(traj)
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        out[name] = value
    return out


def _convert(value: Any, input_type: str) -> Any:
    if isinstance(value, float) or not isinstance(value, np.ndarray):
        return value
    if input_type == "numpy":
        return value.copy()
    if input_type == "list":
        return value.tolist()
    if input_type == "torch":
        import torch

        return torch.from_numpy(value.copy())
    import jax.numpy as jnp

    return jnp.asarray(value)


@dataclass(frozen=True)
class CallPlan:
    """How to call one function: which inputs go positionally, which by which keyword."""

    convention: str
    input_type: str
    positional: tuple[str, ...]
    keywords: tuple[tuple[str, str], ...] = ()  # (convention input, parameter name)
    layout: str = "T"
    outputs: tuple[str, ...] = ("advantages",)

    @property
    def names(self) -> tuple[tuple[str, str], ...]:
        """(convention input, the name the function knows it by), in call order."""
        return (*((n, n) for n in self.positional), *self.keywords)

    def user_inputs(self, traj: Trajectory) -> list[tuple[str, str, Any]]:
        """(convention input, parameter, numpy value in the user's layout) in call order."""
        conv = convention_for(self.convention)
        layout = layout_for(self.layout)
        built = conv.build(traj)
        out = []
        for name, param in self.names:
            value = built[name]
            kind = conv.kind(name)
            if kind == SCALAR:
                value = float(value)
            else:
                value = layout.to_user(np.asarray(value), kind)
                if value.ndim == 0 and self.input_type in ("list", "numpy"):
                    value = value.item()  # one segment's next_value: a float
            out.append((name, param, value))
        return out

    def arguments(self, traj: Trajectory) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        keyword = dict(self.keywords)
        for name, param, value in self.user_inputs(traj):
            converted = _convert(value, self.input_type)
            if name in keyword:
                kwargs[param] = converted
            else:
                args.append(converted)
        return args, kwargs

    def describe(self) -> str:
        parts = list(self.positional) + [f"{param}={name}" for name, param in self.keywords]
        return f"f({', '.join(parts)})"


def _bind_by_name(
    signature: inspect.Signature, convention: Convention, mapping: dict[str, str]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | str:
    """A by-name plan, or the reason there is none (a message)."""
    # A mapped input goes by its new name only; the mapping wins over a same-named input.
    param_to_input = {n: n for n in convention.offered() if n not in mapping}
    param_to_input.update({param: name for name, param in mapping.items()})
    positional: list[str] = []
    keywords: list[tuple[str, str]] = []
    params = list(signature.parameters.values())
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params)
    known = {p.name for p in params}
    for name, param in mapping.items():
        if param not in known and not accepts_any:
            return f"it has no parameter {param!r} (in --args {name}={param})"
    gap = False
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in param_to_input:
            name = param_to_input[p.name]
            if p.kind is p.POSITIONAL_ONLY:
                if gap:
                    return f"positional-only parameter {p.name!r} follows one it cannot fill"
                positional.append(name)
            else:
                keywords.append((name, p.name))
        elif p.default is p.empty:
            if p.name in ("self", "cls") and p is params[0]:
                # Agent.gae named through the class: the method needs an instance.
                return (
                    f"its first parameter is {p.name!r}: a method named through its class; "
                    "wrap it in a module-level function that makes the object and calls the "
                    "method (or make it a @staticmethod)"
                )
            return (
                f"parameter {p.name!r} is none of the convention's inputs "
                f"({', '.join(convention.offered())}); map it with --args INPUT={p.name}"
            )
        else:
            gap = True
    used = {*positional, *(n for n, _ in keywords)}
    if not any(set(group) <= used for group in convention.essentials):
        missing = min((set(g) - used for g in convention.essentials), key=len)
        return (
            f"it has no parameter for {', '.join(sorted(missing))}; if it has one under "
            "another name, map it with --args INPUT=PARAM"
        )
    return tuple(positional), tuple(keywords)


def plan_call(
    func: Callable[..., Any],
    convention: str,
    input_type: str,
    *,
    args: str | dict[str, str] | None = None,
    layout: str = "T",
    outputs: str | tuple[str, ...] = ("advantages",),
) -> CallPlan:
    """Check that ``func`` accepts ``convention``'s arguments; raise ``TypeError`` if not.

    By name first (``args`` renames inputs to the function's parameter names); otherwise
    positionally in the convention's order (``canonical``: γ and λ by keyword, or
    positionally when the function takes seven positional parameters). ``ValueError`` for
    an unknown convention, input type, layout, output or a bad ``args`` mapping.
    """
    conv = convention_for(convention)
    if input_type not in INPUT_TYPES:
        raise ValueError(f"unknown input type {input_type!r}; use one of {', '.join(INPUT_TYPES)}")
    layout = layout_for(layout).name
    outputs = parse_outputs(outputs)
    mapping = parse_args_mapping(args, convention)
    if not callable(func):
        raise TypeError(f"{func!r} is not callable")
    name = getattr(func, "__name__", repr(func))
    default_keywords = tuple(conv.keyword_only)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature: try it and see
        if mapping:
            keywords = tuple((n, mapping.get(n, n)) for n in conv.call)
            return CallPlan(convention, input_type, (), keywords, layout, outputs)
        positional = tuple(n for n in conv.call if n not in default_keywords)
        keywords = tuple((n, n) for n in default_keywords)
        return CallPlan(convention, input_type, positional, keywords, layout, outputs)
    by_name = _bind_by_name(signature, conv, mapping)
    if not isinstance(by_name, str):
        return CallPlan(convention, input_type, *by_name, layout, outputs)
    if mapping:
        raise TypeError(f"{name}{signature} cannot be called by name: {by_name}")
    candidates = [default_keywords, ()] if default_keywords else [()]
    offered = set(conv.offered())
    positional_reason = "the parameters do not fit it"
    for keywords in candidates:
        positional = tuple(n for n in conv.call if n not in keywords)
        try:
            bound = signature.bind(*positional, **{k: k for k in keywords})
        except TypeError:
            continue
        # A parameter named like one input must not receive another (gamma <- rewards).
        crossed = [
            (param, given)
            for param, given in bound.arguments.items()
            if isinstance(given, str) and param in offered and param != given
        ]
        if crossed:
            param, given = crossed[0]
            positional_reason = f"its parameter {param!r} would get {given}"
            continue
        return CallPlan(
            convention, input_type, positional, tuple((k, k) for k in keywords), layout, outputs
        )
    raise TypeError(
        f"{name}{signature} cannot be called as {conv.signature} (the {convention} "
        f"convention): positionally, {positional_reason}; by name, {by_name}"
    )


def jsonable_inputs(traj: Trajectory, plan: CallPlan | str) -> dict[str, Any]:
    """The inputs the function was given, by its parameter names, as lists and floats."""
    if isinstance(plan, str):  # a convention name: every input it offers, time-major
        values = named_inputs(traj, plan).items()
        return {n: v.tolist() if isinstance(v, np.ndarray) else v for n, v in values}
    out: dict[str, Any] = {}
    for _, param, value in plan.user_inputs(traj):
        out[param] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def _to_array(result: Any) -> np.ndarray:
    if hasattr(result, "detach") and hasattr(result, "cpu"):  # a torch tensor
        return result.detach().cpu().numpy()
    if isinstance(result, (list, tuple)):
        parts = [_to_array(x) for x in result]
        return np.stack(parts) if parts else np.zeros(0)
    return np.asarray(result)


def result_array(result: Any) -> np.ndarray:
    """The function's result as a float numpy array; ``ValueError`` if it is not numbers."""
    if result is None:
        # The usual cause: the advantages were written into a buffer, or `return` forgotten.
        raise ValueError(
            "the function returned None (a missing return, or results written into a buffer "
            "instead of returned: verify-impl compares what the function returns)"
        )
    try:
        array = _to_array(result)
    except Exception as error:
        raise ValueError(
            f"the result ({type(result).__name__}) cannot be read as an array of numbers: {error}"
        ) from error
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"the result holds {array.dtype} values, not numbers")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array
