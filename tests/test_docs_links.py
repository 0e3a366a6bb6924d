"""The project's own docs stand alone: every relative link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        assert path.exists(), f"{page.name} links to a missing file: {target}"


def test_the_reference_page_holds_what_a_user_needs():
    text = (ROOT / "docs" / "guide" / "reference.md").read_text(encoding="utf-8")
    for heading in ("## Trajectory convention", "## The theorems", "## Command-line contract"):
        assert heading in text
    import derivations

    table = re.findall(r"^\| `([a-z0-9-]+)` \|", text.split("## The theorems")[1], re.M)
    assert set(table) <= set(derivations.ids()), "reference.md names a theorem that is gone"
    assert {"nstep-telescoping", "gae-infinite", "gae-recursion"} <= set(table)
