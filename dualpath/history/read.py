"""What dualpath's tables say: the state of every version (history is a log: the state of a
version is its latest row) and the audit log's last word on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, literal, null, select, union_all

from dualpath.engines import has_table, table_names
from dualpath.history.rows import DIRECTIONS, FACT_ACTIONS, NO_ATTEMPT, AuditFact, HistoryRow, facts_of, latest_of
from dualpath.history.tables import audit_table, history_exists, history_table

__all__ = ["DIRECTIONS", "AuditFact", "HistoryRow", "attempt_of", "audit_facts", "audit_rows", "latest_rows",
           "read_history"]


def read_history(conn: Connection) -> tuple[dict[str, HistoryRow], dict[str, AuditFact]]:
    """``latest_rows`` and ``audit_facts`` together: one look at which tables exist, then both read in one
    query (status on hundreds of changes paid a round trip per table check and per table)."""
    present = set(table_names(conn))
    if history_table.name not in present or audit_table.name not in present:
        return (latest_rows(conn) if history_table.name in present else {},
                audit_facts(conn) if audit_table.name in present else {})
    h, a = history_table, audit_table
    rows = conn.execute(union_all(
        select(literal("h").label("src"), h.c.id, h.c.version, h.c.description, h.c.checksum, h.c.direction,
               h.c.applied_at.label("at"), h.c.applied_by, h.c.success, h.c.detail, null().label("action"),
               null().label("run_id")),
        select(literal("a"), a.c.id, a.c.version, null(), null(), null(), a.c.at, null(), null(), a.c.detail,
               a.c.action, a.c.run_id).where(a.c.action.in_(FACT_ACTIONS)),
    ).order_by("src", "id")).mappings().all()
    history_rows = [r for r in rows if r["src"] == "h"]
    audit = [(r["action"], r["version"], r["at"], r["run_id"], r["detail"]) for r in rows if r["src"] == "a"]
    return latest_of(history_rows, "at"), facts_of(audit)


def audit_facts(conn: Connection) -> dict[str, AuditFact]:
    """Per version, the last word of dualpath_audit on whether it is applied: the witness that tells a
    deleted history row, or a dropped history table, from a change that never ran."""
    if not has_table(conn, audit_table.name):
        return {}
    t = audit_table
    rows = conn.execute(select(t.c.action, t.c.version, t.c.at, t.c.run_id, t.c.detail)
                        .where(t.c.action.in_(FACT_ACTIONS))
                        .order_by(t.c.id)).all()
    return facts_of([tuple(r) for r in rows])


def latest_rows(conn: Connection) -> dict[str, HistoryRow]:
    """The latest row per version, i.e. the current state of every version ever touched."""
    if not history_exists(conn):
        return {}
    return latest_of(list(conn.execute(select(history_table).order_by(history_table.c.id)).mappings()),
                      "applied_at")


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
    if not has_table(conn, audit_table.name):
        return []
    return [dict(r) for r in conn.execute(select(audit_table).order_by(audit_table.c.id)).mappings()]
