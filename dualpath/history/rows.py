"""What one history or audit row says, as plain data: no SQLAlchemy here, so ``dualpath status`` can read the
rows over the driver alone (history/plain.py) and judge them with the same code as every other command."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NO_ATTEMPT = "0"  # the attempt of a change no successful history row speaks of yet


@dataclass(frozen=True)
class HistoryRow:
    version: str
    description: str
    checksum: str
    direction: str
    applied_at: datetime
    applied_by: str
    success: bool
    detail: dict[str, Any]
    attempt: str = NO_ATTEMPT  # id of the version's latest successful row: see dualpath/attempts.py

    @property
    def is_applied(self) -> bool:
        return self.success and self.direction in ("up", "baseline", "repair")


DIRECTIONS = ("up", "down", "baseline", "repair")  # a row with another was written by something else


@dataclass(frozen=True)
class AuditFact:
    """What the append-only audit log says last about one version: applied or not, when, from where."""

    applied: bool
    at: datetime
    run_id: str
    file: str | None  # file:line it was applied from
    description: str = ""


FACT_ACTIONS = ("apply", "rollback", "repair", "adopt")


def facts_of(rows: list[tuple[Any, ...]]) -> dict[str, AuditFact]:
    """(action, version, at, run_id, detail) in the order they were written."""
    facts: dict[str, AuditFact] = {}
    for action, version, at, run_id, raw in rows:
        detail = _json_or_empty(raw)
        if action == "adopt":
            for adopted in detail.get("baselined", []):
                facts[str(adopted)] = AuditFact(True, at, run_id, None)
            continue
        if version is None:
            continue
        before = facts.get(version)
        applied = _applied_after(action, detail, before.applied if before else False)
        file = detail.get("file") if action == "apply" and detail.get("file") else (before.file if before else None)
        facts[version] = AuditFact(applied, at, run_id, file)
    return facts


def _applied_after(action: str, detail: dict[str, Any], before: bool) -> bool:
    if action == "apply":
        return bool(detail.get("success"))
    if action == "rollback":
        return False if detail.get("success") else before  # a failed rollback leaves the change applied
    what = str(detail.get("what", ""))  # repair
    if "failed attempt cleared" in what:
        return False
    return True if "history restored" in what else before


def _json_or_empty(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def latest_of(rows: list[Any], applied_at: str) -> dict[str, HistoryRow]:
    """History rows in the order they were written (``applied_at``: that column's name in them)."""
    latest: dict[str, HistoryRow] = {}
    attempts: dict[str, str] = {}
    for r in rows:
        if r["success"]:
            attempts[r["version"]] = str(r["id"])
        latest[r["version"]] = HistoryRow(
            version=r["version"], description=r["description"], checksum=r["checksum"],
            direction=r["direction"], applied_at=r[applied_at], applied_by=r["applied_by"],
            success=bool(r["success"]), detail=json.loads(r["detail"]) if r["detail"] else {},
            attempt=attempts.get(r["version"], NO_ATTEMPT))
    return latest
