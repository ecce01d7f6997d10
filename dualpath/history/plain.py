"""dualpath's history and audit rows read over a DB-API connection alone (engines/plain.py): the same
query and the same judgement (history/rows.py) as history/read.py, without SQLAlchemy's import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dualpath.history.rows import FACT_ACTIONS, AuditFact, HistoryRow, facts_of, latest_of

HISTORY, AUDIT = "dualpath_history", "dualpath_audit"  # history/tables.py names them; a test holds the two equal
# every table of history/tables.py, the columns of its history table, the tables with an attempt column
# (a test holds these equal to the tables' definitions)
TABLES = (HISTORY, AUDIT, "dualpath_batch_checkpoint", "dualpath_statement_journal")
HISTORY_COLUMNS = ("id", "version", "description", "checksum", "direction", "applied_at", "applied_by",
                   "duration_ms", "success", "run_id", "detail")
ATTEMPT_TABLES = ("dualpath_batch_checkpoint", "dualpath_statement_journal")
# what a run writes of each row (history/tables.py takes these; the id is the server's)
WRITTEN_HISTORY_COLUMNS = HISTORY_COLUMNS[1:]
AUDIT_COLUMNS = ("at", "action", "version", "run_id", "who", "host", "git_commit", "ticket", "detail")

_HISTORY_SQL = (f"SELECT 'h' AS src, id, version, description, checksum, direction, applied_at AS at, applied_by, "
                f"success, detail, NULL AS action, NULL AS run_id FROM {HISTORY}")
_AUDIT_SQL = (f"SELECT 'a' AS src, id, version, NULL, NULL, NULL, at, NULL, NULL, detail, action, run_id "
              f"FROM {AUDIT} WHERE action IN ({', '.join(repr(a) for a in FACT_ACTIONS)})")
_COLUMNS = ("src", "id", "version", "description", "checksum", "direction", "at", "applied_by", "success",
            "detail", "action", "run_id")


def read_history_plain(conn: Any, present: set[str]) -> tuple[dict[str, HistoryRow], dict[str, AuditFact]]:
    """``history.read_history`` over a DB-API connection; ``present``: which of the two tables exist."""
    parts = ([_HISTORY_SQL] if HISTORY in present else []) + ([_AUDIT_SQL] if AUDIT in present else [])
    if not parts:
        return {}, {}
    cursor = conn.cursor()
    cursor.execute(" UNION ALL ".join(parts) + " ORDER BY src, id")
    rows = [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["at"] = _datetime(row["at"])
    history_rows = [r for r in rows if r["src"] == "h"]
    audit = [(r["action"], r["version"], r["at"], r["run_id"], r["detail"]) for r in rows if r["src"] == "a"]
    return latest_of(history_rows, "at"), facts_of(audit)


def _datetime(value: Any) -> Any:
    """SQLite keeps DateTime as text (SQLAlchemy's format); the servers' drivers return datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def tables_current(conn: Any, present: set[str]) -> bool:
    """Every dualpath table there as this dualpath makes them: nothing for ``history.ensure_tables`` to
    create or add, no history column it does not know (which a run refuses: ``history.foreign_columns``).
    ``present``: which of TABLES exist. A table without the attempt column raises the driver's error."""
    if set(TABLES) - present:
        return False
    cursor = conn.cursor()
    cursor.execute(f"SELECT * FROM {HISTORY} WHERE 1 = 0")
    if {str(column[0]).lower() for column in cursor.description} - set(HISTORY_COLUMNS):
        return False
    for table in ATTEMPT_TABLES:
        cursor.execute(f"SELECT attempt FROM {table} WHERE 1 = 0")
    return True
