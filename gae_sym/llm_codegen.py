"""Generate the LLM-era kernels of ``numeric/llm/kernels/`` from :mod:`gae_sym.llm_estimators`.

The kernels are templates (``gae_sym/kernel_templates/llm_*.py.tmpl``: the loop over token
positions, the group reductions by group id, the singleton-group convention, allocation)
whose every arithmetic expression is a ``$placeholder`` printed here by SymPy's NumPy, PyTorch
and JAX printers from a definition of :mod:`gae_sym.llm_estimators`:

* ``token_gae_step``: A_t = r_t + γ V_next − V_t + γλ A_next (the compacted-response recursion);
* ``skip_carry``: V_next ← m_t V_t + (1 − m_t) V_next and A_next ← m_t A_t + (1 − m_t) A_next
  (theorem ``token-gae-masked``: a masked token passes both carries through);
* ``on_response``: m_t x (advantages and returns are 0 on masked tokens; a per-response
  advantage broadcast over its tokens);
* ``token_return``: G_t = A_t + V_t, before any whitening;
* ``return_to_go_step``: G_t = r_t + γ G_next (REINFORCE++), with ``skip_carry`` (``"skip"``)
  or ``reset_carry`` (``"reset"``: G_next ← m_t G_t, verl);
* ``group_mean``, ``sample_variance``, ``group_std``: r̄ = Σ r / K, Σ (r − r̄)² / (K − 1 or K),
  each Σ replaced by the reduction the template computes (a segment sum by group id, or a
  sum over the response tokens);
* ``grpo_advantage``, ``drgrpo_advantage``, ``rloo_advantage_mean_form`` (theorem ``rloo``:
  equal to the leave-one-out form, which :func:`check_llm_pieces` also checks on instances);
* ``whitened``: (x − mean)/sqrt(var + ε).

:func:`generate_llm_modules` returns the files' text; ``gae-sym codegen`` writes or checks
them with the GAE kernels (``gae_sym.codegen``). Importing this module imports SymPy only.
"""

from __future__ import annotations

import re
from string import Template

from sympy import Expr, IndexedBase, Integer, Sum, Symbol, expand, simplify
from sympy.printing.numpy import JaxPrinter, NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.pytorch import TorchPrinter

from gae_sym import kernelgen
from gae_sym.codeprinters import _TIGHT_PRODUCT
from gae_sym.llm_estimators import (
    K,
    drgrpo_advantage,
    group_mean,
    group_std,
    grpo_advantage,
    i,
    mask,
    next_advantage,
    next_return,
    next_value,
    on_response,
    reset_carry,
    return_to_go_step,
    rloo_advantage,
    rloo_advantage_mean_form,
    sample_variance,
    skip_carry,
    token_gae_step,
    token_return,
    whitened,
)
from gae_sym.symbols import V, gamma, j, lam, r, t

LLM_FILES = (
    "llm/kernels/__init__.py",
    "llm/kernels/numpy_llm.py",
    "llm/kernels/torch_llm.py",
    "llm/kernels/jax_llm.py",
)
"""The LLM kernel files ``gae-sym codegen`` writes, relative to the ``numeric`` package."""

BACKENDS = {"numpy": "numpy_llm", "torch": "torch_llm", "jax": "jax_llm"}
"""Backend name → generated module of ``numeric.llm.kernels``."""

# --- printers ---------------------------------------------------------------------------

_TIGHT_DIVISION = re.compile(r"(?<=[^\s/])/(?=[^\s/])")
_TIGHT_POWER = re.compile(r"(?<=[\)\]])\*\*")


def _tidy(text: str) -> str:
    """ruff format's spacing: ``a * b``, ``a / b``, ``(a - b) ** 2`` (``x**2`` stays)."""
    text = _TIGHT_PRODUCT.sub(" * ", text)
    text = _TIGHT_DIVISION.sub(" / ", text)
    return _TIGHT_POWER.sub(" ** ", text)


class _Named:
    """Prints each symbol and IndexedBase of a definition as a name of the template.

    ``names`` maps a Symbol to its variable name and an IndexedBase to a format string with
    one ``{}`` for the index (``"rewards[:, {}]"``) or none (a per-step row, ``"r_t"``).
    Anything unnamed is refused, so a definition that grows a new symbol cannot print as a
    silently free variable.
    """

    def __init__(self, names: dict, settings: dict | None = None):
        super().__init__({"fully_qualified_modules": True, "strict": True, **(settings or {})})
        self.names = names

    def _print_Symbol(self, expr: Symbol) -> str:
        if expr not in self.names:
            raise ValueError(f"symbol {expr} has no name in this kernel")
        return self.names[expr]

    def _print_Indexed(self, expr) -> str:
        if expr.base not in self.names:
            raise ValueError(f"sequence {expr.base} has no name in this kernel")
        (index,) = expr.indices
        form = self.names[expr.base]
        if "{}" not in form:
            return form  # a row or a whole array: the index is the template's loop
        if index != t:
            raise ValueError(f"{expr}: the kernels index token arrays by t only")
        return form.format("t")

    def doprint(self, expr, assign_to=None):
        # One expression, spaced the way ruff format writes it.
        return _tidy(super().doprint(expr, assign_to))


