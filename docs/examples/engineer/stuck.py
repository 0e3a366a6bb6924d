import itertools


def stuck_gae(rewards, values, next_value, gamma, lam):
    return [float(sum(itertools.count()))] * len(rewards)  # C code that never returns
