"""Lecture notes that write themselves: derivations, definitions, figures and evidence.

An engine package: it reads the derivations (``derivations.ALL``), the estimator
definitions (``gae_sym.estimators``) and committed data files (``docs/data/study`` from
``gae-sym study``, ``docs/data/cartpole/runs.json`` from the CartPole experiments); it never
imports ``numeric`` or torch.
"""
