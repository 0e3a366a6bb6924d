"""Hypothesis: correct rewritings of a reference stay correct, one-place perturbations are caught.

Answers are generated as *text* (LaTeX or plain), so the readers are exercised too. The
n-step advantage A^(K)_t is written term by term, each term either as γ^l δ_{t+l} or
expanded into rewards and values, in a random order, or as a sum with a random index name
and a random shift; GAE is written with a random index name, split first term or shift.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from gae_sym.homework.checker import check

FAST = settings(max_examples=20, deadline=None)


@dataclass(frozen=True)
class Term:
    """sign · γ^power · seq_{t+offset}, printable in either notation."""

    sign: int
    power: int
    seq: str  # "r", "V" or "delta"
    offset: int

    def text(self, latex: bool) -> str:
        g = r"\gamma" if latex else "gamma"
        factor = (
            "" if self.power == 0 else (f"{g}^{{{self.power}}} " if latex else f"{g}^{self.power}*")
        )
        index = "t" if self.offset == 0 else f"t{self.offset:+d}"
        if latex:
            name = {
                "r": f"r_{{{index}}}",
                "V": f"V(s_{{{index}}})",
                "delta": rf"\delta_{{{index}}}",
            }
        else:
            name = {"r": f"r[{index}]", "V": f"V[{index}]", "delta": f"delta[{index}]"}
        return factor + name[self.seq]


def join(terms: list[Term], latex: bool) -> str:
    out = ""
    for i, term in enumerate(terms):
        body = term.text(latex)
        if term.sign < 0:
            out += f" - {body}" if i else f"-{body}"
        else:
            out += f" + {body}" if i else body
    return out


def nstep_terms(steps: int, expand_mask: list[bool]) -> list[Term]:
    """A^(K)_t = Σ_l γ^l δ_{t+l}, each δ optionally expanded into r + γV' − V."""
    terms = []
    for l in range(steps):
        if expand_mask[l]:
            terms += [Term(1, l, "r", l), Term(1, l + 1, "V", l + 1), Term(-1, l, "V", l)]
        else:
            terms.append(Term(1, l, "delta", l))
    return terms


@st.composite
def nstep_rewriting(draw):
    steps = draw(st.integers(1, 4))
    latex = draw(st.booleans())
    mask = draw(st.lists(st.booleans(), min_size=steps, max_size=steps))
    terms = draw(st.permutations(nstep_terms(steps, mask)))
    return steps, latex, list(terms)


@given(nstep_rewriting())
@FAST
def test_reordered_and_expanded_nstep_answers_stay_correct(example):
    steps, latex, terms = example
    result = check(join(terms, latex), f"nstep-{steps}")
    assert result["verdict"] == "correct", (join(terms, latex), result["feedback"])


@given(
    steps=st.integers(1, 5),
    index=st.sampled_from("lkjm"),
    shift=st.integers(0, 2),
    latex=st.booleans(),
)
@FAST
def test_renamed_and_shifted_sums_stay_correct(steps, index, shift, latex):
    i = index if shift == 0 else f"{index}-{shift}"
    if latex:
        answer = (
            rf"\sum_{{{index}={shift}}}^{{{steps - 1 + shift}}} \gamma^{{{i}}} \delta_{{t+{i}}}"
        )
    else:
        answer = f"sum({index}={shift}..{steps - 1 + shift}, gamma^({i})*delta[t+{i}])"
    assert check(answer, f"nstep-{steps}")["verdict"] == "correct", answer


@given(
    index=st.sampled_from("lkjmq"),
    peeled=st.integers(0, 2),
    shift=st.integers(0, 2),
    split_powers=st.booleans(),
)
@settings(max_examples=15, deadline=None)
def test_gae_rewritings_stay_correct(index, peeled, shift, split_powers):
    """δ_t + γλ δ_{t+1} + Σ_{i=peeled+shift}^{∞} (γλ)^{i-shift} δ_{t+i-shift}, in LaTeX."""

    def weight(power: str) -> str:
        if split_powers:
            return rf"\gamma^{{{power}}}\lambda^{{{power}}}"
        return rf"(\gamma\lambda)^{{{power}}}"

    head = [rf"{weight(str(l))} \delta_{{t+{l}}}" for l in range(peeled)]
    i = index if shift == 0 else f"{index}-{shift}"
    tail = rf"\sum_{{{index}={peeled + shift}}}^{{\infty}} {weight(i)} \delta_{{t+{i}}}"
    answer = " + ".join([*head, tail])
    result = check(answer, "gae")
    assert result["verdict"] == "correct", (answer, result["feedback"])


@st.composite
def nstep_perturbation(draw):
    steps = draw(st.integers(2, 4))
    latex = draw(st.booleans())
    terms = nstep_terms(steps, [True] * steps)
    position = draw(st.integers(0, len(terms) - 1))
    kind = draw(st.sampled_from(["exponent", "sign", "index"]))
    delta = draw(st.sampled_from([-1, 1]))
    old = terms[position]
    if kind == "exponent":
        new = Term(old.sign, max(0, old.power + delta) if old.power else 1, old.seq, old.offset)
    elif kind == "sign":
        new = Term(-old.sign, old.power, old.seq, old.offset)
    else:
        new = Term(old.sign, old.power, old.seq, old.offset + delta)
    terms[position] = new
    return steps, latex, terms, kind


@given(nstep_perturbation())
@FAST
def test_one_place_perturbations_are_caught(example):
    steps, latex, terms, kind = example
    answer = join(terms, latex)
    result = check(answer, f"nstep-{steps}")
    assert result["verdict"] == "incorrect", (kind, answer)
    example_point = result["counterexample"]
    assert example_point["answer_value"] != example_point["reference_value"]


@given(
    which=st.sampled_from(["exponent", "sign", "index", "bound"]),
    index=st.sampled_from("lkj"),
)
@settings(max_examples=12, deadline=None)
def test_gae_perturbations_are_caught(which, index):
    i = index
    answers = {
        "exponent": rf"\sum_{{{i}=0}}^{{\infty}} (\gamma\lambda)^{{{i}+1}} \delta_{{t+{i}}}",
        "sign": rf"-\sum_{{{i}=0}}^{{\infty}} (\gamma\lambda)^{{{i}}} \delta_{{t+{i}}}",
        "index": rf"\sum_{{{i}=0}}^{{\infty}} (\gamma\lambda)^{{{i}}} \delta_{{t+{i}+1}}",
        "bound": rf"\sum_{{{i}=1}}^{{\infty}} (\gamma\lambda)^{{{i}}} \delta_{{t+{i}}}",
    }
    assert check(answers[which], "gae")["verdict"] == "incorrect", answers[which]
