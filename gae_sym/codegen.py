"""Generate the numeric kernels of ``numeric/`` from the symbolic definitions.

The kernels are ``sympy.codegen.ast`` trees whose arithmetic comes from
:mod:`gae_sym.estimators` by substitution, never typed by hand:

* δ_t = r_t + γ (1 − term_t) V(s'_t) − V(s_t) is :func:`~gae_sym.estimators.td_error_flagged`
  with each sequence element replaced by the whole array (one vectorised statement);
* the backward update A_t = δ_t + γλ (1 − d_t) A_{t+1} is
  :func:`~gae_sym.estimators.gae_recursion` (theorem ``gae-recursion``: it equals the
  closed form :func:`~gae_sym.estimators.gae_closed_form_flagged`), split into its input
  δ_t and its decay factor γλ (1 − d_t), which is hoisted out of the loop as an array;
* the n-step window Σ_{l<n} γ^l [no done before l] δ_{t+l} uses the same recursion at λ = 1
  inside blocks of n steps (a suffix sum S_t and its reach R_t = Π decay) plus the
  forward prefix sum P of the next block: A^(n)_t = S_t + R_t P_{t+n−1}. That is O(T) and
  adds only non-negative weights (no cancellation, float32-safe).

Each kernel works on validated 2-D arrays ``(T, B)`` and writes into ``out``, one loop
over T with whole-row operations over the batch. :func:`generate_modules` returns the
text of every file of ``numeric/kernels/``: these two (``numpy_kernels.py``,
``torch_kernels.py``), and the loop kernels of :mod:`gae_sym.kernelgen` (numba, JAX, the
chunked torch scan: templates whose expressions SymPy prints); ``gae-sym codegen`` writes
or checks them all. Importing this module loads SymPy's torch
printer, which imports torch when it is installed (the command line imports it lazily).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sympy import Expr, IndexedBase, Min, Or, Symbol
from sympy.codegen.ast import Assignment, CodeBlock, For, FunctionDefinition, Variable, none
from sympy.sets.fancysets import Range

from gae_sym import kernelgen
from gae_sym.codeprinters import (
    Docstring,
    FloatMask,
    NumpyKernelPrinter,
    OnesLike,
    PaddedZeros,
    RowCount,
    TorchKernelPrinter,
    WholeArray,
    ZerosLike,
)
from gae_sym.estimators import gae_recursion, td_error_flagged
from gae_sym.llm_codegen import LLM_FILES, generate_llm_modules
from gae_sym.symbols import A, V, V_next, delta, done, gamma, lam, r, t, terminated

GENERATED_FILES = (
    "kernels/__init__.py",
    "kernels/numpy_kernels.py",
    "kernels/torch_kernels.py",
    "kernels/numba_kernels.py",
    "kernels/jax_kernels.py",
    "kernels/torch_chunked_kernels.py",
    *LLM_FILES,  # numeric/llm/kernels/: the LLM-era estimators (gae_sym.llm_codegen)
)
"""The files ``gae-sym codegen`` writes, relative to the ``numeric`` package."""

# --- the names of the generated code ----------------------------------------------------

_T = Symbol("T", integer=True, nonnegative=True)
_n = Symbol("n", integer=True, positive=True)
_step = Symbol("t", integer=True)
_start = Symbol("start", integer=True, nonnegative=True)
_gamma = Symbol("gamma")
_lam = Symbol("lam")  # ``lambda`` is a Python keyword

_rewards, _values, _next_values = Symbol("rewards"), Symbol("values"), Symbol("next_values")
_terminated, _truncated = Symbol("terminated"), Symbol("truncated")
_out, _delta_arr = Symbol("out"), Symbol("delta")
_terminated_f, _done_f, _decay = Symbol("terminated_f"), Symbol("done_f"), Symbol("decay")
_carry, _weight, _suffix, _reach = (
    Symbol("carry"),
    Symbol("weight"),
    Symbol("suffix"),
    Symbol("reach"),
)


def _rows(name: str) -> IndexedBase:
    # A shape makes sympy.codegen's Assignment accept an Indexed left-hand side.
    return IndexedBase(name, shape=(_T,))


_out_rows, _delta_rows, _decay_rows, _prefix_rows = (
    _rows("out"),
    _rows("delta"),
    _rows("decay"),
    _rows("prefix"),
)
_out_row0 = _out_rows[0]

_PARAMETER_RENAMES = {gamma: _gamma, lam: _lam}


# --- the symbolic pieces ------------------------------------------------------------------


def td_error_arrays() -> Expr:
    """δ over whole arrays: td_error_flagged with r[t], V[t], V'[t], term[t] → the arrays."""
    return td_error_flagged(t).subs(
        {
            r[t]: _rewards,
            V[t]: _values,
            V_next[t]: _next_values,
            terminated[t]: _terminated_f,
            **_PARAMETER_RENAMES,
        }
    )


