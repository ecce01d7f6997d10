"""Lint findings as SARIF 2.1.0, the format GitHub code scanning uploads."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from dualpath import __version__
from dualpath.risk.model import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_DOCS = "docs/rules/{id}.md"


def render(findings: list[Finding]) -> str:
    return json.dumps(sarif_log(findings), indent=2, ensure_ascii=False)


def sarif_log(findings: list[Finding]) -> dict[str, Any]:
    descriptors = rule_descriptors(findings)
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "dualpath", "version": __version__,
                                "informationUri": "https://github.com/dualpath/dualpath",
                                "rules": descriptors}},
            "results": [result(f, index[f.rule]) for f in findings],
            "columnKind": "unicodeCodePoints",
        }],
    }


def rule_descriptors(findings: list[Finding]) -> list[dict[str, Any]]:
    """Every rule that has findings, described from its own metadata."""
    from dualpath.risk.registry import all_rules

    known = {r.id: r for r in all_rules()}
    descriptors = []
    for rule_id in sorted({f.rule for f in findings}):
        rule = known.get(rule_id)
        if rule is None:  # DP000: the file itself could not be read
            descriptors.append({"id": rule_id, "name": "Unreadable", "shortDescription": {"text": "SQL does not parse"},
                                "defaultConfiguration": {"level": "error"}})
            continue
        descriptors.append({
            "id": rule.id,
            "name": "".join(w.capitalize() for w in type(rule).__name__.split("_")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.why},
            "help": {"text": f"{rule.alternative}\n\nSafe form:\n{rule.good}",
                     "markdown": f"{rule.alternative}\n\n```sql\n{rule.good}\n```"},
            "helpUri": f"https://github.com/dualpath/dualpath/blob/main/{_DOCS.format(id=rule.id)}",
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
            "properties": {"tags": ["migration", "database", *rule.engines]},
        })
    return descriptors


def result(f: Finding, rule_index: int) -> dict[str, Any]:
    text = f.message + (f" Fix: {f.fix}" if f.fix else "")
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(f.file)},
            "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
        }}],
        "partialFingerprints": {"dualpath/v1": f"{f.rule}:{artifact_uri(f.file)}:{f.message}"},
    }


def artifact_uri(file: str) -> str:
    """Relative to the working directory when possible: code scanning maps it to the repository."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return PurePath(path).as_posix()
