"""The committed data files the notes are built from, and the summaries the text quotes.

* ``docs/data/study/study.json``: written by ``gae-sym study --out docs/data/study``;
* ``docs/data/cartpole/runs.json``: written by ``CARTPOLE_COMMAND`` (the learners of
  ``gae-sym cartpole``); a JSON list of run
  records ``{"variant", "seed", "lr", "label", "episodes", "env_steps", "seconds",
  "solved", "solved_at_episode", "solved_at_step", "mean_return_last_100",
  "episode_returns", "max_abs_diff", "agree"}``.

A missing file is not an error: the notes then say which evidence is missing and how to
produce it. Only numbers read from these files enter the text, rounded for display, so
the notes are the same on every machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# CartPole-v1's TimeLimit (gymnasium's registered spec: max_episode_steps=500), reward +1
# per step: no episode can return more than this.
CARTPOLE_MAX_RETURN = 500
# Below this 100-episode mean a run has collapsed: a policy that always pushes the same
# way lasts 8-11 steps (9.4 on average), a random one 22.6.
COLLAPSED_BELOW = 15.0

CARTPOLE_COMMAND = "python -m numeric.cartpole.experiments --out docs/data/cartpole"
STUDY_FILE = Path("study") / "study.json"
RUNS_FILE = Path("cartpole") / "runs.json"


def default_data_dir() -> Path:
    """``docs/data`` of the source tree this package was loaded from."""
    return Path(__file__).resolve().parents[2] / "docs" / "data"


@dataclass(frozen=True)
class NotesData:
    """What the notes read: the study document and the CartPole runs (``None`` if absent)."""

    study: dict[str, Any] | None
    runs: list[dict[str, Any]] | None
    study_path: str
    runs_path: str
    folder: Path | None = None
    """The data folder the other sections (sweep, LLM) read too; None: this tree's."""


def _read_json(path: Path) -> Any | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from error


def load_data(data_dir: Path | None = None) -> NotesData:
    """Read the study and the CartPole runs from ``data_dir`` (default: the repo's docs/data).

    The notes name the files as read: ``docs/data/...`` for the default folder (the same
    text on every machine), the paths under ``data_dir`` otherwise.
    """
    explicit = data_dir is not None and Path(data_dir).resolve() != default_data_dir()
    data_dir = default_data_dir() if data_dir is None else Path(data_dir)
    study = _read_json(data_dir / STUDY_FILE)
    runs = _read_json(data_dir / RUNS_FILE)
    if runs is not None and not isinstance(runs, list):
        raise ValueError(f"{data_dir / RUNS_FILE} must hold a JSON list of run records")
    return NotesData(
        study=study,
        runs=runs,
        study_path=(data_dir / STUDY_FILE).as_posix()
        if explicit
        else f"docs/data/{STUDY_FILE.as_posix()}",
        runs_path=(data_dir / RUNS_FILE).as_posix()
        if explicit
        else f"docs/data/{RUNS_FILE.as_posix()}",
        folder=data_dir if explicit else None,
    )


def is_collapsed(run: dict[str, Any]) -> bool:
    """A run whose last-100-episode mean return is below ``COLLAPSED_BELOW``."""
    mean = run.get("mean_return_last_100")
    return mean is not None and float(mean) < COLLAPSED_BELOW


def max_episode_return(runs: list[dict[str, Any]]) -> float | None:
    returns = [max(r["episode_returns"]) for r in runs if r.get("episode_returns")]
    return max(returns) if returns else None


def total_episodes(runs: list[dict[str, Any]]) -> int:
    return sum(len(r.get("episode_returns") or []) for r in runs)


@dataclass(frozen=True)
class SweepCell:
    """The learning-rate sweep at one (variant, label, lr): how many runs solved or collapsed."""

    variant: str
    label: str
    lr: float
    runs: int
    solved: int
    collapsed: int
    collapsed_means: tuple[float, ...]


def sweep_table(runs: list[dict[str, Any]]) -> list[SweepCell]:
    """Runs grouped by (variant, label, lr), sorted; the lr sweep and the bug reproductions."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for run in runs:
        key = (str(run.get("variant")), str(run.get("label")), float(run.get("lr") or 0.0))
        groups.setdefault(key, []).append(run)
    cells = []
    for (variant, label, lr), members in sorted(groups.items()):
        collapsed = [r for r in members if is_collapsed(r)]
        cells.append(
            SweepCell(
                variant=variant,
                label=label,
                lr=lr,
                runs=len(members),
                solved=sum(bool(r.get("solved")) for r in members),
                collapsed=len(collapsed),
                collapsed_means=tuple(
                    sorted(round(float(r["mean_return_last_100"]), 1) for r in collapsed)
                ),
            )
        )
    return cells


__all__ = [
    "CARTPOLE_COMMAND",
    "CARTPOLE_MAX_RETURN",
    "COLLAPSED_BELOW",
    "NotesData",
    "SweepCell",
    "default_data_dir",
    "is_collapsed",
    "load_data",
    "max_episode_return",
    "sweep_table",
    "total_episodes",
]
