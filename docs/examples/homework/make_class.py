"""Write a synthetic class of N students for timing `gae-sym grade` (answers for key.toml).

    python docs/examples/homework/make_class.py 200 > /tmp/class200.csv
    python docs/examples/homework/make_class.py 200 --all-distinct > /tmp/worst200.csv
    gae-sym grade docs/examples/homework/key.toml /tmp/class200.csv --out /tmp/report.csv

Each answer is drawn from correct forms and known mistakes in both notations, with a random
summation index name and random spacing, so many answers are textually distinct (the grader
caches identical answers only). ``--all-distinct`` pads every answer with its own number
of spaces: the worst case, where the cache never hits and every answer is parsed and checked.
"""

from __future__ import annotations

import csv
import random
import sys

POOLS = {
    "q1-td-error": [
        r"r_t + \gamma V(s_{t+1}) - V(s_t)",
        r"\delta_t = r_{t} + \gamma V_{t+1} - V_{t}",
        "r[t] + gamma*V[t+1] - V[t]",
        r"r_t + V(s_{t+1}) - V(s_t)",
        r"r_t + \gamma V(s_t) - V(s_{t+1})",
        r"r_{t+1} + \gamma V(s_{t+1}) - V(s_t)",
    ],
    "q2-two-step": [
        r"\delta_t + \gamma \delta_{t+1}",
        r"r_t + \gamma r_{t+1} + \gamma^2 V(s_{t+2}) - V(s_t)",
        r"\sum_{I=0}^{1} \gamma^{I} \delta_{t+I}",
        r"r_t + \gamma r_{t+1} + \gamma V(s_{t+2}) - V(s_t)",
        "sum(I=0..1, gamma^I*delta[t+I])",
        r"\sum_{I=0}^{2} \gamma^{I} \delta_{t+I}",
    ],
    "q3-gae": [
        r"\sum_{I=0}^{\infty} (\gamma\lambda)^{I} \delta_{t+I}",
        r"(1-\lambda)\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{I=0}^{n-1}\gamma^{I}\delta_{t+I}",
        r"\sum_{I=0}^{\infty} \lambda^{I} \delta_{t+I}",
        r"\delta_t + \sum_{I=1}^{\infty} \gamma^{I}\lambda^{I} \delta_{t+I}",
        "sum(I=0..inf, (gamma*lambda)^I*delta[t+I])",
        r"\sum_{n=1}^{\infty}\lambda^{n-1}\sum_{I=0}^{n-1}\gamma^{I}\delta_{t+I}",
    ],
    "q4-lambda-zero": [
        r"\delta_t",
        r"r_t + \gamma V(s_{t+1}) - V(s_t)",
        "r[t]",
        "0",
        "delta[t]",
    ],
    "q5-three-step-return": [
        r"r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \gamma^3 V(s_{t+3})",
        "sum(I=0..2, gamma^I*r[t+I]) + gamma^3*V[t+3]",
        r"\sum_{I=0}^{2}\gamma^{I} r_{t+I} + \gamma^{2} V(s_{t+3})",
        r"\sum_{I=0}^{2}\gamma^{I} r_{t+I} + \gamma^{3} V(s_{t+3}) - V(s_t)",
    ],
}


def main(count: int, all_distinct: bool = False, seed: int = 7) -> None:
    rng = random.Random(seed)
    writer = csv.writer(sys.stdout)
    writer.writerow(["student", "question", "answer"])
    for number in range(1, count + 1):
        for question, pool in POOLS.items():
            answer = rng.choice(pool).replace("I", rng.choice("lkjm"))
            if rng.random() < 0.5:
                answer = answer.replace(" + ", rng.choice(["+", " +", "  +  "]))
            if all_distinct:
                answer = " " * number + answer
            writer.writerow([f"student{number:03d}", question, answer])


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 200, "--all-distinct" in sys.argv)
