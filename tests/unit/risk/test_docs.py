"""docs/rules/*.md are generated from the rules' metadata and must match it."""

from __future__ import annotations

import runpy
from pathlib import Path

GENERATOR = Path(__file__).resolve().parents[3] / "docs" / "rules" / "generate.py"


def test_rule_pages_are_up_to_date() -> None:
    generator = runpy.run_path(str(GENERATOR))
    assert generator["stale"]() == [], "run: python docs/rules/generate.py"


def test_every_rule_has_a_page_and_an_index_row() -> None:
    generator = runpy.run_path(str(GENERATOR))
    pages = generator["pages"]()
    index = pages.pop("index.md")
    assert len(pages) >= 45
    for name in pages:
        assert f"({name})" in index
