"""`gae-sym codegen`: write the generated kernel modules in numeric/ (or check them)."""

from __future__ import annotations

import argparse
import sys

from gae_sym.cli._common import add_parser

DESCRIPTION = """\
Write the numeric kernels generated from the proven formulas into numeric/kernels/: the
numpy and torch loops (numpy_kernels.py, torch_kernels.py), numba (numba_kernels.py: the
SIMD column loop and the chunked scan), JAX (jax_kernels.py: lax.scan, associative_scan,
a chunked scan) and the chunked torch scan for CUDA (torch_chunked_kernels.py). The per-step
update of GAE is the recursion A_t = delta_t + gamma*lam*(1 - done_t)*A_(t+1) of theorem
gae-recursion, the TD error is td_error_flagged, the chunked and parallel scans use
scan_coefficient, scan_combine and scan_join (theorem gae-scan); SymPy's code printers print
every expression, the loops come from gae_sym/kernel_templates/. The LLM-era estimators
(token GAE with response masks, REINFORCE++, whitening, GRPO, Dr. GRPO, RLOO) are printed the
same way from gae_sym/llm_estimators.py into numeric/llm/kernels/ (numpy_llm.py,
torch_llm.py, jax_llm.py).

With --check nothing is written: exit 1 naming each stale file when the files on
disk differ from what would be written, 0 when they are current (make test runs it).

examples:
  gae-sym codegen            regenerate after changing gae_sym/estimators.py
  gae-sym codegen --check    is the committed code in sync with the definitions?

exit status: 0 written or up to date, 1 stale files (--check), 2 bad command line."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(
        subparsers, "codegen", "write the generated kernel modules in numeric/", DESCRIPTION
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare with the files on disk; exit 1 naming the stale files",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gae_sym import codegen

    directory = codegen.numeric_dir()
    if args.check:
        stale = codegen.stale_files(directory)
        for path in stale:
            print(
                f"gae-sym codegen: {path} is stale: run 'gae-sym codegen' to regenerate it",
                file=sys.stderr,
            )
        if stale:
            return 1
        print(f"generated kernels are up to date in {directory}")
        return 0
    changed = codegen.write_modules(directory)
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"generated kernels already up to date in {directory}")
    return 0