def recursion_parts(lam_value: Expr | None = None) -> tuple[Expr, Expr]:
    """Split gae_recursion (at λ = ``lam_value`` if given) into (input δ_t, decay factor).

    A_t = input + decay · A_{t+1}; the split is checked, so a recursion that is not
    linear in A_{t+1} raises instead of generating a wrong kernel.
    """
    recursion = gae_recursion(t)
    if lam_value is not None:
        recursion = recursion.subs(lam, lam_value)
    decay = recursion.coeff(A[t + 1])
    step_input = (recursion - decay * A[t + 1]).expand()
    if step_input.has(A) or decay.has(A) or step_input != delta[t]:
        raise ValueError(f"gae_recursion is not of the form δ_t + c·A_(t+1): {recursion}")
    return step_input, decay


def _decay_array(decay: Expr) -> Expr:
    """The decay factor over whole arrays: d[t] → the float done mask."""
    return decay.subs({done[t]: _done_f, **_PARAMETER_RENAMES})


def _masks() -> list[Assignment]:
    return [
        Assignment(_T, RowCount(_rewards)),
        Assignment(_terminated_f, FloatMask(_terminated, _out)),
        Assignment(_done_f, FloatMask(Or(_terminated, _truncated), _out)),
    ]


def _parameters(*names: str) -> list[Variable]:
    return [Variable(Symbol(name)) for name in names]


_ARRAYS = ("rewards", "values", "next_values", "terminated", "truncated")


# --- the kernels ----------------------------------------------------------------------------


def td_kernel() -> FunctionDefinition:
    """out = δ = r + γ (1 − term) V(s') − V(s): one vectorised statement, no loop."""
    doc = (
        "TD errors delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t), into out (T, B).\n"
        "\n"
        "From gae_sym.estimators.td_error_flagged.\n"
    )
    body = [
        Docstring(doc),
        Assignment(_terminated_f, FloatMask(_terminated, _out)),
        Assignment(WholeArray("out"), td_error_arrays()),
    ]
    return FunctionDefinition(
        none, "td_kernel", _parameters(*_ARRAYS[:4], "gamma", "out"), CodeBlock(*body)
    )


def gae_kernel() -> FunctionDefinition:
    """out[t] = δ_t + γλ (1 − d_t) out[t+1], backwards from out[T−1] = δ_{T−1}."""
    step_input, decay = recursion_parts()
    update = step_input.subs(delta[t], _out_rows[_step]) + _decay_rows[_step] * _out_rows[_step + 1]
    doc = (
        "GAE advantages A_t = delta_t + gamma lam (1 - done_t) A_(t+1), A_T = 0, into out (T, B).\n"
        "\n"
        "From gae_sym.estimators.gae_recursion (theorem gae-recursion: equal to the closed\n"
        "form sum_l (gamma lam)^l [no done in t..t+l-1] delta_(t+l)). Schulman et al. (2016).\n"
    )
    body = [
        Docstring(doc),
        *_masks(),
        Assignment(WholeArray("out"), td_error_arrays()),
        Assignment(_decay, _decay_array(decay)),
        For(_step, Range(_T - 2, -1, -1), CodeBlock(Assignment(_out_rows[_step], update))),
    ]
    return FunctionDefinition(
        none, "gae_kernel", _parameters(*_ARRAYS, "gamma", "lam", "out"), CodeBlock(*body)
    )


def nstep_kernel() -> FunctionDefinition:
    """A^(n)_t = S_t + R_t P_{t+n−1} over blocks of n steps (see the module docstring)."""
    step_input, decay = recursion_parts(lam_value=1)
    suffix_update = step_input.subs(delta[t], _delta_rows[_step]) + _decay_rows[_step] * _suffix
    block_stop = Min(_T, _start + _n)
    # The forward prefix stops one row short of a full block: row start + n - 1 is read
    # only by t = start, whose window is its own block, so it must stay zero.
    prefix_loop = For(
        _step,
        Range(_start, Min(_T, _start + _n - 1)),
        CodeBlock(
            Assignment(_carry, _carry + _weight * _delta_rows[_step]),
            Assignment(_prefix_rows[_step], _carry),
            Assignment(_weight, _weight * _decay_rows[_step]),
        ),
    )
    # Past the segment end δ = 0, so the prefix sum of the block holding T − 1 stays at its
    # last value up to the block end (windows of the previous block read those rows).
    prefix_tail = For(
        _step,
        Range(_T, _start + _n - 1),
        CodeBlock(Assignment(_prefix_rows[_step], _carry)),
    )
    suffix_loop = For(
        _step,
        Range(block_stop - 1, _start - 1, -1),
        CodeBlock(
            Assignment(_suffix, suffix_update),
            Assignment(_reach, _decay_rows[_step] * _reach),
            Assignment(_out_rows[_step], _suffix + _reach * _prefix_rows[_step + _n - 1]),
        ),
    )
    doc = (
        "n-step advantages sum_(l<n) gamma^l delta_(t+l), cut after a done, into out (T, B).\n"
        "\n"
        "Blocks of n steps: A_t = S_t + R_t P_(t+n-1), S the suffix sum of t's block by\n"
        "gae_sym.estimators.gae_recursion at lam = 1, R_t its reach (product of the decays)\n"
        "and P the prefix sums of the next block. O(T), non-negative weights only.\n"
    )
    body = [
        Docstring(doc),
        *_masks(),
        Assignment(_n, Min(_n, _T)),
        Assignment(_delta_arr, td_error_arrays()),
        Assignment(_decay, _decay_array(decay)),
        Assignment(Symbol("prefix"), PaddedZeros(_out, _T + _n)),
        For(
            _start,
            Range(0, _T, _n),
            CodeBlock(
                Assignment(_carry, ZerosLike(_out_row0)),
                Assignment(_weight, OnesLike(_out_row0)),
                prefix_loop,
                prefix_tail,
            ),
        ),
        For(
            _start,
            Range(0, _T, _n),
            CodeBlock(
                Assignment(_suffix, ZerosLike(_out_row0)),
                Assignment(_reach, OnesLike(_out_row0)),
                suffix_loop,
            ),
        ),
    ]
    return FunctionDefinition(
        none, "nstep_kernel", _parameters(*_ARRAYS, "gamma", "n", "out"), CodeBlock(*body)
    )


