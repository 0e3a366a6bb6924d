"""The guide's example programs are the files in docs/examples/engineer, and print what the
guide shows: a block headed ``# NAME.py`` is that file, and the console block ``$ python
NAME.py`` after it is its output, exactly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide" / "engineer.md"
EXAMPLES = ROOT / "docs" / "examples" / "engineer"
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))]


def _programs() -> dict[str, str]:
    found = {}
    for language, body in _blocks():
        first = body.split("\n", 1)[0]
        if language == "python" and re.fullmatch(r"# \w+\.py", first):
            found[first[2:]] = body
    return found


def _outputs() -> dict[str, str]:
    found = {}
    for _, body in _blocks():
        first, _, rest = body.partition("\n")
        match = re.fullmatch(r"\$ python (\w+\.py)", first)
        if match:
            found[match.group(1)] = rest
    return found


@pytest.mark.parametrize("name", sorted(_programs()))
def test_each_program_in_the_guide_is_the_example_file(name):
    assert (EXAMPLES / name).read_text(encoding="utf-8") == _programs()[name]


@pytest.mark.parametrize("name", sorted(_outputs()))
def test_each_shown_output_is_what_the_program_prints(name):
    pytest.importorskip("torch")  # numeric_demo.py shows torch in, torch out
    result = subprocess.run(
        [sys.executable, name], cwd=EXAMPLES, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == _outputs()[name]


def test_the_guide_shows_both_demos():
    assert {"numeric_demo.py", "llm_demo.py"} <= set(_outputs())
