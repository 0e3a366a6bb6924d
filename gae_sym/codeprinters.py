"""SymPy code printers for the generated kernels: the nodes SymPy 1.14 cannot print yet.

The kernels are built as ``sympy.codegen.ast`` trees (``FunctionDefinition``, ``For``,
``Assignment``) by :mod:`gae_sym.codegen`. SymPy 1.14 prints most of that, but

* the Python printers have no ``_print_For``;
* :class:`~sympy.printing.pytorch.TorchPrinter` prints an ``Indexed`` as
  ``Indexed(out, t)`` (it treats every expression as a function call), and its ``Min``
  is ``torch.min``, which fails on the Python integers of a loop bound;
* there is no node for "an array of zeros shaped like this one" or "these boolean flags
  as floats of that dtype", which the numpy and torch spellings differ on.

This module adds those nodes and two printers, :class:`NumpyKernelPrinter` and
:class:`TorchKernelPrinter`, which share the statement-level printing and differ only in
the array library. Products are printed with spaces around ``*`` (``a * b``), the layout
``ruff format`` writes, so the generated modules are format-clean as written.
"""

from __future__ import annotations

import re

from sympy import Expr, Function, Symbol
from sympy.codegen.ast import Assignment, For, String
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.pytorch import TorchPrinter
from sympy.sets.fancysets import Range

# --- nodes ----------------------------------------------------------------------------


class Docstring(String):
    """A docstring statement (the first statement of a function body)."""


class RowCount(Function):
    """``array.shape[0]``: the number of time steps T of a time-major array."""

    is_integer = True
    is_nonnegative = True
    nargs = 1


class ZerosLike(Function):
    """An array of zeros with the shape, dtype and device of its argument."""

    nargs = 1


class OnesLike(Function):
    """An array of ones with the shape, dtype and device of its argument."""

    nargs = 1


class PaddedZeros(Function):
    """Zeros of shape ``(rows, *like.shape[1:])`` with the dtype and device of ``like``."""

    nargs = 2


class FloatMask(Function):
    """Boolean flags (a symbol, or an ``Or`` of symbols) as floats of the dtype of ``like``."""

    nargs = 2


class WholeArray(Symbol):
    """``name[:]``: assign into an existing array instead of rebinding the name."""


# --- printers -------------------------------------------------------------------------

# A lone ``*`` between two non-blank characters (never ``**``).
_TIGHT_PRODUCT = re.compile(r"(?<![\s*])\*(?![\s*])")


class _KernelStatements:
    """Statement-level printing shared by both printers (mixed in before a SymPy printer).

    ``array_module`` names the library of the array constructors.
    """

    array_module = "numpy"

    def _print_For(self, loop: For) -> str:
        body = "\n".join(self._print(statement) for statement in loop.body.args)
        header = f"for {self._print(loop.target)} in {self._print(loop.iterable)}:"
        return header + "\n" + self._indent_codestring(body)

    def _print_Range(self, span: Range) -> str:
        # Python's range(), not sympy's Range(): start and step are printed only when needed.
        start, stop, step = span.args
        bounds = [start, stop] if step == 1 else [start, stop, step]
        if step == 1 and start == 0:
            bounds = [stop]
        return "range({})".format(", ".join(self._print(bound) for bound in bounds))

    def _indent_codestring(self, codestring: str) -> str:
        # Blank lines stay empty (a docstring's paragraph break must not end in spaces).
        return "\n".join(self.tab + line if line else line for line in codestring.split("\n"))

    def _print_Assignment(self, statement: Assignment) -> str:
        # ArrayPrinter would rewrite the right-hand side as an array expression first.
        return f"{self._print(statement.lhs)} = {self._print(statement.rhs)}"

    def _print_Docstring(self, doc: Docstring) -> str:
        return '"""' + doc.text + '"""'

    def _print_WholeArray(self, target: WholeArray) -> str:
        return f"{target.name}[:]"

    def _print_RowCount(self, expr: RowCount) -> str:
        return f"{self._print(expr.args[0])}.shape[0]"

    def _print_Min(self, expr: Expr) -> str:
        # Loop bounds are Python integers: the builtin min, not numpy.amin / torch.min.
        return "min({})".format(", ".join(self._print(arg) for arg in expr.args))

    def _print_Or(self, expr: Expr) -> str:
        return " | ".join(self._print(arg) for arg in expr.args)

    def _print_Mul(self, expr: Expr) -> str:
        return _TIGHT_PRODUCT.sub(" * ", super()._print_Mul(expr))

    def _array_call(self, function: str, expr: Expr) -> str:
        name = self._module_format(f"{self.array_module}.{function}")
        return f"{name}({self._print(expr.args[0])})"

    def _print_ZerosLike(self, expr: ZerosLike) -> str:
        return self._array_call("zeros_like", expr)

    def _print_OnesLike(self, expr: OnesLike) -> str:
        return self._array_call("ones_like", expr)

    def _flags(self, flags: Expr) -> str:
        printed = self._print(flags)
        return printed if flags.is_Symbol else f"({printed})"


class NumpyKernelPrinter(_KernelStatements, NumPyPrinter):
    """NumPy flavour: ``numpy.zeros_like``, ``flags.astype(like.dtype)``."""

    array_module = "numpy"

    def _print_PaddedZeros(self, expr: PaddedZeros) -> str:
        like, rows = (self._print(arg) for arg in expr.args)
        zeros = self._module_format("numpy.zeros")
        return f"{zeros}(({rows}, *{like}.shape[1:]), dtype={like}.dtype)"

    def _print_FloatMask(self, expr: FloatMask) -> str:
        flags, like = expr.args
        return f"{self._flags(flags)}.astype({self._print(like)}.dtype)"


class TorchKernelPrinter(_KernelStatements, TorchPrinter):
    """PyTorch flavour: arrays stay on the device of ``out``; ``flags.to(like.dtype)``.

    ``TorchPrinter`` routes every expression through its function table, which turns an
    ``Indexed`` into ``Indexed(out, t)``; the Python printer's ``_print_Indexed`` is the
    right spelling for tensors too.
    """

    array_module = "torch"
    _print_Indexed = PythonCodePrinter._print_Indexed
    _print_IndexedBase = PythonCodePrinter._print_IndexedBase

    def _print_PaddedZeros(self, expr: PaddedZeros) -> str:
        like, rows = (self._print(arg) for arg in expr.args)
        zeros = self._module_format("torch.zeros")
        return f"{zeros}(({rows}, *{like}.shape[1:]), dtype={like}.dtype, device={like}.device)"

    def _print_FloatMask(self, expr: FloatMask) -> str:
        flags, like = expr.args
        return f"{self._flags(flags)}.to({self._print(like)}.dtype)"


__all__ = [
    "Docstring",
    "FloatMask",
    "NumpyKernelPrinter",
    "OnesLike",
    "PaddedZeros",
    "RowCount",
    "TorchKernelPrinter",
    "WholeArray",
    "ZerosLike",
]
