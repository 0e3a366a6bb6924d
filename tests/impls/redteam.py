"""Implementations written to get past verify-impl: right on the cases it used to draw,
wrong elsewhere, or wrong in ways its comparison of values did not see
(tests/test_redteam_verify_impl.py says what each must get)."""

from __future__ import annotations

import numpy as np

# --- lecture / masked conventions -----------------------------------------------------------


def _lecture_loop(rewards, values, next_value, gamma, lam):
    advantages = np.zeros(len(rewards))
    gae = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages[t] = gae
        next_value = values[t]
    return advantages


def chunked_scan_drops_carry(rewards, values, next_value, gamma, lam):
    """Bug: a chunked scan (64 steps per chunk, as GPU kernels split long rollouts) that
    forgets to carry A and V(s) from one chunk into the one before it: right for T <= 64,
    wrong for longer segments."""
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(rewards))
    chunk = 64
    for start in range(0, len(rewards), chunk):
        stop = min(start + chunk, len(rewards))
        boot = next_value if stop == len(rewards) else values[stop]
        piece = _lecture_loop(rewards[start:stop], values[start:stop], boot, gamma, lam)
        out[start:stop] = piece  # the carry A_{stop} * gamma * lam ... is lost
    return out


def appends_next_value(rewards, values, next_value, gamma, lam):
    """Bug: ``values.append(next_value)`` changes the caller's list (a second call on the
    same buffer gets one value more); the advantages it returns are right."""
    values.append(next_value)
    advantages = [0.0] * len(rewards)
    gae = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] - values[t]
        gae = delta + gamma * lam * gae
        advantages[t] = gae
    return advantages


def in_place_into_rewards(rewards, values, next_value, gamma, lam):
    """Bug: writes the advantages into the caller's rewards array and returns it."""
    gae = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        rewards[t] = gae
        next_value = values[t]
    return rewards


def right_on_contiguous_only(rewards, values, next_value, gamma, lam):
    """Bug: reads its inputs' raw buffers (as a C extension or a ctypes call does), which is
    right for C-contiguous arrays only; a strided view (``buffer[:, 0]``) reads wrong
    numbers."""
    r = np.frombuffer(
        np.asarray(rewards).data if rewards.flags.c_contiguous else rewards.base, dtype=np.float64
    )[: len(rewards)]
    v = np.frombuffer(
        np.asarray(values).data if values.flags.c_contiguous else values.base, dtype=np.float64
    )[: len(values)]
    return _lecture_loop(r, v, next_value, gamma, lam)


def wrong_after_many_calls(rewards, values, next_value, gamma, lam, _calls=[0]):  # noqa: B006
    """Detects the checker by counting calls: right for the first 400, then λ is dropped."""
    _calls[0] += 1
    return _lecture_loop(rewards, values, next_value, gamma, lam if _calls[0] <= 400 else 1.0)


def masked_two_bugs(rewards, values, next_value, masks, gamma, lam):
    """Two catalogued bugs at once: no mask on the carried sum, and the carry decays by λ
    instead of γλ; no single catalogued bug reproduces it."""
    advantages = np.zeros(len(rewards))
    gae = 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value * masks[t] - values[t]
        gae = delta + lam * gae
        advantages[t] = gae
        next_value = values[t]
    return advantages


def lecture_off_by_constant(rewards, values, next_value, gamma, lam):
    """A bug outside the catalogue: every advantage is off by 1e-3 (a stray epsilon)."""
    return _lecture_loop(rewards, values, next_value, gamma, lam) + 1e-3


# --- token and group conventions ------------------------------------------------------------


def _skip_gae(rewards, values, mask, gamma, lam):
    rewards, values, mask = (np.asarray(x, dtype=np.float64) for x in (rewards, values, mask))
    adv = np.zeros_like(rewards)
    next_value = np.zeros(rewards.shape[0])
    carry = np.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        a = delta + gamma * lam * carry
        keep = mask[:, t]
        next_value = keep * values[:, t] + (1 - keep) * next_value
        carry = keep * a + (1 - keep) * carry
        adv[:, t] = a * keep
    return adv


