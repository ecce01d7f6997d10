"""What dualpath's tables say: the state of every version (history is a log: the state of a
version is its latest row) and the audit log's last word on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, inspect, literal, null, select, union_all

from dualpath.history.tables import NO_ATTEMPT, audit_table, history_exists, history_table


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


_FACT_ACTIONS = ("apply", "rollback", "repair", "adopt")


def read_history(conn: Connection) -> tuple[dict[str, HistoryRow], dict[str, AuditFact]]:
    """``latest_rows`` and ``audit_facts`` together: one look at which tables exist, then both read in one
    query (status on hundreds of changes paid a round trip per table check and per table)."""
    present = set(inspect(conn).get_table_names())
    if history_table.name not in present or audit_table.name not in present:
        return (latest_rows(conn) if history_table.name in present else {},
                audit_facts(conn) if audit_table.name in present else {})
    h, a = history_table, audit_table
    rows = conn.execute(union_all(
        select(literal("h").label("src"), h.c.id, h.c.version, h.c.description, h.c.checksum, h.c.direction,
               h.c.applied_at.label("at"), h.c.applied_by, h.c.success, h.c.detail, null().label("action"),
               null().label("run_id")),
        select(literal("a"), a.c.id, a.c.version, null(), null(), null(), a.c.at, null(), null(), a.c.detail,
               a.c.action, a.c.run_id).where(a.c.action.in_(_FACT_ACTIONS)),
    ).order_by("src", "id")).mappings().all()
    history_rows = [r for r in rows if r["src"] == "h"]
    audit = [(r["action"], r["version"], r["at"], r["run_id"], r["detail"]) for r in rows if r["src"] == "a"]
    return _latest_of(history_rows, "at"), _facts_of(audit)


def audit_facts(conn: Connection) -> dict[str, AuditFact]:
    """Per version, the last word of dualpath_audit on whether it is applied: the witness that tells a
    deleted history row, or a dropped history table, from a change that never ran."""
    if not inspect(conn).has_table(audit_table.name):
        return {}
    t = audit_table
    rows = conn.execute(select(t.c.action, t.c.version, t.c.at, t.c.run_id, t.c.detail)
                        .where(t.c.action.in_(_FACT_ACTIONS))
                        .order_by(t.c.id)).all()
    return _facts_of([tuple(r) for r in rows])


def _facts_of(rows: list[tuple[Any, ...]]) -> dict[str, AuditFact]:
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


def latest_rows(conn: Connection) -> dict[str, HistoryRow]:
    """The latest row per version, i.e. the current state of every version ever touched."""
    if not history_exists(conn):
        return {}
    return _latest_of(list(conn.execute(select(history_table).order_by(history_table.c.id)).mappings()),
                      "applied_at")


def _latest_of(rows: list[Any], applied_at: str) -> dict[str, HistoryRow]:
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


def attempt_of(conn: Connection, version: str) -> str:
    """The id of the version's latest successful history row (applied, rolled back, baselined, repaired):
    the run that starts next from that state is one attempt; progress rows are keyed by it."""
    t = history_table
    if not history_exists(conn):
        return NO_ATTEMPT
    found = conn.execute(select(func.max(t.c.id)).where(and_(t.c.version == version, t.c.success.is_(True))))
    latest = found.scalar()
    return NO_ATTEMPT if latest is None else str(latest)


def audit_rows(conn: Connection) -> list[dict[str, Any]]:
    if not inspect(conn).has_table(audit_table.name):
        return []
    return [dict(r) for r in conn.execute(select(audit_table).order_by(audit_table.c.id)).mappings()]
