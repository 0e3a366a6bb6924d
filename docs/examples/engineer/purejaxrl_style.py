# purejaxrl_style.py: GAE with jax.lax.scan as PureJaxRL writes it, arrays (T, N);
# dones[t] = 1 when step t ended the episode; last_val is V of the observation after.
import jax
import jax.numpy as jnp


def calculate_gae(rewards, values, dones, last_val, gamma, gae_lambda):
    def backward_step(carry, step):
        gae, next_value = carry
        done, value, reward = step
        delta = reward + gamma * next_value * (1 - done) - value
        gae = delta + gamma * gae_lambda * (1 - done) * gae
        return (gae, value), gae

    _, advantages = jax.lax.scan(
        backward_step,
        (jnp.zeros_like(last_val), last_val),
        (dones, values, rewards),
        reverse=True,
        unroll=16,
    )
    return advantages, advantages + values
