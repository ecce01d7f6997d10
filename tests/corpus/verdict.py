"""Lint one case and read its findings as a verdict: hazard, safe, or "depends".

A warning or an error is lint saying "hazard"; info is a remark, not an alarm. A finding that
names what it depends on (``Finding.depends``: lint could not see the current schema) is
neither: lint says it cannot know without ``--url``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from dualpath.risk.lint import lint_paths
from dualpath.risk.model import Finding
from tests.corpus.cases import Case

HAZARD, SAFE, DEPENDS = "hazard", "safe", "depends"


def verdict(findings: Iterable[Finding]) -> str:
    found = list(findings)
    if any(f.severity in ("warning", "error") and not f.depends for f in found):
        return HAZARD
    return DEPENDS if any(f.depends for f in found) else SAFE


def lint_case(case: Case, url: str | None) -> list[Finding]:
    """Findings of ``dualpath lint`` on the case as a lone .sql file (with --url when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.sql"
        path.write_text(case.sql + "\n")
        return lint_paths([path], dialect=case.engine, url=url)


def explain(findings: Iterable[Finding]) -> str:
    return "; ".join(f"{f.rule} {f.severity}: {f.message}" for f in findings) or "no findings"
