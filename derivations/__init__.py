"""The derivations, one module per theorem, in teaching order.

``ALL`` is the tuple of :class:`gae_sym.proof.Derivation` objects; ``get(id)`` returns
one by its id (``KeyError`` for an unknown id). Each derivation has ``id``, ``title``,
``summary``, ``assumptions``, ``verify()``, ``to_latex()`` and ``to_markdown()``.
"""

from __future__ import annotations

from derivations import (
    baseline_unbiased,
    gae_infinite,
    gae_lambda0,
    gae_lambda1,
    gae_recursion,
    gae_scan,
    gae_weighted_average,
    lambda_return,
    llm_terminal_reward,
    nstep_telescoping,
    rloo,
    token_gae_masked,
)
from gae_sym.proof import Derivation

ALL: tuple[Derivation, ...] = (
    nstep_telescoping.DERIVATION,
    gae_weighted_average.DERIVATION,
    gae_infinite.DERIVATION,
    gae_lambda0.DERIVATION,
    gae_lambda1.DERIVATION,
    gae_recursion.DERIVATION,
    lambda_return.DERIVATION,
    gae_scan.DERIVATION,
    # RL on language models (issue 17)
    token_gae_masked.DERIVATION,
    llm_terminal_reward.DERIVATION,
    rloo.DERIVATION,
    baseline_unbiased.DERIVATION,
)

_BY_ID = {derivation.id: derivation for derivation in ALL}


def ids() -> list[str]:
    """The derivation ids in teaching order."""
    return list(_BY_ID)


def get(derivation_id: str) -> Derivation:
    """The derivation with this id; ``KeyError`` (listing the known ids) otherwise."""
    try:
        return _BY_ID[derivation_id]
    except KeyError:
        raise KeyError(
            f"unknown derivation {derivation_id!r}; known: {', '.join(_BY_ID)}"
        ) from None


__all__ = ["ALL", "get", "ids"]
