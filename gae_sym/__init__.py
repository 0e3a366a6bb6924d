"""gae-sym: derive, prove and verify advantage estimators for reinforcement learning.

The engine (this package) depends on SymPy only: ``import gae_sym`` loads neither torch
nor numba. Numeric kernels live in the top-level ``numeric`` package, which the engine
writes (``gae-sym codegen``) but never imports.
"""

__version__ = "0.1.0"
