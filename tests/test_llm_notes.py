"""The notes' chapter "From CartPole to language models": built from the data file only."""

from __future__ import annotations

import json

from gae_sym.notes.document import Table, to_markdown
from gae_sym.notes.llm_section import LLM_COMMAND, llm_section


def _run(estimator, multi_turn, agree=True):
    return {
        "estimator": estimator,
        "multi_turn": multi_turn,
        "seed": 3,
        "batches": 50,
        "batches_checked": 50,
        "backends_checked": [{"name": "numpy"}, {"name": "torch"}],
        "max_abs_diff": 1e-7 if agree else 0.5,
        "agree": agree,
        "initial_reward": 0.25,
        "final_reward": 0.9,
        "learning_curve": [0.25, 0.9],
    }


def test_without_data_the_chapter_says_how_to_make_it(tmp_path):
    section, jobs = llm_section(tmp_path)
    text = to_markdown(section)
    assert LLM_COMMAND in text and "not there yet" in text and jobs == []
    assert "skips the masked tokens" in text


def test_with_data_every_number_comes_from_the_file(tmp_path):
    from numeric.llm.experiments import EPS, PROBLEMS, exact_study

    (tmp_path / "llm").mkdir()
    document = {
        "problems": PROBLEMS,
        "eps": EPS,
        "exact": exact_study(),
        "toy": [_run("gae", False), _run("grpo", True, agree=False)],
    }
    (tmp_path / "llm" / "llm.json").write_text(json.dumps(document))
    section, jobs = llm_section(tmp_path)
    text = to_markdown(section)
    assert "| PPO + token GAE | no | 0.250 → 0.900 | 50 | numpy, torch | 1e-07 | agree |" in text
    assert "DISAGREE" in text and "seed 3" in text
    tables = [b for b in section.blocks if isinstance(b, Table)]
    assert len(tables) == 4  # estimators, two exact problems, the toy run
    assert [job.file for job in jobs] == ["llm-toy-curves.png"]
