"""Calling conventions: how a :class:`Trajectory` becomes arguments, and a result an array.

| convention  | call                                                                |
| ----------- | ------------------------------------------------------------------- |
| ``lecture`` | ``f(rewards, values, next_value, gamma, lam)``                      |
| ``masked``  | ``f(rewards, values, next_value, masks, gamma, lam)``, ``masks[t] = 0``
|             | when the state after step t is terminal                             |
| ``canonical`` | ``f(rewards, values, next_values, terminated, truncated, *, gamma, lam)``
|             | (the ``numeric.gae`` signature; γ and λ positionally if that binds) |

Each returns the advantages, as a list, a numpy array or a torch tensor. The reference is
``numeric.gae`` (the kernels generated from the proven formulas).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gae_sym.testing.trajectories import CONVENTIONS, Trajectory

INPUT_TYPES = ("list", "numpy", "torch")

SIGNATURES = {
    "lecture": "f(rewards, values, next_value, gamma, lam)",
    "masked": "f(rewards, values, next_value, masks, gamma, lam)",
    "canonical": "f(rewards, values, next_values, terminated, truncated, *, gamma, lam)",
}


def reference_gae(traj: Trajectory) -> np.ndarray:
    """The proven GAE of ``traj`` from the project's kernels (``numeric.gae``)."""
    import numeric

    return np.asarray(numeric.gae(*traj.arrays, gamma=traj.gamma, lam=traj.lam))


def named_inputs(traj: Trajectory, convention: str) -> dict[str, Any]:
    """The inputs of ``traj`` as ``convention`` names them (numpy arrays and floats)."""
    if convention == "lecture":
        if traj.done.any() or traj.batch_shape:
            raise ValueError("the lecture convention takes one 1-D segment without dones")
        return {
            "rewards": traj.rewards,
            "values": traj.values,
            "next_value": traj.next_values[-1].item(),
            "gamma": traj.gamma,
            "lam": traj.lam,
        }
    if convention == "masked":
        if traj.truncated[:-1].any() or traj.batch_shape:
            raise ValueError("the masked convention takes one 1-D segment without truncations")
        return {
            "rewards": traj.rewards,
            "values": traj.values,
            "next_value": traj.next_values[-1].item(),
            "masks": (~traj.terminated).astype(traj.dtype),
            "gamma": traj.gamma,
            "lam": traj.lam,
        }
    if convention == "canonical":
        return {
            "rewards": traj.rewards,
            "values": traj.values,
            "next_values": traj.next_values,
            "terminated": traj.terminated,
            "truncated": traj.truncated,
            "gamma": traj.gamma,
            "lam": traj.lam,
        }
    raise ValueError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")


def jsonable_inputs(traj: Trajectory, convention: str) -> dict[str, Any]:
    """:func:`named_inputs` as plain lists, floats and bools (for reports and JSON)."""
    out: dict[str, Any] = {}
    for name, value in named_inputs(traj, convention).items():
        out[name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def _convert(value: Any, input_type: str, dtype: np.dtype) -> Any:
    if input_type == "numpy":
        return value.copy() if isinstance(value, np.ndarray) else value
    if input_type == "list":
        return value.tolist() if isinstance(value, np.ndarray) else value
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    return torch.tensor(value, dtype=getattr(torch, dtype.name))


@dataclass(frozen=True)
class CallPlan:
    """How to call one function: ``keywords`` names the arguments passed by keyword."""

    convention: str
    input_type: str
    keywords: tuple[str, ...]

    def arguments(self, traj: Trajectory) -> tuple[list[Any], dict[str, Any]]:
        named = named_inputs(traj, self.convention)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for name, value in named.items():
            if name in ("gamma", "lam"):
                converted = value  # always plain floats
            elif name == "next_value" and self.input_type != "torch":
                converted = float(value)
            else:
                converted = _convert(value, self.input_type, traj.dtype)
            if name in self.keywords:
                kwargs[name] = converted
            else:
                args.append(converted)
        return args, kwargs


def plan_call(func: Callable[..., Any], convention: str, input_type: str) -> CallPlan:
    """Check that ``func`` accepts ``convention``'s arguments; raise ``TypeError`` if not.

    ``canonical`` passes γ and λ by keyword (as ``numeric.gae`` needs), or positionally
    when the function takes seven positional parameters.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    if input_type not in INPUT_TYPES:
        raise ValueError(f"unknown input type {input_type!r}; use one of {', '.join(INPUT_TYPES)}")
    if not callable(func):
        raise TypeError(f"{func!r} is not callable")
    names = list(SIGNATURES[convention][2:-1].replace("*, ", "").split(", "))
    candidates = [()]
    if convention == "canonical":
        candidates = [("gamma", "lam"), ()]
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature: try it and see
        return CallPlan(convention, input_type, candidates[0])
    for keywords in candidates:
        positional = [n for n in names if n not in keywords]
        try:
            signature.bind(*positional, **{k: k for k in keywords})
        except TypeError:
            continue
        return CallPlan(convention, input_type, keywords)
    raise TypeError(
        f"{getattr(func, '__name__', func)}{signature} cannot be called as "
        f"{SIGNATURES[convention]} (the {convention} convention)"
    )


def _to_array(result: Any) -> np.ndarray:
    if hasattr(result, "detach") and hasattr(result, "cpu"):  # a torch tensor
        return result.detach().cpu().numpy()
    if isinstance(result, (list, tuple)):
        parts = [_to_array(x) for x in result]
        return np.stack(parts) if parts else np.zeros(0)
    return np.asarray(result)


def result_array(result: Any) -> np.ndarray:
    """The function's result as a float numpy array; ``ValueError`` if it is not numbers."""
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
