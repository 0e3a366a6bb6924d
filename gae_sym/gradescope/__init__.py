"""A Gradescope autograder for a homework (``gae-sym gradescope KEY.toml --out ZIP``).

:mod:`~gae_sym.gradescope.build` writes the zip (``setup.sh``, ``run_autograder``, the key
and a copy of gae-sym); :mod:`~gae_sym.gradescope.autograder` is what ``run_autograder``
runs on Gradescope: it reads the submission (:mod:`~gae_sym.gradescope.submission`),
checks each answer in the sandboxed worker and writes ``results/results.json`` in
Gradescope's format.
"""
