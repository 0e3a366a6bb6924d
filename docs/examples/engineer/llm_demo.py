# llm_demo.py
import numpy as np

import numeric

# Two responses, six positions (B, L): a prompt token, response tokens, a tool's observation
# (row 0, position 3) and padding; the sequence reward sits on the last response token.
mask = np.array([[0, 1, 1, 0, 1, 0], [0, 1, 1, 1, 0, 0]])
rewards = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.5, 0.0, 0.0]])
values = np.array([[0.1, 0.2, 0.3, 9.0, 0.4, 9.0], [0.1, 0.2, 0.1, 0.3, 9.0, 9.0]])

adv, ret = numeric.token_gae(rewards, values, mask, gamma=1.0, lam=1.0)
print(adv)  # R - V_t on every response token; the 9.0s are never read
print(numeric.whiten(adv, mask).round(3))

# REINFORCE++: verl resets the running return after a masked token; "skip" carries it
print(numeric.reinforce_pp_returns(rewards, mask, gamma=1.0))
print(numeric.reinforce_pp_returns(rewards, mask, gamma=1.0, mask_mode="skip"))

# group estimators: scores (B,) and one id per prompt's group
scores, ids = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.5]), np.array([7, 7, 7, 7, 3, 3])
print(numeric.grpo_advantage(scores, ids).round(4))  # unbiased std (verl, TRL)
print(numeric.grpo_advantage(scores, ids, std="biased").round(4))
print(numeric.rloo_advantage(scores, ids).round(4), numeric.drgrpo_advantage(scores, ids))
