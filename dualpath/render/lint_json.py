"""Lint findings as a JSON array: rule, severity, file, line, column, message, fix (the design's contract)."""

from __future__ import annotations

import json

from dualpath.risk.model import Finding


def render(findings: list[Finding]) -> str:
    """One finding per line (greppable, diffable): each dumped by the C encoder, which indent= gives up
    (a 2,000-file folder's findings took a tenth of lint's time to indent)."""
    if not findings:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(f.as_dict(), ensure_ascii=False) for f in findings) + "\n]"
