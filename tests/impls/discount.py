"""The discount convention (rlax): ``f(rewards, discounts, lam, values)`` with
``discounts[t] = γ(1 − terminated_t)`` and ``values`` of T + 1 entries."""

import numpy as np


def correct(rewards, discounts, lam, values):
    values = np.asarray(values)
    deltas = rewards + discounts * values[1:] - values[:-1]
    advantages = np.zeros_like(deltas)
    acc = np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        acc = deltas[t] + discounts[t] * lam * acc
        advantages[t] = acc
    return advantages


def carry_without_discount(rewards, discounts, lam, values):
    """Bug: the carry decays by λ alone (the discount is forgotten there)."""
    values = np.asarray(values)
    deltas = rewards + discounts * values[1:] - values[:-1]
    advantages = np.zeros_like(deltas)
    acc = np.zeros_like(deltas[0])
    for t in reversed(range(len(deltas))):
        acc = deltas[t] + lam * acc
        advantages[t] = acc
    return advantages


EXPECTED = {"correct": None, "carry_without_discount": ""}
