"""The package installs, imports light and exposes the command line."""

import subprocess
import sys


def test_import_gae_sym_loads_neither_torch_nor_numba():
    code = (
        "import sys, gae_sym, gae_sym.estimators, gae_sym.printing, gae_sym.cli;"
        "gae_sym.cli.build_parser();"
        "bad = [m for m in ('torch', 'numba', 'numeric') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "gae_sym", "--help"], capture_output=True, text=True, check=True
    )
    for name in (
        "prove",
        "latex",
        "codegen",
        "notes",
        "check",
        "grade",
        "verify-impl",
        "cartpole",
        "bench",
        "study",
    ):
        assert name in out.stdout
