"""The README's "A taste" block is what the commands print now.

Each ``$ command`` is run; every line shown under it must appear in its output, in order,
with timings (``0.154``, ``2.27 s``) compared as numbers of any value and ``...`` standing
for lines left out. A change to an output (a new case count, a renamed field) fails here
instead of leaving the first page a newcomer reads stale.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Seconds, and how many cases hypothesis drew before the counterexample (that count moves
# with the hypothesis version; the counterexample shown after shrinking does not).
TIMING = re.compile(r"\d+\.\d+(?= s\b)|(?<=  )\d\.\d{3}(?=  )|(?<=after )\d+(?= cases)")


def _taste() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A taste") :]
    block = section[section.index("```console\n") + len("```console\n") :]
    block = block[: block.index("```")]
    commands: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and line.strip():
            commands[-1][1].append(line)
    return commands


def _normalise(line: str) -> str:
    return TIMING.sub("#", line.rstrip())


def _run(command: str) -> str:
    cwd = ROOT
    if command.startswith("cd "):
        folder, _, command = command[3:].partition(" && ")
        cwd = ROOT / folder
    argv = shlex.split(command)
    assert argv[0] == "gae-sym", command
    result = subprocess.run(
        [sys.executable, "-m", "gae_sym", *argv[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.stdout


@pytest.mark.parametrize("command,shown", _taste(), ids=[c for c, _ in _taste()])
def test_each_taste_command_prints_what_the_readme_shows(command, shown):
    actual = [_normalise(line) for line in _run(command).splitlines()]
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        want = _normalise(line)
        while position < len(actual) and actual[position] != want:
            position += 1
        assert position < len(actual), f"not in the output of {command!r} (in order): {line!r}"
        position += 1


def test_the_taste_has_the_four_commands():
    names = [shlex.split(c.partition(" && ")[2] or c)[1] for c, _ in _taste()]
    assert names == ["prove", "latex", "check", "verify-impl"]
