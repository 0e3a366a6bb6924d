"""Property tests for anyone's GAE code.

In a pytest suite::

    from gae_sym.testing import assert_gae_matches
    from mypackage.rollout import compute_gae

    def test_compute_gae_is_gae():
        assert_gae_matches(compute_gae, convention="lecture", max_examples=200)

or from a shell: ``gae-sym verify-impl mypackage.rollout:compute_gae --convention lecture``.

Conventions (:mod:`gae_sym.testing.conventions`, one table row each): ``lecture``
``f(rewards, values, next_value, gamma, lam)``; ``masked``
``f(rewards, values, next_value, masks, gamma, lam)``; ``canonical`` the ``numeric.gae``
signature; ``episode-start`` ``f(rewards, values, dones, next_value, next_done, gamma, lam)``
(CleanRL, SB3, baselines); ``discount`` ``f(rewards, discounts, lam, values)`` (rlax).
Parameters are matched by name (``args="rewards=rew,..."`` renames), ``layout`` is one of
``T``, ``T,N``, ``T,N,1``, ``N,T``, ``N,T,1``, ``output`` ``advantages``, ``returns`` or a
tuple. Results right to float32 precision only pass with a precision warning
(``strict_precision=True``: fail). The reference is ``numeric.gae``; this package imports
``numeric`` and hypothesis, which is why ``import gae_sym`` does not import it.

A call that does not return within ``call_timeout`` seconds (default 10) is stopped and is
the counterexample (:mod:`gae_sym.testing.timeout`: main thread only; C code that never
returns to the interpreter cannot be stopped this way).
"""

from gae_sym.testing.bugs import KNOWN_BUGS, KnownBug, known_bugs
from gae_sym.testing.conventions import (
    INPUT_TYPES,
    SIGNATURES,
    named_inputs,
    plan_call,
    reference_gae,
)
from gae_sym.testing.runner import (
    Diagnosis,
    Outcome,
    VerificationResult,
    assert_gae_matches,
    diagnose,
    verify,
)
from gae_sym.testing.trajectories import (
    CONVENTIONS,
    Trajectory,
    discounts,
    edge_cases,
    segment,
    trajectories,
)

__all__ = [
    "CONVENTIONS",
    "INPUT_TYPES",
    "KNOWN_BUGS",
    "SIGNATURES",
    "Diagnosis",
    "KnownBug",
    "Outcome",
    "Trajectory",
    "VerificationResult",
    "assert_gae_matches",
    "diagnose",
    "discounts",
    "edge_cases",
    "known_bugs",
    "named_inputs",
    "plan_call",
    "reference_gae",
    "segment",
    "trajectories",
    "verify",
]
