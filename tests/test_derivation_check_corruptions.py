"""Every hand-written theorem in docs/examples/derivations, corrupted one line at a time.

Each corruption is a mistake people make (a dropped γ, an index off by one, a wrong limit,
a missing (1 − λ), a sign); the checker must report the block as false with its first wrong
line at the corrupted source line, with a counterexample. Verdicts of unchanged steps are
cached in the process, so each variant re-checks only the lines it changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gae_sym.derivation_check import check_text

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "derivations"

# (file, source line corrupted, text there, replacement, kind)
CORRUPTIONS = [
    ("nstep_telescoping.tex", 13, r"\gamma V(s_{t+l+1})", r"V(s_{t+l+1})", "dropped gamma"),
    ("nstep_telescoping.tex", 17, r"\sum_{l=1}^{n} \gamma", r"\sum_{l=1}^{n-1} \gamma", "limit"),
    ("nstep_telescoping.tex", 19, r"V(s_{t+n})", r"V(s_{t+n+1})", "index off by one"),
    ("nstep_telescoping.tex", 22, r"- V(s_t)", r"+ V(s_t)", "sign"),
    ("nstep_telescoping.tex", 23, r"\gamma^{n} V", r"\gamma^{n-1} V", "power off by one"),
    ("gae_infinite.tex", 14, r"(1-\lambda) \sum_{l=0}", r"\sum_{l=0}", "missing (1-lambda)"),
    ("gae_infinite.tex", 14, r"\sum_{n=l+1}^{\infty}", r"\sum_{n=l}^{\infty}", "limit"),
    ("gae_infinite.tex", 16, r"\gamma^{l} \delta_{t+l}", r"\delta_{t+l}", "dropped gamma"),
    ("gae_infinite.tex", 17, r"\frac{\lambda^{l}}", r"\frac{\lambda^{l+1}}", "power off by one"),
    ("gae_infinite.tex", 19, r"\delta_{t+l}", r"\delta_{t+l+1}", "index off by one"),
    ("gae_lambda0.tex", 13, r"\sum_{l=1}^{N-1}", r"\sum_{l=2}^{N-1}", "limit"),
    ("gae_lambda0.tex", 14, r"\gamma\lambda \sum", r"\lambda \sum", "dropped gamma"),
    ("gae_lambda0.tex", 14, r"\delta_{t+l+1}", r"\delta_{t+l}", "index off by one"),
    ("gae_lambda0.tex", 17, r"- V(s_t)", r"+ V(s_t)", "sign"),
    ("gae_lambda0.tex", 17, r"\gamma V(s_{t+1})", r"V(s_{t+1})", "dropped gamma"),
    ("gae_lambda1.tex", 12, r"\gamma^{l} \delta", r"\gamma^{l+1} \delta", "power off by one"),
    ("gae_lambda1.tex", 13, r"- V(s_{t+l})", r"+ V(s_{t+l})", "sign"),
    ("gae_lambda1.tex", 15, r"\sum_{l=1}^{N}", r"\sum_{l=0}^{N}", "limit"),
    ("gae_lambda1.tex", 17, r"\gamma^{N} V", r"\gamma^{N-1} V", "dropped gamma"),
    ("gae_lambda1.tex", 17, r"r_{t+l}", r"r_{t+l+1}", "index off by one"),
    ("gae_lambda1.tex", 30, r"\sum_{l=0}^{N-1}", r"\sum_{l=1}^{N-1}", "limit of the sum"),
    ("gae_lambda1.tex", 32, r"\gamma^{l} r_{t+l}", r"\gamma^{l+1} r_{t+l}", "power off by one"),
    ("gae_lambda1.tex", 34, r"- V(s_t)", r"+ V(s_t)", "sign"),
    ("gae_weighted_average.tex", 12, r"(1-\lambda) \sum", r"\sum", "missing (1-lambda)"),
    ("gae_weighted_average.tex", 13, r"\lambda^{N-1}", r"\lambda^{N}", "power off by one"),
    ("gae_weighted_average.tex", 17, r"\gamma^{N} \delta", r"\delta", "dropped gamma"),
    ("gae_weighted_average.tex", 19, r"\sum_{n=1}^{N-1}", r"\sum_{n=1}^{N}", "limit"),
    ("gae_weighted_average.tex", 20, r"+ (\gamma\lambda)^{N}", r"- (\gamma\lambda)^{N}", "sign"),
    ("lambda_return.tex", 13, r"\sum_{l=1}^{\infty}", r"\sum_{l=0}^{\infty}", "limit"),
    ("lambda_return.tex", 15, r"\gamma\lambda \sum", r"\lambda \sum", "dropped gamma"),
    ("lambda_return.tex", 17, r"\delta_{t+1+l}", r"\delta_{t+l}", "index off by one"),
    ("lambda_return.tex", 17, r"r_t + \gamma V", r"r_t - \gamma V", "sign"),
    ("lambda_return.tex", 19, r"(1-\lambda) V", r"V", "missing (1-lambda)"),
    ("gae_recursion.tex", 13, r"\sum_{l=1}^{N-1}", r"\sum_{l=0}^{N-1}", "limit"),
    ("gae_recursion.tex", 15, r"(\gamma\lambda)^{l+1}", r"(\gamma\lambda)^{l}", "power off by one"),
    ("gae_recursion.tex", 17, r"(1 - d_t)", r"(1 + d_t)", "sign"),
    ("gae_recursion.tex", 19, r"\gamma\lambda (1", r"\lambda (1", "dropped gamma"),
    ("gae_recursion.tex", 20, r"\delta_{t+1+l}", r"\delta_{t+l}", "index off by one"),
]


def _corrupt(text: str, number: int, old: str, new: str) -> str:
    lines = text.split("\n")
    assert lines[number - 1].count(old) == 1, f"line {number} must hold {old!r} once"
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "\n".join(lines)


_BASELINES: dict = {}


def _baseline(name: str) -> dict:
    if name not in _BASELINES:
        _BASELINES[name] = check_text((EXAMPLES / name).read_text(), name=name)
    return _BASELINES[name]


def _line_starts(report: dict) -> list[tuple[int, int]]:
    """(block index, source line) of every derivation line of the uncorrupted file."""
    return [
        (index, line["source_line"])
        for index, block in enumerate(report["blocks"])
        for line in block["lines"]
    ]


@pytest.mark.parametrize(("name", "number", "old", "new", "kind"), CORRUPTIONS)
def test_a_single_line_corruption_is_reported_false_at_its_source_line(
    name, number, old, new, kind
):
    baseline = _baseline(name)
    assert all(block["status"] == "proved" for block in baseline["blocks"])
    starts = [(b, s) for b, s in _line_starts(baseline) if s <= number]
    block_index, expected = starts[-1]
    text = _corrupt((EXAMPLES / name).read_text(), number, old, new)
    report = check_text(text, name=name)
    block = report["blocks"][block_index]
    assert block["status"] == "false", (kind, block)
    assert block["first_wrong_line"] == expected, (kind, block["lines"])
    wrong = next(line for line in block["lines"] if line["source_line"] == expected)
    assert wrong["status"] == "false"
    assert wrong["counterexample"] is not None
    assert wrong["counterexample"]["previous"] != wrong["counterexample"]["this_line"]
    assert "false under the declared assumptions" in wrong["why"]
    # The other blocks of the file are untouched.
    for other_index, other in enumerate(report["blocks"]):
        if other_index != block_index:
            assert other["status"] == "proved"


def test_every_theorem_file_has_at_least_five_corruptions():
    counts: dict = {}
    for name, *_ in CORRUPTIONS:
        counts[name] = counts.get(name, 0) + 1
    files = {p.name for p in EXAMPLES.glob("*.tex")}
    assert files <= set(counts), files - set(counts)
    assert min(counts.values()) >= 5
