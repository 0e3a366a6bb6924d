"""CartPole-v1: the two actor-critic learners and the check of the kernels on their rollouts.

* :mod:`numeric.cartpole.common`: what both learners share (environment id, networks, the
  episode log, the rollout record);
* :mod:`numeric.cartpole.lecture`: the lecture's learner, one episode per update;
* :mod:`numeric.cartpole.batched`: vectorised environments, fixed-length rollouts, GAE;
* :mod:`numeric.cartpole.rollout_check`: on every rollout, the numeric kernels against the
  advantages the training loop computed by its own hand-written loop;
* :mod:`numeric.cartpole.experiments`: the runs behind the lecture notes
  (``python -m numeric.cartpole.experiments --out docs/data/cartpole``).

Importing this package imports nothing heavy; the modules import torch and gymnasium.
"""