class NumpyLlmPrinter(_Named, NumPyPrinter):
    """NumPy spelling (``numpy.sqrt``)."""


class TorchLlmPrinter(_Named, TorchPrinter):
    """PyTorch spelling (``torch.sqrt``, ``torch.pow``)."""

    _print_IndexedBase = PythonCodePrinter._print_IndexedBase


class JaxLlmPrinter(_Named, JaxPrinter):
    """JAX spelling (``jax.numpy.sqrt``)."""


PRINTERS = {"numpy": NumpyLlmPrinter, "torch": TorchLlmPrinter, "jax": JaxLlmPrinter}

# --- the symbolic pieces ----------------------------------------------------------------

_total, _size, _mean, _squares = (Symbol(n) for n in ("total", "size", "mean", "squares"))
_centre, _spread, _eps, _variance = (Symbol(n) for n in ("centre", "spread", "eps", "var"))
_advantage, _running = Symbol("advantage"), Symbol("g")
_values_sum = Sum(r[j], (j, 0, K - 1))


def _reduced(expr: Expr, mean: Symbol = _mean) -> Expr:
    """Each Σ_j of a group definition replaced by the reduction the template computes:
    Σ r_j → K · mean, then Σ (r_j − mean)² → squares, K → size. Refuses a Σ left over."""
    expr = expr.subs(_values_sum, K * mean)
    expr = expr.subs(Sum((r[j] - mean) ** 2, (j, 0, K - 1)), _squares).subs(K, _size)
    if expr.has(Sum):
        raise ValueError(f"a sum the kernels cannot reduce is left in {expr}")
    return expr


def group_mean_piece() -> Expr:
    """r̄ = total / size (group_mean with its Σ the segment sum ``total``)."""
    return group_mean().subs(_values_sum, _total).subs(K, _size)


def deviation_piece() -> Expr:
    """(r_j − r̄)²: the summand of sample_variance, r̄ the per-sample mean."""
    (outer,) = [s for s in sample_variance().atoms(Sum) if s.function.has(Sum)]
    return outer.function.subs(_values_sum, K * _mean)


def check_llm_pieces() -> None:
    """The pieces fit the definitions they stand for; refuse to print kernels otherwise.

    * token_gae_step at V = 0, λ = 1 is return_to_go_step (REINFORCE++ is λ = 1 GAE, V = 0);
    * skip_carry passes the carry at m = 0 and takes the own value at m = 1; reset_carry
      gives 0 at m = 0 (theorem token-gae-masked's two cases; verl's reset);
    * the RLOO mean form equals the leave-one-out form for K = 2 … 5 (theorem rloo);
    * the reduced group definitions mention no Σ and the deviation is (r_j − r̄)².
    """
    a, x = Symbol("a"), Symbol("x")
    gae_at_one = token_gae_step(t, Integer(0), next_return).subs({V[t]: 0, lam: 1})
    if expand(gae_at_one - return_to_go_step(t, next_return)) != 0:
        raise ValueError("token_gae_step at V = 0, lambda = 1 is not return_to_go_step")
    if skip_carry(t, a, x).subs(mask[t], 0) != x or skip_carry(t, a, x).subs(mask[t], 1) != a:
        raise ValueError("skip_carry does not pass the carry through a masked token")
    if reset_carry(t, a).subs(mask[t], 0) != 0 or reset_carry(t, a).subs(mask[t], 1) != a:
        raise ValueError("reset_carry does not reset the carry at a masked token")
    for size in range(2, 6):
        for member in range(size):
            loo = rloo_advantage(Integer(member), Integer(size)).doit()
            mean_form = rloo_advantage_mean_form(Integer(member), Integer(size)).doit()
            if simplify(loo - mean_form) != 0:
                raise ValueError(f"the RLOO mean form is not leave-one-out at K = {size}")
    if deviation_piece() != (r[j] - _mean) ** 2:
        raise ValueError(f"sample_variance's summand is not (r_j - mean)^2: {deviation_piece()}")


