# numeric_demo.py
import numpy as np
import torch

import numeric

# Two environments, four steps, time-major (T, batch). Env 0 terminates at t = 1;
# env 1 is truncated at t = 2 (next_values[2, 1] is the value of its final observation).
rewards = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
values = np.array([[0.5, 0.4], [0.6, 0.3], [0.2, 0.2], [0.3, 0.1]])
next_values = np.array([[0.6, 0.3], [0.0, 0.2], [0.3, 0.9], [0.4, 0.2]])
terminated = np.array([[False, False], [True, False], [False, False], [False, False]])
truncated = np.array([[False, False], [False, False], [False, True], [False, False]])

adv = numeric.gae(rewards, values, next_values, terminated, truncated, gamma=0.99, lam=0.95)
ret = numeric.lambda_return(
    rewards, values, next_values, terminated, truncated, gamma=0.99, lam=0.95
)
print(adv.round(4))
print(np.allclose(ret, adv + values))

# torch in, torch out
t_adv = numeric.gae(
    *(torch.from_numpy(a) for a in (rewards, values, next_values, terminated, truncated)),
    gamma=0.99,
    lam=0.95,
)
print(type(t_adv).__name__, t_adv.dtype, torch.allclose(t_adv, torch.from_numpy(adv)))

# the lecture's signature
print(numeric.compute_gae([1.0, 1.0, 1.0], [0.5, 0.6, 0.2], next_value=0.3))
