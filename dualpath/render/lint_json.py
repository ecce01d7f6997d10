"""Lint findings as a JSON array: rule, severity, file, line, column, message, fix (the design's contract)."""

from __future__ import annotations

import json

from dualpath.risk.model import Finding


def render(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False)