def _pieces() -> dict[str, Expr]:
    """Every expression the templates print, as SymPy expressions of the template's names."""
    check_llm_pieces()
    step = token_gae_step(t, next_value, next_advantage)
    return {
        # token GAE, one position t of the backward scan
        "gae_step": step,
        "value_carry": skip_carry(t, V[t], next_value),
        "advantage_carry": skip_carry(t, _advantage, next_advantage),
        "keep_advantage": on_response(t, _advantage),
        "returns": on_response(t, token_return(IndexedBase("A")[t], t)),
        # REINFORCE++
        "rtg_step": return_to_go_step(t, next_return),
        "rtg_skip_carry": skip_carry(t, _running, next_return),
        "rtg_reset_carry": reset_carry(t, _running),
        "keep_return": on_response(t, _running),
        # reductions
        "mean": group_mean_piece(),
        "deviation": deviation_piece(),
        "masked_value": on_response(t, r[t]),
        "masked_deviation": on_response(t, deviation_piece()),
        "variance_unbiased": _reduced(sample_variance(unbiased=True)),
        "variance_biased": _reduced(sample_variance(unbiased=False)),
        "std_unbiased": _reduced(group_std(unbiased=True)),
        "std_biased": _reduced(group_std(unbiased=False)),
        # group estimators (centre/spread: the template's singleton convention applied)
        "grpo": _reduced(
            grpo_advantage(i, K, True, _eps).subs(group_std(K, True), _spread), _centre
        ),
        "drgrpo": _reduced(drgrpo_advantage(i, K), _centre),
        "rloo": _reduced(rloo_advantage_mean_form(i, K)),
        "whitened": on_response(t, whitened(r[t], _mean, _variance, _eps)),
        "broadcast": on_response(t, IndexedBase("a")[t]),
    }


# --- names per backend ------------------------------------------------------------------

_COMMON = {
    gamma: "gamma",
    lam: "lam",
    next_value: "v_next",
    next_advantage: "a_next",
    next_return: "g_next",
    _advantage: "advantage",
    _running: "g",
    _total: "total",
    _size: "size",
    _mean: "mean",
    _squares: "squares",
    _centre: "centre",
    _spread: "spread",
    _eps: "eps",
    _variance: "var",
}

_COLUMNS = {r: "rewards[:, {}]", V: "values[:, {}]", mask: "mask[:, {}]"}
"""numpy/torch token loops: column t of a (B, L) array."""
_ROWS = {r: "r_t", V: "v_t", mask: "m_t"}
"""JAX's lax.scan body: the rows of position t."""
_WHOLE = {IndexedBase("A"): "advantages", V: "values", mask: "mask"}
"""Whole-array statements over (B, L)."""


def _names(piece: str, backend: str) -> dict:
    token = _ROWS if backend == "jax" else _COLUMNS
    by_piece = {
        "returns": _WHOLE,
        "mean": {},
        "deviation": {r: "scores"},
        "masked_value": {r: "x", mask: "mask"},
        "masked_deviation": {r: "x", mask: "mask"},
        "grpo": {r: "scores"},
        "drgrpo": {r: "scores"},
        "rloo": {r: "scores"},
        "whitened": {r: "x", mask: "mask"},
        "broadcast": {IndexedBase("a"): "advantages[:, None]", mask: "mask"},
    }
    return {**_COMMON, **by_piece.get(piece, token)}


def expressions(backend: str) -> dict[str, str]:
    """The placeholders of ``llm_<backend>.py.tmpl``, printed by that backend's printer."""
    printer_class = PRINTERS[backend]
    printed = {}
    imports: set[str] = set()
    for piece, expr in _pieces().items():
        names = _names(piece, backend)
        printer = printer_class(names)
        printed[piece] = printer.doprint(expr)
        imports |= set(printer.module_imports)
    printed["imports"] = ", ".join(sorted(imports))
    return printed


# --- modules ----------------------------------------------------------------------------

_PACKAGE = '''\
# Generated by `gae-sym codegen` from gae_sym/llm_estimators.py. Do not edit: change the
# definitions, gae_sym/llm_codegen.py or its templates and run `gae-sym codegen` again
# (`gae-sym codegen --check` fails when this file is stale).
"""The generated LLM-era kernels, one module per backend; every file here is written by
`gae-sym codegen` (gae_sym/llm_codegen.py, templates gae_sym/kernel_templates/llm_*.py.tmpl).

Importing this package imports no backend: each module imports only its own array library.
The public functions that validate input and pick a kernel are in ``numeric.llm.estimators``.
"""
'''


def generate_llm_modules() -> dict[str, str]:
    """The text of each generated LLM file, keyed by its path relative to ``numeric/``."""
    files = {"llm/kernels/__init__.py": _PACKAGE}
    for backend, module in BACKENDS.items():
        text = (kernelgen.TEMPLATES / f"llm_{backend}.py.tmpl").read_text(encoding="utf-8")
        files[f"llm/kernels/{module}.py"] = Template(text).substitute(expressions(backend))
    return files


__all__ = [
    "BACKENDS",
    "LLM_FILES",
    "PRINTERS",
    "check_llm_pieces",
    "deviation_piece",
    "expressions",
    "generate_llm_modules",
    "group_mean_piece",
]
