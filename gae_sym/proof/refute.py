"""The second line of defence: every accepted step is evaluated on random instances.

Instances never prove anything; they catch a kernel that lies. After the kernel accepts
a chain, each line is evaluated numerically at a few instances drawn inside the declared
domain: small integers for n, N, t; parameters (γ, λ, …) from a grid filtered by the
facts in force; random sequences r, V, V', flags; δ computed from its definition (the
segment form where ``delta-segment`` is in force, else the flagged one) and A from the
backward recursion where ``A-recursion`` is. Infinite series are truncated after
``TERMS`` terms: the kernel admitted them only with a geometric weight below one, and the
grid keeps those weights at most 0.6, so the tail is below 0.6^TERMS · poly — far under
the tolerance. A disagreement is an *internal error*: the kernel accepted a false step.

Evaluation is vectorised: the index of a sum at nesting depth d runs along axis d, with
Karr's sign for reversed ranges, so a double series costs one array of TERMS² entries.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np
from sympy import (
    Add,
    Dummy,
    Expr,
    Indexed,
    Integer,
    Limit,
    Mul,
    Number,
    Pow,
    Product,
    Rational,
    S,
    Sum,
    Symbol,
    oo,
)

from gae_sym.proof.facts import Facts
from gae_sym.proof.kernel import domain_problem, outer_limit

if TYPE_CHECKING:
    from gae_sym.proof.core import Context, Proof

TERMS = 90
"""Terms kept of an infinite series (and the M used for lim_{M→∞})."""
INSTANCES = 3
COMPARED = [0]
"""How many pairs of consecutive lines were evaluated and compared (tests read it: a
refutation that silently evaluates nothing would catch nothing)."""
_DEPTH = 5
_GRID = (0.0, 0.25, 0.5, 0.6, 1.0)
_TOLERANCE = 1e-7


class _Skip(Exception):
    """This instance cannot be evaluated (a symbol without a value, an undefined entry)."""


# An instance that cannot be evaluated is skipped: the refutation never stops a proof.
_UNEVALUABLE = (_Skip, ValueError, TypeError, IndexError, OverflowError, FloatingPointError)


def first_disagreement(proof: Proof, ctx: Context) -> tuple[int, str] | None:
    """(step number, why) for the first accepted step that is false at an instance."""
    lines = [proof.statement.lhs] + [s.expr for s in proof.steps] + [proof.statement.rhs]
    # The parameters the statement fixes take random values too on the lines before the
    # step that substitutes them.
    given = [
        S(v) for step in proof.steps for v in (getattr(step.rule, "values", None) or {}).values()
    ]
    bounds = [b for _, lo, hi, _ in ctx.facts.values for b in (lo, hi)]
    symbols = _free_symbols(lines + given + list(proof.statement.at.values()) + bounds)
    rng = np.random.default_rng(20161)
    found = 0
    for _ in range(INSTANCES):
        env = _instance(symbols, ctx, rng)
        if env is None:
            continue
        found += 1
        tables_cache: dict = {}
        values = {}
        current = dict(env)
        envs = []
        for number in range(len(lines)):
            if 1 <= number <= len(proof.steps):
                step = proof.steps[number - 1]
                values_given = getattr(step.rule, "values", None)
                if step.rule.name == "substitute" and values_given:
                    try:
                        given = {
                            k: float(_ev(S(v), current, {}, 0)) for k, v in values_given.items()
                        }
                    except (_Skip, TypeError, ValueError):
                        return None  # a symbolic value: these instances cannot follow it
                    current = {**current, **given}
            envs.append(dict(current))
        envs[-1] = envs[-2] if len(envs) > 1 else envs[-1]
        for number in range(1, len(lines)):
            step_env = envs[number]
            try:
                before = _value(lines[number - 1], step_env, ctx, rng, tables_cache, values)
                after = _value(lines[number], step_env, ctx, rng, tables_cache, values)
            except _UNEVALUABLE:
                continue
            if not np.isfinite(before) or not np.isfinite(after):
                continue
            COMPARED[0] += 1
            if abs(before - after) > _TOLERANCE * (1 + abs(before) + abs(after)):
                rule = (
                    proof.steps[number - 1].rule.name
                    if number <= len(proof.steps)
                    else "(last line = right side)"
                )
                shown = ", ".join(
                    f"{k} = {_show_number(v)}" for k, v in sorted(step_env.items(), key=str)
                )
                return number, (
                    f"internal error: rule {rule} accepted a step that is false at {shown} "
                    f"(random sequences, seed 20161): previous line = {before:.6g}, this line "
                    f"= {after:.6g}: engine bug"
                )
    if symbols and not found:
        # Facts no sampled instance meets may contradict each other, and from contradictory
        # facts everything follows: such a proof is not accepted.
        return len(lines) - 1, (
            "no instance satisfies the facts in force (tried 3 x 60 draws): they may "
            "contradict each other, and nothing proved under contradictory facts counts"
        )
    return None


def counterexample(
    left: Expr, right: Expr, ctx: Context, tries: int = 6, seed: int = 7
) -> dict | None:
    """An instance where ``left`` and ``right`` differ numerically, else None.

    Returns ``{"values": {name: value}, "sequences": {label: {index: value}}, "left": float,
    "right": float}``: the free symbols' values and the sequence entries the two sides
    read (δ from its definition in force). None never means "equal": only that no tried
    instance told them apart.
    """
    free = S(left).free_symbols | S(right).free_symbols
    for _, lo, hi, _ in ctx.facts.values:
        free |= S(lo).free_symbols | S(hi).free_symbols
    symbols = {s for s in free if isinstance(s, Symbol)}
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        env = _instance(symbols, ctx, rng)
        if env is None:
            return None
        cache: dict = {}
        values: dict = {}
        try:
            a = _value(left, env, ctx, rng, cache, values)
            b = _value(right, env, ctx, rng, cache, values)
        except _UNEVALUABLE:
            continue
        if np.isfinite(a) and np.isfinite(b) and abs(a - b) > _TOLERANCE * (1 + abs(a) + abs(b)):
            tables = _tables(env, ctx, rng, cache)
            read = {}
            for element in S(left).atoms(Indexed) | S(right).atoms(Indexed):
                try:
                    index = round(float(_ev(element.indices[0], env, tables, 0)))
                except (_Skip, TypeError, ValueError):
                    continue  # an element indexed by a bound variable
                label = str(element.base.label)
                read.setdefault(label, {})[index] = float(tables[_table_key(element.base)](index))
            return {
                "values": {str(k): v for k, v in sorted(env.items(), key=str)},
                "sequences": read,
                "left": a,
                "right": b,
            }
    return None


def _free_symbols(lines) -> set:
    """The symbols an instance must give values: those standing outside sequence labels
    (a symbol m beside a sequence m_t needs a value of its own)."""
    free = set()
    for line in lines:
        line = S(line)
        elements = line.atoms(Indexed)
        stand_ins = {e: Dummy() for e in elements}
        free |= line.xreplace(stand_ins).free_symbols - set(stand_ins.values())
        for element in elements:
            free |= S(element.indices[0]).free_symbols & line.free_symbols
    return {s for s in free if isinstance(s, Symbol)}


def _show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _instance(symbols: set, ctx: Context, rng) -> dict | None:
    """Values for the free symbols inside the declared domain and the facts in force."""
    for _ in range(60):
        env = {}
        for symbol in sorted(symbols, key=str):
            known = ctx.facts.interval(symbol)
            if symbol.is_integer:
                if symbol.is_positive:
                    value = float(rng.integers(1, 9))
                elif symbol.is_nonnegative:
                    value = float(rng.integers(0, 8))
                elif symbol.is_negative:
                    value = float(rng.integers(-8, 0))
                else:
                    value = float(rng.integers(-6, 7))
                # a fact about the symbol itself moves the draw into its interval
                if known.lo != -oo and value < float(known.lo):
                    value = float(np.ceil(float(known.lo))) + float(rng.integers(0, 8))
                elif known.hi != oo and value > float(known.hi):
                    value = float(np.floor(float(known.hi))) - float(rng.integers(0, 8))
                env[symbol] = value
            else:
                low = 0.0 if symbol.is_nonnegative else -1.0
                grid = [g for g in _GRID if g >= low and _inside(g, known)]
                if not grid and known.lo != -oo and known.hi != oo:
                    grid = [float((known.lo + known.hi) / 2)]
                env[symbol] = float(rng.choice(grid or [g for g in _GRID if g >= low]))
        if _satisfies(env, ctx) and all(
            domain_problem(symbol, _exact(symbol, value), Facts()) is None
            for symbol, value in env.items()
        ):
            return env
    return None


def _inside(value: float, interval) -> bool:
    lo, hi = float(interval.lo), float(interval.hi)
    if value < lo or value > hi:
        return False
    return not ((interval.lo_open and value == lo) or (interval.hi_open and value == hi))


def _exact(symbol: Symbol, value: float):
    return Integer(round(value)) if symbol.is_integer else Rational(str(value))


def _satisfies(env: dict, ctx: Context) -> bool:
    for key, interval in ctx.facts.ranges:
        try:
            value = float(S(key).xreplace({k: S(v) for k, v in env.items()}))
        except (TypeError, ValueError):
            continue
        lo, hi = float(interval.lo), float(interval.hi)
        if value < lo or value > hi:
            return False
        if (interval.lo_open and value == lo) or (interval.hi_open and value == hi):
            return False
    return True


def _value(line: Expr, env: dict, ctx: Context, rng, cache: dict, values: dict) -> float:
    key = (id(line), tuple(sorted((str(k), v) for k, v in env.items())))
    if key not in values:
        tables = _tables(env, ctx, rng, cache)
        result = np.asarray(_ev(S(line), env, tables, 0), dtype=float)
        if result.size != 1:
            raise _Skip
        values[key] = float(result.reshape(-1)[0])
    return values[key]


def _table_key(base) -> str:
    """The project's sequences by label; anyone else's IndexedBase("delta") is another
    sequence, with values of its own."""
    from gae_sym.symbols import PROJECT_SEQUENCES

    label = str(base.label)
    project = PROJECT_SEQUENCES.get(label)
    if project is not None and base != project:
        return f"{label}#{sorted(base.assumptions0.items())}"
    return label


def _noise(label: str, salt: int):
    """A fixed pseudo-random sequence in [−1, 1) over every integer index (bounded, as every
    bounded-sequence fact asks): a hash of (label, index), vectorised."""
    shift = zlib.crc32(f"{salt}:{label}".encode()) % 10007

    def values(index):
        x = np.sin(np.asarray(index, dtype=float) * 12.9898 + shift * 78.233) * 43758.5453
        return 2.0 * (x - np.floor(x)) - 1.0

    return values


def _flags(label: str, salt: int):
    noise = _noise(label, salt)
    return lambda index: (noise(index) < -0.4).astype(float)  # 1 with probability 0.3


class _Sequences(dict):
    """label → values(index): r, V, V', flags random; δ and A from their definitions in
    force; any other sequence random and bounded, created when first read."""

    def __init__(self, salt: int):
        super().__init__()
        self.salt = salt

    def __missing__(self, label: str):
        self[label] = _noise(label, self.salt)
        return self[label]


def _tables(env: dict, ctx: Context, rng, cache: dict) -> dict:
    from gae_sym.symbols import (
        A,
        N,
        U,
        V,
        V_next,
        W,
        delta,
        done,
        gamma,
        lam,
        r,
        t,
        terminated,
    )

    key = tuple(sorted((str(k), v) for k, v in env.items()))
    if key in cache:
        return cache[key]
    salt = cache.setdefault("salt", int(rng.integers(0, 2**31)))
    tables = _Sequences(salt)
    g = env.get(gamma, 0.5)
    rewards, values = _noise("r", salt), _noise("V", salt)
    flags, terminal = _flags("d", salt), _flags("term", salt)
    following = _noise("V'", salt)
    if "delta-segment" in ctx.facts.definitions:
        terminal = lambda index: np.zeros(np.shape(index))  # noqa: E731
        following = lambda index: values(np.asarray(index) + 1)  # noqa: E731
    tables[str(r.label)], tables[str(V.label)] = rewards, values
    # Values facts first, so that δ, A, W and U are computed from the sequences they fix.
    for base, lo, hi, value in ctx.facts.values:
        key_ = _table_key(base)
        low, high = float(_ev(lo, env, {}, 0)), float(_ev(hi, env, {}, 0))
        tables[key_] = _with_values(tables[key_], low, high, float(value))
    rewards, values = tables[str(r.label)], tables[str(V.label)]
    if "delta-segment" in ctx.facts.definitions:
        following = lambda index: values(np.asarray(index) + 1)  # noqa: E731
    tables[str(V_next.label)], tables[str(done.label)] = following, flags
    tables[str(terminated.label)] = terminal
    tables[str(delta.label)] = lambda index: (
        rewards(index) + g * (1 - terminal(index)) * following(index) - values(index)
    )
    if "skip-scan" in ctx.facts.definitions and t in env and N in env:
        tables[str(W.label)], tables[str(U.label)] = _skip_scan(
            tables, int(env[t]), int(env[N]), g * env.get(lam, 0.5), g
        )
    if "A-recursion" in ctx.facts.definitions and t in env and N in env:
        start, length = int(env[t]), int(env[N])
        gl = g * env.get(lam, 0.5)
        solution = {start + length: 0.0}
        for i in range(start + length - 1, start - 1, -1):
            step = tables[str(delta.label)](i) + gl * (1 - flags(i)) * solution[i + 1]
            solution[i] = float(step)
        known = np.array(sorted(solution))
        table = np.array([solution[i] for i in known])

        def recursion(index, known=known, table=table):
            index = np.asarray(index)
            position = np.clip(index - known[0], 0, len(known) - 1).astype(int)
            inside = (index >= known[0]) & (index <= known[-1])
            return np.where(inside, table[position], np.nan)

        tables[str(A.label)] = recursion
    cache[key] = tables
    return tables


def _with_values(table, low: float, high: float, value: float):
    """``table`` with the value a fact gives it on low..high (a mask's gap of zeros)."""

    def values(index):
        index = np.asarray(index, dtype=float)
        return np.where((index >= low) & (index <= high), value, table(index))

    return values


def _on_positions(solution: dict):
    """A sequence known at the integer positions of ``solution`` (nan elsewhere)."""
    known = np.array(sorted(solution))
    table = np.array([solution[i] for i in known])

    def values(index):
        index = np.asarray(index)
        position = np.clip(index - known[0], 0, len(known) - 1).astype(int)
        inside = (index >= known[0]) & (index <= known[-1])
        return np.where(inside, table[position], np.nan)

    return values


def _skip_scan(tables: dict, start: int, length: int, gl: float, g: float):
    """W and U of the skip-masked backward scan over start..start+length−1 (0 after it)."""
    from gae_sym.symbols import V, mask, r

    m, rewards, values = tables[_table_key(mask)], tables[str(r.label)], tables[str(V.label)]
    end = start + length
    carried, advantage = {end: 0.0}, {end: 0.0}
    for i in range(end - 1, start - 1, -1):
        mi = float(m(i))
        step = float(rewards(i)) + g * carried[i + 1] - float(values(i))
        advantage[i] = mi * step + (1 - mi + gl * mi) * advantage[i + 1]
        carried[i] = mi * float(values(i)) + (1 - mi) * carried[i + 1]
    return _on_positions(carried), _on_positions(advantage)


def _axis(values: np.ndarray, depth: int) -> np.ndarray:
    shape = [1] * _DEPTH
    shape[depth] = len(values)
    return values.reshape(shape)


def _ev(expr: Expr, env: dict, tables: dict, depth: int):
    if isinstance(expr, Number):
        return float(expr)
    if isinstance(expr, Symbol):
        if expr not in env:
            raise _Skip
        return env[expr]
    if isinstance(expr, Add):
        return sum(_ev(a, env, tables, depth) for a in expr.args)
    if isinstance(expr, Mul):
        result = 1.0
        for a in expr.args:
            result = result * _ev(a, env, tables, depth)
        return result
    if isinstance(expr, Pow):
        base = np.asarray(_ev(expr.base, env, tables, depth), dtype=float)
        exp = np.asarray(_ev(expr.exp, env, tables, depth), dtype=float)
        with np.errstate(all="ignore"):
            return np.power(base, exp)
    if isinstance(expr, Indexed):
        index = np.rint(np.asarray(_ev(expr.indices[0], env, tables, depth), dtype=float))
        return tables[_table_key(expr.base)](index)
    if isinstance(expr, (Sum, Product)):
        return _range(expr, env, tables, depth)
    if isinstance(expr, Limit):
        body, var = expr.args[0], expr.args[1]
        return _ev(body, {**env, var: float(TERMS)}, tables, depth)
    raise _Skip


def _range(node, env: dict, tables: dict, depth: int):
    if depth >= _DEPTH:
        raise _Skip
    var, lower, upper, function = outer_limit(node)
    if lower == -oo:
        raise _Skip
    a = np.rint(np.asarray(_ev(lower, env, tables, depth), dtype=float))
    b = a + TERMS - 1 if upper == oo else np.rint(np.asarray(_ev(upper, env, tables, depth)))
    if a.size == 0 or b.size == 0:  # inside an empty outer range: nothing to add
        shape = np.broadcast(a, b).shape
        return np.zeros(shape) if isinstance(node, Sum) else np.ones(shape)
    first, last = int(np.min(np.minimum(a, b + 1))), int(np.max(np.maximum(b, a - 1)))
    if last - first > 200_000:
        raise _Skip
    xs = _axis(np.arange(first, last + 1, dtype=float), depth)
    outer = max([np.size(v) for v in env.values()] + [1])
    if outer * xs.size > 4_000_000:  # a nested range too large to evaluate here
        raise _Skip
    # Karr: +1 on a..b, −1 on b+1..a−1 (a reversed range), 0 elsewhere.
    weight = ((xs >= a) & (xs <= b)).astype(float) - ((xs > b) & (xs < a)).astype(float)
    body = np.asarray(_ev(function, {**env, var: xs}, tables, depth + 1), dtype=float)
    body, weight = np.broadcast_arrays(body, weight)
    if isinstance(node, Sum):
        return np.sum(np.where(weight != 0, body * weight, 0.0), axis=depth, keepdims=True)
    up = np.prod(np.where(weight > 0, body, 1.0), axis=depth, keepdims=True)
    down = np.prod(np.where(weight < 0, body, 1.0), axis=depth, keepdims=True)
    with np.errstate(all="ignore"):
        return up / down


__all__ = ["INSTANCES", "TERMS", "counterexample", "first_disagreement"]
