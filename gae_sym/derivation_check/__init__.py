"""Derivations as people write them: LaTeX ``align*`` blocks in, every line checked.

``check_path(path)`` / ``check_text(text)`` (:mod:`.engine`) give the report of
``gae-sym prove FILE --json``; ``check_isolated(path)`` (:mod:`.worker`) runs the same in a
time-limited worker process. Modules: :mod:`.blocks` (blocks, lines, reasons, directives),
:mod:`.reading` (the homework reader plus the names of known quantities), :mod:`.search`
(the justification search: proposals that the kernel decides), :mod:`.engine` (verdicts,
counterexamples, claims), :mod:`.report` (text rendering).
"""

from __future__ import annotations

from gae_sym.derivation_check.engine import FileError, check_block, check_path, check_text
from gae_sym.derivation_check.worker import check_isolated

__all__ = ["FileError", "check_block", "check_isolated", "check_path", "check_text"]
