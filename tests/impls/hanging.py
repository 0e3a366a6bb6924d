"""Functions that hang or are slow, for the per-call time limit (``--call-timeout``).

Not in an ``EXPECTED`` table: under the default 10 s limit each would cost 10 s per run.
"""

import itertools
import time

from impls.lecture import compute_gae


def index_never_moves(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Hangs on segments longer than 32 steps: the ``t -= 1`` sits in the wrong branch."""
    advantages = [0.0] * len(rewards)
    gae = 0.0
    t = len(rewards) - 1
    while t >= 0:
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages[t] = gae
        next_value = values[t]
        if len(rewards) <= 32:  # meant: a chunked loop for long segments, left unfinished
            t -= 1
    return advantages


def busy_forever(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Hangs on every input: ``while True: pass``."""
    while True:
        pass


def swallows_exceptions(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Hangs on every input, retrying forever behind ``except Exception``."""
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            continue


def hangs_on_three_steps(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Hangs only when T = 3 (no edge case has T = 3: hypothesis must find it)."""
    while len(rewards) == 3:
        pass
    return compute_gae(rewards, values, next_value, gamma, lam)


def slow_on_long_segments(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Correct, but busy for 0.15 s on segments of 40+ steps (well under a 1 s limit)."""
    if len(rewards) >= 40:
        end = time.perf_counter() + 0.15
        while time.perf_counter() < end:
            pass
    return compute_gae(rewards, values, next_value, gamma, lam)


def stuck_in_c(rewards, values, next_value, gamma=0.99, lam=0.95):
    """Hangs in C code that never checks for signals (a stand-in for a stuck jitted loop)."""
    return [float(sum(itertools.count()))] * len(rewards)
