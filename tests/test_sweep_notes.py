"""The notes' section "Does λ matter for learning?": verdicts decided by intervals, not medians."""

from __future__ import annotations

import json

from gae_sym.notes.data import load_data
from gae_sym.notes.document import to_markdown
from gae_sym.notes.sweep_section import interior_verdict, load_sweep, sweep_section
from gae_sym.sweep_report import summarize


def _records(steps_of, gammas=(0.99,), lams=(0.0, 0.5, 0.95, 1.0), seeds=10):
    """Grid records whose steps to solve are ``steps_of(gamma, lam, seed)`` (None: unsolved)."""
    out = []
    for gamma in gammas:
        for lam in lams:
            for seed in range(1, seeds + 1):
                config = {
                    "variant": "batched",
                    "gamma": gamma,
                    "lam": lam,
                    "lr": 3e-3,
                    "seed": seed,
                    "max_env_steps": 200_000,
                    "max_seconds": None,
                    "label": "grid",
                    "overrides": {},
                    "keep_episode_returns": False,
                }
                steps = steps_of(gamma, lam, seed)
                out.append(
                    {
                        "key": json.dumps(config, sort_keys=True),
                        "config": config,
                        "status": "ok",
                        "solved": steps is not None,
                        "steps_to_solve": steps,
                        "final_mean_return": 480.0 if steps else 150.0,
                        "agree": True,
                        "max_abs_diff": 1e-6,
                        "seconds": 5.0,
                    }
                )
    return out


def _verdict(records, gamma=0.99):
    groups = {g["lam"]: g for g in summarize(records)["groups"] if g["gamma"] == gamma}
    return interior_verdict(gamma, groups)


def test_an_intermediate_lambda_clearly_fastest_is_supported():
    spread = lambda g, lam, s: int((60_000 if 0 < lam < 1 else 150_000) + 1000 * s)  # noqa: E731
    assert _verdict(_records(spread)).endswith("supported.")
    assert "unsupported" not in _verdict(_records(spread))


def test_a_faster_median_inside_overlapping_intervals_is_unsupported():
    # λ = 0.95 has the lowest median, but λ = 1 is within noise of it: medians alone would
    # call the lecture right; the intervals do not allow it.
    def noisy(gamma, lam, seed):
        base = {0.0: 150_000, 0.5: 120_000, 0.95: 80_000, 1.0: 84_000}[lam]
        return base + (seed % 5) * 8_000

    verdict = _verdict(_records(noisy))
    assert "fastest λ is 0.95" in verdict
    assert "overlaps λ = 1" in verdict and "unsupported" in verdict


def test_an_end_point_fastest_contradicts_and_unsolved_is_not_the_budget():
    def mc_wins(gamma, lam, seed):
        return None if lam == 0.0 else int({0.5: 150_000, 0.95: 120_000, 1.0: 70_000}[lam] + seed)

    verdict = _verdict(_records(mc_wins))
    assert "fastest λ is 1" in verdict and "contradicts" in verdict
    groups = summarize(_records(mc_wins))["groups"]
    assert [g["steps_to_solve"]["median"] for g in groups if g["lam"] == 0.0] == [None]


def test_section_text_is_deterministic_and_says_what_is_missing(tmp_path):
    data = load_data()
    missing, jobs = sweep_section(data, None)
    assert jobs == [] and "sweep is missing" in to_markdown(missing)

    (tmp_path / "sweep").mkdir()
    records = _records(lambda g, lam, s: 90_000 + 1000 * s, gammas=(0.95, 0.99, 1.0))
    lines = "".join(json.dumps(r) + "\n" for r in records) + '{"torn'
    (tmp_path / "sweep" / "runs.jsonl").write_text(lines)
    sweep = load_sweep(tmp_path)
    assert len(sweep["records"]) == len(records)  # the torn line is ignored
    first, jobs = sweep_section(data, sweep)
    again, _ = sweep_section(data, load_sweep(tmp_path))
    text = to_markdown(first)
    assert text == to_markdown(again)
    assert "Schulman et al." in text and "[0.92, 0.98]" in text
    assert "'Fast'" in text and "'Slow'" in text
    assert [file for file, _ in jobs] == ["sweep-steps-to-solve.png", "sweep-heatmap.png"]
    for file, draw in jobs:
        assert draw(tmp_path / file).read_bytes()[:4] == b"\x89PNG"


def test_an_end_point_fastest_by_median_only_leaves_the_claim_unsupported():
    def close(gamma, lam, seed):
        base = {0.0: 160_000, 0.5: 130_000, 0.95: 84_000, 1.0: 80_000}[lam]
        return base + (seed % 5) * 8_000

    verdict = _verdict(_records(close))
    assert "fastest λ is 1" in verdict
    assert "contradicts" not in verdict and "unsupported" in verdict