KERNELS: tuple[Callable[[], FunctionDefinition], ...] = (td_kernel, gae_kernel, nstep_kernel)


# --- modules ------------------------------------------------------------------------------

_HEADER = '''\
# Generated by `gae-sym codegen` from gae_sym/estimators.py. Do not edit: change the
# definitions or gae_sym/codegen.py and run `gae-sym codegen` again
# (`gae-sym codegen --check` fails when this file is stale).
"""{title} kernels of the advantage estimators, printed by SymPy's {printer}.

Every kernel takes validated 2-D arrays (T, B) (time-major: rewards, values, next_values
of one float dtype, terminated and truncated boolean) and writes into the preallocated
out, of the same dtype. One loop over T at most, whole rows over the batch.
"""
'''


def _module_text(printer, title: str) -> str:
    functions = [printer.doprint(kernel()) for kernel in KERNELS]
    import_lines = [f"import {module}" for module in sorted(printer.module_imports)]
    header = _HEADER.format(title=title, printer=type(printer).__bases__[-1].__name__)
    # ruff format's layout: one blank line after the module docstring, two around defs.
    return (
        "\n\n".join([header.rstrip("\n"), "\n\n\n".join(["\n".join(import_lines), *functions])])
        + "\n"
    )


_PACKAGE = '''\
# Generated by `gae-sym codegen` from gae_sym/estimators.py. Do not edit: change the
# definitions or gae_sym/codegen.py and run `gae-sym codegen` again
# (`gae-sym codegen --check` fails when this file is stale).
"""The generated kernels, one module per backend; every file here is written by `gae-sym codegen`.

Importing this package imports no backend: each module imports only its own array library.
The public functions that validate input and pick a kernel are in ``numeric.estimators``.
"""
'''


def _package_text() -> str:
    return _PACKAGE


def generate_modules() -> dict[str, str]:
    """The text of each generated file, keyed by its path relative to ``numeric/``."""
    numpy_printer = NumpyKernelPrinter({"fully_qualified_modules": True, "strict": True})
    torch_printer = TorchKernelPrinter({"fully_qualified_modules": True, "strict": True})
    return {
        "kernels/__init__.py": _package_text(),
        "kernels/numpy_kernels.py": _module_text(numpy_printer, "NumPy"),
        "kernels/torch_kernels.py": _module_text(torch_printer, "PyTorch"),
        "kernels/numba_kernels.py": kernelgen.render(
            "numba_kernels.py.tmpl", kernelgen.numba_expressions()
        ),
        "kernels/jax_kernels.py": kernelgen.render(
            "jax_kernels.py.tmpl", kernelgen.jax_expressions()
        ),
        "kernels/torch_chunked_kernels.py": kernelgen.render(
            "torch_chunked_kernels.py.tmpl", kernelgen.torch_chunked_expressions()
        ),
        **generate_llm_modules(),
    }


def numeric_dir() -> Path:
    """The ``numeric`` package next to ``gae_sym`` in this checkout."""
    return Path(__file__).resolve().parent.parent / "numeric"


def _outdated(directory: Path | None) -> dict[Path, str]:
    """Each generated file of ``directory`` that is missing or differs, with its new text."""
    directory = numeric_dir() if directory is None else directory
    outdated = {}
    for name, text in generate_modules().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            outdated[path] = text
    return outdated


def stale_files(directory: Path | None = None) -> list[Path]:
    """The generated files in ``directory`` whose text differs from what would be written."""
    return list(_outdated(directory))


def write_modules(directory: Path | None = None) -> list[Path]:
    """Write the generated files into ``directory``; return the paths that changed."""
    outdated = _outdated(directory)
    for path, text in outdated.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(outdated)


__all__ = [
    "GENERATED_FILES",
    "KERNELS",
    "gae_kernel",
    "generate_modules",
    "nstep_kernel",
    "numeric_dir",
    "recursion_parts",
    "stale_files",
    "td_error_arrays",
    "td_kernel",
    "write_modules",
]
