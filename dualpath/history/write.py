"""The rows a run writes about a change (history and audit), every text through the one redaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from dualpath.history.actor import Actor, now
from dualpath.history.plain import AUDIT_COLUMNS
from dualpath.history.record_rows import json_of, record_rows, record_sql, row_of
from dualpath.history.tables import HISTORY_COLUMNS, audit_table, history_table


def record(conn: Connection, actor: Actor, *, version: str, description: str, checksum: str,
           direction: str, duration_ms: int, success: bool, detail: dict[str, Any] | None = None) -> None:
    conn.execute(history_table.insert().values(row_of(
        version=version, description=description[:512], checksum=checksum, direction=direction,
        applied_at=now(), applied_by=actor.who, duration_ms=duration_ms, success=success,
        run_id=actor.run_id, detail=json_of(detail))))


# SQLAlchemy's insert().values() costs more than the round trip it saves: a prepared text
_RECORD_AND_AUDIT = text(
    f"WITH history_row AS (INSERT INTO {history_table.name} ({', '.join(HISTORY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in HISTORY_COLUMNS)})) "
    f"INSERT INTO {audit_table.name} ({', '.join(AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join(':a_' + c for c in AUDIT_COLUMNS)})")


@dataclass(frozen=True)
class ChangeRecord:
    """A change's history row and its audit row, written together with the change."""

    history: dict[str, Any]
    audit: dict[str, Any]

    def write(self, conn: Connection) -> None:
        """Both rows, one INSERT each (what every engine can do; see Engine.write_change_record)."""
        conn.execute(history_table.insert(), self.history)
        conn.execute(audit_table.insert(), self.audit)

    def write_combined(self, conn: Connection) -> None:
        """Both rows in one statement (a data-modifying CTE, PostgreSQL's): one round trip less per change."""
        conn.execute(_RECORD_AND_AUDIT, {**self.history, **{f"a_{k}": v for k, v in self.audit.items()}})

    def as_sql(self, literal: Callable[[Any], str], server_elapsed: str = "") -> str:
        """PostgreSQL's statement of ``write`` with its values as literals (history/record_rows.py): for an
        engine that sends it in one message with COMMIT; ``server_elapsed`` as ``record_sql`` takes it."""
        return record_sql(self.history, self.audit, literal, server_elapsed)


def change_record(actor: Actor, *, version: str, description: str, checksum: str, direction: str, duration_ms: int,
                  success: bool, detail: dict[str, Any] | None, action: str, ticket: str | None,
                  audit_detail: dict[str, Any]) -> ChangeRecord:
    """The rows ``record_and_audit`` writes, every text through the one redaction (history/record_rows.py)."""
    return ChangeRecord(*record_rows(actor, version=version, description=description, checksum=checksum,
                                     direction=direction, duration_ms=duration_ms, success=success, detail=detail,
                                     action=action, ticket=ticket, audit_detail=audit_detail))


def audit(conn: Connection, actor: Actor, action: str, *, version: str | None = None,
          ticket: str | None = None, detail: dict[str, Any] | None = None) -> None:
    conn.execute(audit_table.insert().values(row_of(
        at=now(), action=action, version=version, run_id=actor.run_id, who=actor.who, host=actor.host,
        git_commit=actor.git_commit, ticket=ticket, detail=json_of(detail))))
