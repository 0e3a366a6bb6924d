"""The arithmetic of the loop kernels (numba, JAX, the torch chunked scan), printed by SymPy.

The numba, JAX and chunked-torch kernels are loops, chunking and threading written as
templates (``gae_sym/kernel_templates/*.py.tmpl``); every arithmetic expression in them is a
``$placeholder`` filled here by printing a SymPy definition of :mod:`gae_sym.estimators`:

* ``td_error_flagged``: δ_t = r_t + γ (1 − term_t) V(s'_t) − V(s_t);
* ``gae_recursion``: A_t = δ_t + γλ (1 − d_t) A_{t+1} (theorem ``gae-recursion``);
* ``scan_coefficient``: c_t = γλ (1 − d_t), the carry coefficient (so gae_recursion is
  δ_t + c_t A_{t+1}, which :func:`check_scan_pieces` verifies before anything is printed);
* ``scan_combine``: (a₁, c₁) ∘ (a₂, c₂) = (a₁ + c₁ a₂, c₁ c₂), the affine maps composed
  (theorem ``gae-scan``): one step of a chunk from a zero carry, its link product, and the
  ``jax.lax.associative_scan`` operator;
* ``scan_join``: A_t = S_t + P_t A_k, a chunk's zero-carry values joined with the true carry.

A factor (1 − f) of a 0/1 flag f is printed as a select, ``(zero if f else x)`` (numba) or
``jnp.where(f, 0, x)`` (JAX), which is the same number for f ∈ {0, 1} and keeps the
arithmetic in the array's dtype (numba would promote an int-times-float32 to float64).
:func:`select_flags` does that rewrite: e ↦ Select(f, e|_{f=1}, e|_{f=0}), exact because e
is affine in f.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from sympy import Expr, Function, Indexed, IndexedBase, Integer, Mul, Symbol, expand
from sympy.printing.pycode import PythonCodePrinter

from gae_sym.codeprinters import _TIGHT_PRODUCT
from gae_sym.estimators import (
    gae_recursion,
    scan_coefficient,
    scan_combine,
    scan_join,
    td_error_flagged,
)
from gae_sym.symbols import A, V, V_next, delta, done, gamma, lam, r, terminated

TEMPLATES = Path(__file__).resolve().parent / "kernel_templates"


class Select(Function):
    """``if_true`` where the 0/1 flag is set, else ``if_false`` (numba: ``x if f else y``)."""

    nargs = 3


def select_flags(expr: Expr) -> Expr:
    """Each product holding a flag factor (1 − f) becomes Select(f, product|f=1, product|f=0).

    Exact for f ∈ {0, 1} since a product is affine in a flag that appears once in it.
    """

    def has_flag(e: Expr) -> bool:
        return any(x.base in (terminated, done) for x in e.atoms(Indexed))

    def rewrite(e: Expr) -> Expr:
        flags = [x for x in e.atoms(Indexed) if x.base in (terminated, done)]
        if len(flags) != 1:
            raise ValueError(f"expected one flag in the product {e}, found {flags}")
        (flag,) = flags
        on, off = expand(e.subs(flag, 1)), expand(e.subs(flag, 0))
        if expand(off + flag * (on - off) - e) != 0:
            raise ValueError(f"{e} is not affine in {flag}")
        return Select(flag, on, off)

    def walk(e: Expr) -> Expr:  # top-down: a product is rewritten whole, never its factors
        if isinstance(e, Mul) and has_flag(e):
            return rewrite(e)
        if not e.args or isinstance(e, Indexed):
            return e
        return e.func(*(walk(a) for a in e.args))

    return walk(expr)


class LoopPrinter(PythonCodePrinter):
    """Prints expressions of the trajectory symbols as the variables of one kernel loop.

    ``arrays`` maps each IndexedBase (r, V, V', term, d, A, δ) to its array name in the
    template; ``column`` (e.g. ``"b"``) is appended to every index of a 2-D array;
    ``scalars`` renames symbols (γ → ``gamma``); ``select`` is ``"numba"`` or ``"jax"``.
    ``d`` (done) is printed as ``(term | trunc)`` from the two flag arrays.
    """

    def __init__(self, arrays, column=None, scalars=None, select="numba", module="jnp"):
        super().__init__({"strict": False})
        self.arrays = arrays
        self.column = column
        self.scalars = scalars or {}
        self.select = select
        self.module = module

    def _print_Symbol(self, expr):
        if expr in self.scalars:
            return self.scalars[expr]
        return super()._print_Symbol(expr)

    def _index(self, expr: Indexed) -> str:
        (index,) = expr.indices
        printed = self._print(index)
        if self.column is None or expr.base in self.arrays.get("flat", ()):
            return printed
        return f"{printed}, {self.column}"

    def _print_Indexed(self, expr: Indexed) -> str:
        if expr.base == done and done not in self.arrays:
            term, trunc = self.arrays["done"]
            if not self.arrays.get("index", True):
                return f"({term} | {trunc})"
            return f"({term}[{self._index(expr)}] | {trunc}[{self._index(expr)}])"
        name = self.arrays[expr.base]
        if not self.arrays.get("index", True):
            return name
        return f"{name}[{self._index(expr)}]"

    def _print_Select(self, expr: Select) -> str:
        flag, on, off = expr.args
        if self.select == "jax":
            zero = "0.0" if on == 0 else self._print(on)
            return f"{self.module}.where({self._print(flag)}, {zero}, {self._print(off)})"
        zero = "zero" if on == 0 else self._print(on)
        return f"({zero} if {self._print(flag)} else {self._print(off)})"

    def _print_Mul(self, expr: Expr) -> str:
        return _TIGHT_PRODUCT.sub(" * ", super()._print_Mul(expr))

    def _print_Integer(self, expr: Integer) -> str:
        # Literals would promote float32 arithmetic in numba; the kernels have none.
        if self.select == "numba" and expr not in (Integer(1), Integer(-1)):
            raise ValueError(f"integer literal {expr} in a numba kernel expression")
        return super()._print_Integer(expr)


# --- the checked pieces -------------------------------------------------------------------


def check_scan_pieces() -> None:
    """gae_recursion = δ_t + c_t A_{t+1} with c_t = scan_coefficient, and scan_combine/scan_join
    are the affine step: refuse to print kernels from pieces that do not fit together."""
    t = Symbol("t", integer=True)
    step = gae_recursion(t)
    coefficient = scan_coefficient(t)
    if expand(step - (delta[t] + coefficient * A[t + 1])) != 0:
        raise ValueError(f"gae_recursion {step} is not delta_t + scan_coefficient * A_(t+1)")
    a, c, x = Symbol("a"), Symbol("c"), Symbol("x")
    composed, _ = scan_combine((a, c), (x, Integer(0)))
    if expand(composed - step.subs({delta[t]: a, A[t + 1]: x}).subs(coefficient, c)) != 0:
        raise ValueError("scan_combine's first component is not the step of gae_recursion")
    if expand(scan_join(a, c, x) - (a + c * x)) != 0:
        raise ValueError("scan_join is not S + P * carry")


# --- printing one template --------------------------------------------------------------

_gamma, _lam = Symbol("gamma"), Symbol("lam")


def _at(time: Expr) -> dict[str, Expr]:
    """The definitions at a time index ``time`` (a symbol of the template's loop)."""
    return {"delta": td_error_flagged(time), "coefficient": scan_coefficient(time)}


def _decay_hoisted(expr: Expr, decay: Symbol) -> Expr:
    """γλ → the hoisted scalar ``decay`` (γλ is computed once per call, in the array dtype)."""
    return expr.subs(gamma * lam, decay)


def numba_expressions() -> dict[str, str]:
    """The placeholders of ``numba_kernels.py.tmpl``."""
    check_scan_pieces()
    t, last, b = Symbol("t", integer=True), Symbol("last", integer=True), "b"
    i = Symbol("i", integer=True)
    decay = Symbol("decay")
    arrays2 = {r: "r", V: "v", V_next: "nv", terminated: "term", "done": ("term", "trunc")}
    scalars = {gamma: "gamma", lam: "lam", decay: "decay"}

    def p2(expr: Expr, column: str | None = b, extra: dict | None = None) -> str:
        printer = LoopPrinter({**arrays2, **(extra or {})}, column=column, scalars=scalars)
        return printer.doprint(select_flags(_decay_hoisted(expr, decay)))

    link, acc, share, carry = Symbol("link"), Symbol("acc"), Symbol("share"), Symbol("carry")
    d = Symbol("d")  # δ_t, computed first into a local (one rounding order for every kernel)
    out = IndexedBase("out")
    out_next = {A: "out"}
    exprs: dict[str, str] = {}
    # Hoisted scalar: c_t where no episode ends (d_t = 0), i.e. γλ.
    exprs["decay"] = LoopPrinter({}, scalars={gamma: "gamma", lam: "lam"}).doprint(
        scan_coefficient(t).subs(done[t], 0)
    )
    # Column loop (2-D): A_{T-1} = δ_{T-1}; A_t = δ_t + c_t A_{t+1}, with A read from out.
    # V'_t is read into the local nv_t before the select: read inside it, the load is
    # conditional, LLVM vectorizes it as a masked load, and out of cache the loop ran 1.6-1.9x
    # slower than with the load made unconditionally (10^5 x 64 and 10^6 x 64, both dtypes).
    nv_t = Symbol("nv_t")
    exprs["delta_last_2d"] = p2(td_error_flagged(last).subs(V_next[last], nv_t))
    exprs["delta_2d"] = p2(td_error_flagged(t).subs(V_next[t], nv_t))
    # A_{t+1} too is read into a local (a_next) before the select, for the same reason.
    a_next = Symbol("a_next")
    exprs["a_next_2d"] = p2(A[t + 1], extra=out_next)
    exprs["gae_step_2d"] = p2(gae_recursion(t).subs({delta[t]: d, A[t + 1]: a_next}))
    # 1-D scan pieces.
    exprs["delta_1d"] = p2(td_error_flagged(t).subs(V_next[t], nv_t), column=None)
    exprs["coefficient_1d"] = p2(scan_coefficient(t), column=None)
    for chain in range(4):
        ti = Symbol(f"t{chain}", integer=True) + i
        a_k, p_k, c_k = Symbol(f"a{chain}"), Symbol(f"p{chain}"), Symbol(f"c{chain}")
        exprs[f"c{chain}"] = p2(scan_coefficient(ti), column=None)
        # (a, p) ← (δ_t, c_t) ∘ (a, p): the chunk from a zero carry and its link product.
        step_a, step_p = scan_combine((out[ti], c_k), (a_k, p_k))
        printer = LoopPrinter({out: "out"}, scalars=scalars)
        exprs[f"a{chain}_step"] = printer.doprint(step_a)
        exprs[f"p{chain}_step"] = printer.doprint(step_p)
    # Fix-up: A_t = z_t + P_t a_k, P_t a_k carried as share_t = c_t share_{t+1}.
    _, share_step = scan_combine((Integer(0), link), (Integer(0), share))
    exprs["share_step"] = LoopPrinter({}, scalars=scalars).doprint(share_step)
    exprs["link_1d"] = exprs["coefficient_1d"]
    exprs["fixup"] = LoopPrinter({out: "out"}).doprint(scan_join(out[t], Integer(1), share))
    exprs["scan_tail_step"] = p2(gae_recursion(t).subs({delta[t]: d, A[t + 1]: acc}), column=None)
    s, pk = IndexedBase("s"), IndexedBase("p")
    kk = Symbol("k", integer=True)
    exprs["carry_step"] = LoopPrinter({s: "s", pk: "p"}).doprint(scan_join(s[kk], pk[kk], carry))
    # n-step (2-D, columns inner): λ = 1 in the recursion and its coefficient; acc and weight
    # are 1-D over the columns.
    u = Symbol("u", integer=True)
    acc_b, weight_b, bb = IndexedBase("acc"), IndexedBase("weight"), Symbol("b")
    out_b = IndexedBase("out")
    nstep_arrays = {
        **arrays2,
        acc_b: "acc",
        weight_b: "weight",
        out_b: "out",
        "flat": (acc_b, weight_b),
    }

    def pn(expr: Expr) -> str:
        printer = LoopPrinter(nstep_arrays, column="b", scalars=scalars)
        return printer.doprint(select_flags(expr.subs(lam, 1)))

    exprs["nstep_delta_u"] = pn(td_error_flagged(u))
    exprs["nstep_delta_t"] = pn(td_error_flagged(t))
    # The window's prefix sum P and its weight W: (P, W) ← (P, W) ∘ (δ_u, c_u) read forwards.
    prefix_acc, prefix_weight = scan_combine((acc_b[bb], weight_b[bb]), (d, scan_coefficient(u)))
    exprs["nstep_prefix_acc"] = pn(prefix_acc)
    exprs["nstep_prefix_weight"] = pn(prefix_weight)
    exprs["nstep_link"] = pn(scan_coefficient(t))
    # Backwards in the block: S_t = δ_t + c_t S_{t+1}, R_t = c_t R_{t+1}, A_t = S_t + R_t P.
    suffix, reach = scan_combine((d, link), (acc_b[bb], weight_b[bb]))
    exprs["nstep_suffix"] = pn(suffix)
    exprs["nstep_reach"] = pn(reach)
    exprs["nstep_join"] = pn(scan_join(acc_b[bb], weight_b[bb], out_b[t]))
    return {key: _bare(text) for key, text in exprs.items()}


def _bare(text: str) -> str:
    """Drop the parentheses around a whole conditional expression (ruff format's layout)."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and position < len(text) - 1:
            return text  # the first parenthesis closes before the end: not one group
    return text[1:-1]


def jax_expressions() -> dict[str, str]:
    """The placeholders of ``jax_kernels.py.tmpl``: whole arrays, selects by ``jnp.where``."""
    check_scan_pieces()
    t = Symbol("t", integer=True)
    names = {
        r: "rewards",
        V: "values",
        V_next: "next_values",
        terminated: "terminated",
        "done": ("terminated", "truncated"),
        "index": False,
    }
    printer = LoopPrinter(names, scalars={gamma: "gamma", lam: "lam"}, select="jax")

    def p(expr: Expr) -> str:
        return printer.doprint(select_flags(expr))

    a1, c1, a2, c2 = (Symbol(name) for name in ("a1", "c1", "a2", "c2"))
    combine_a, combine_c = scan_combine((a1, c1), (a2, c2))
    d, link, carry = Symbol("d"), Symbol("link"), Symbol("carry")
    acc, weight = Symbol("acc"), Symbol("weight")
    # The window's running sum read forwards: (sum, weight) o (delta_(t+l), c_(t+l)).
    window_acc, window_weight = scan_combine((acc, weight), (d, link))
    # The chunked scan: backwards inside chunks (delta_t, c_t) o (z, P), then the joins.
    chunk_acc, chunk_weight = scan_combine((d, link), (acc, weight))
    start_value, start_reach = Symbol("start_value"), Symbol("start_reach")
    zero_carry, reach, carries = Symbol("zero_carry"), Symbol("reach"), Symbol("carries")
    return {
        "delta": p(td_error_flagged(t)),
        "coefficient": p(scan_coefficient(t)),
        "combine_a": printer.doprint(combine_a),
        "combine_c": printer.doprint(combine_c),
        "step": printer.doprint(
            gae_recursion(t).subs({delta[t]: d, A[t + 1]: carry}).subs(scan_coefficient(t), link)
        ),
        "window_acc": printer.doprint(window_acc),
        "window_weight": printer.doprint(window_weight),
        "chunk_acc": printer.doprint(chunk_acc),
        "chunk_weight": printer.doprint(chunk_weight),
        "carry_join": printer.doprint(scan_join(start_value, start_reach, carry)),
        "join": printer.doprint(scan_join(zero_carry, reach, carries)),
    }


def torch_chunked_expressions() -> dict[str, str]:
    """The placeholders of ``torch_chunked_kernels.py.tmpl``: float masks, whole tensors."""
    check_scan_pieces()
    t = Symbol("t", integer=True)
    names = {
        r: "rewards",
        V: "values",
        V_next: "next_values",
        terminated: "terminated_f",
        done: "done_f",
        "index": False,
    }
    printer = LoopPrinter(names, scalars={gamma: "gamma", lam: "lam"}, select="torch")
    d, link, acc, weight = (Symbol(name) for name in ("d", "link", "acc", "weight"))
    combine_a, combine_c = scan_combine((d, link), (acc, weight))
    zero_carry, reach, carries, carry = (
        Symbol(name) for name in ("zero_carry", "reach", "carries", "carry")
    )
    start_value, start_reach = Symbol("zero_carry[k, 0]"), Symbol("reach[k, 0]")
    return {
        "delta": printer.doprint(td_error_flagged(t)),
        "coefficient": printer.doprint(scan_coefficient(t)),
        "combine_a": printer.doprint(combine_a),
        "combine_c": printer.doprint(combine_c),
        "carry_join": printer.doprint(scan_join(start_value, start_reach, carry)),
        "join": printer.doprint(scan_join(zero_carry, reach, carries)),
    }


def render(template_name: str, expressions: dict[str, str]) -> str:
    """``gae_sym/kernel_templates/NAME.tmpl`` with its ``$placeholders`` filled."""
    text = (TEMPLATES / template_name).read_text(encoding="utf-8")
    return Template(text).substitute(expressions)


__all__ = [
    "LoopPrinter",
    "Select",
    "check_scan_pieces",
    "jax_expressions",
    "numba_expressions",
    "render",
    "select_flags",
    "torch_chunked_expressions",
]