def token_gamma_cached_by_two_decimals(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: caches its discount by ``round(gamma, 2)`` (a key for a table of powers), right
    for γ = 0.5, 0.9, 0.95, 0.99, 1 and wrong for γ = 0.995 or 0.999."""
    return _skip_gae(token_level_rewards, values, response_mask, round(gamma, 2), lam)


def token_chunked_drops_carry(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: a chunked scan over 64 positions that loses the carry between chunks: right for
    L <= 64, wrong for longer sequences."""
    r, v, m = (
        np.asarray(x, dtype=np.float64) for x in (token_level_rewards, values, response_mask)
    )
    out = np.zeros_like(r)
    for start in range(0, r.shape[1], 64):
        out[:, start : start + 64] = _skip_gae(
            r[:, start : start + 64], v[:, start : start + 64], m[:, start : start + 64], gamma, lam
        )
    return out


def token_prints(token_level_rewards, values, response_mask, gamma, lam):
    """Right, and prints a debug line on every call (which must not reach --json's stdout)."""
    print("debug: computing GAE")
    return _skip_gae(token_level_rewards, values, response_mask, gamma, lam)


def token_exits(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: calls sys.exit() on a multi-turn mask (an assert-style guard of a single-turn code
    base)."""
    import sys

    mask = np.asarray(response_mask)
    for row in mask:
        where = np.flatnonzero(row)
        if len(where) and where[-1] - where[0] + 1 != len(where):
            sys.exit(0)
    return _skip_gae(token_level_rewards, values, response_mask, gamma, lam)


def token_flaky(token_level_rewards, values, response_mask, gamma, lam, _calls=[0]):  # noqa: B006
    """Bug: nondeterministic, every third call drops λ."""
    _calls[0] += 1
    lam = 1.0 if _calls[0] % 3 == 0 else lam
    return _skip_gae(token_level_rewards, values, response_mask, gamma, lam)


def token_mutates_mask(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: zeroes the caller's response mask in place after reading it."""
    out = _skip_gae(token_level_rewards, values, response_mask, gamma, lam)
    response_mask[...] = 0
    return out


def token_large_batch_wrong(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: processes the rows in micro-batches of 4 and drops the rest: right for B <= 4."""
    out = _skip_gae(token_level_rewards, values, response_mask, gamma, lam)
    out[4:] = 0.0
    return out


def token_two_paths(token_level_rewards, values, response_mask, gamma, lam):
    """Returns (advantages, returns) from two code paths: the returns right, the advantages
    without the value passed through masked tokens; no catalogued mistake gives both."""
    r, v, m = (
        np.asarray(x, dtype=np.float64) for x in (token_level_rewards, values, response_mask)
    )
    adv = np.zeros_like(r)
    next_value = np.zeros(r.shape[0])
    carry = np.zeros(r.shape[0])
    for t in reversed(range(r.shape[1])):
        delta = r[:, t] + gamma * next_value - v[:, t]
        a = delta + gamma * lam * carry
        next_value = v[:, t]
        carry = m[:, t] * a + (1 - m[:, t]) * carry
        adv[:, t] = a
    return adv, _skip_gae(r, v, m, gamma, lam) + v


def group_large_groups_wrong(scores, group_ids):
    """Bug: GRPO whose group statistics use at most the first 6 members of each group."""
    scores, group_ids = np.asarray(scores, dtype=np.float64), np.asarray(group_ids)
    out = np.zeros_like(scores)
    for g in np.unique(group_ids):
        where = np.flatnonzero(group_ids == g)
        if len(where) == 1:
            out[where] = scores[where]
            continue
        head = scores[where[:6]]
        out[where] = (scores[where] - head.mean()) / (head.std(ddof=1) + 1e-6)
    return out


def token_hangs(token_level_rewards, values, response_mask, gamma, lam):
    """Bug: a while loop whose index never moves past a masked token."""
    mask = np.asarray(response_mask)
    t = mask.shape[1] - 1
    while t >= 0:
        if mask[0, t] == 0:
            continue  # skips the t -= 1 below
        t -= 1
    return _skip_gae(token_level_rewards, values, response_mask, gamma, lam)


def token_flaky_after_edges(token_level_rewards, values, response_mask, gamma, lam, _calls=[0]):  # noqa: B006
    """Bug: nondeterministic, right on the 8 edge cases, then wrong one call in three."""
    _calls[0] += 1
    if _calls[0] > 8 and _calls[0] % 3 == 0:
        lam = 1.0 if lam != 1.0 else 0.5
    return _skip_gae(token_level_rewards, values, response_mask, gamma, lam)


def time_major_value_not_passed(rewards, values, mask, gamma, lam):
    """Written for the (L, B) layout; the value is not passed through masked tokens."""
    r, v, m = (np.asarray(x, dtype=np.float64).T for x in (rewards, values, mask))
    adv = np.zeros_like(r)
    next_value = np.zeros(r.shape[0])
    carry = np.zeros(r.shape[0])
    for t in reversed(range(r.shape[1])):
        a = r[:, t] + gamma * next_value - v[:, t] + gamma * lam * carry
        next_value = v[:, t]
        carry = m[:, t] * a + (1 - m[:, t]) * carry
        adv[:, t] = a
    return adv.T


def masked_first_four_envs(rewards, values, next_value, masks, gamma, lam):
    """Bug: (T, N) arrays handled in micro-batches of 4 environments, and the columns after
    the first micro-batch left at 0: right for N <= 4."""
    rewards, values, masks = (np.asarray(x, dtype=np.float64) for x in (rewards, values, masks))
    next_value = np.asarray(next_value, dtype=np.float64)
    out = np.zeros_like(rewards)
    gae = np.zeros(rewards.shape[1])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value * masks[t] - values[t]
        gae = delta + gamma * lam * masks[t] * gae
        out[t, :4] = gae[:4]
        next_value = values[t]
    return out


def jax_python_loop(rewards, values, next_value, gamma, lam):
    """Correct JAX code written as a Python loop: jax.jit unrolls it, so compiling the
    1100-step case took many minutes and the call timed out; it must pass."""
    import jax.numpy as jnp

    advantages = []
    gae = 0.0
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.append(gae)
        next_value = values[t]
    return jnp.stack(advantages[::-1])


def lecture_flaky(rewards, values, next_value, gamma, lam, _calls=[0]):  # noqa: B006
    """Bug: nondeterministic, right on the edge cases, then λ dropped one call in three."""
    _calls[0] += 1
    if _calls[0] > 30 and _calls[0] % 3 == 0:
        lam = 1.0 if lam != 1.0 else 0.5
    return _lecture_loop(rewards, values, next_value, gamma, lam)


_calls = {"n": 0}


def ctrl_c_inside_a_gc_callback(rewards, values, next_value, gamma, lam):
    """Right, but on its 5th call Ctrl-C arrives while a gc callback runs (as when the user
    presses it during hypothesis's gc timing): Python prints 'Exception ignored' and drops
    the KeyboardInterrupt, so a checker without a sticky interrupt went on to PASS."""
    import gc
    import os
    import signal

    _calls["n"] += 1
    if _calls["n"] == 5:

        def callback(phase, info):
            if phase == "start":
                os.kill(os.getpid(), signal.SIGINT)

        gc.callbacks.append(callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(callback)
    return _lecture_loop(rewards, values, next_value, gamma, lam)


def returns_none(rewards, values, next_value, gamma, lam):
    """Forgot the return (the advantages were meant to go into a buffer)."""
    _lecture_loop(rewards, values, next_value, gamma, lam)


class Agent:
    """A GAE method, named through its class (Agent.gae) on the command line."""

    def gae(self, rewards, values, next_value, gamma, lam):
        return _lecture_loop(rewards, values, next_value, gamma, lam)
