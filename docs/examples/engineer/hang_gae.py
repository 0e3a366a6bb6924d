def while_loop_gae(rewards, values, next_value, masks, gamma, lam):
    advantages = [0.0] * len(rewards)
    gae = 0.0
    t = len(rewards) - 1
    while t >= 0:
        if masks[t] == 0:  # the episode ended at step t: no bootstrap, no carry
            gae = rewards[t] - values[t]
            advantages[t] = gae
            continue  # skips the t -= 1 below
        bootstrap = next_value if t == len(rewards) - 1 else values[t + 1]
        gae = rewards[t] + gamma * bootstrap - values[t] + gamma * lam * gae
        advantages[t] = gae
        t -= 1
    return advantages
