"""dualpath's own tables in the target (history, audit, batch checkpoints, statement journal):
their definitions, their creation and the checks of what the server holds."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)

from dualpath.engines import has_table, table_names
from dualpath.errors import PrivilegeMissing
from dualpath.history.plain import WRITTEN_HISTORY_COLUMNS
from dualpath.redaction import redact
from dualpath.urls import safe_url

metadata = MetaData()


def _statement_columns() -> list[Column[object]]:
    """Where a statement of a change stands: the key of checkpoint and journal rows (new objects each
    call: a Column belongs to one table)."""
    return [
        Column("version", String(64), nullable=False),
        Column("direction", String(8), nullable=False),  # up | down
        Column("statement_index", Integer, nullable=False),  # position in the change's forward/rollback
        Column("location", String(512), nullable=False),  # file:line
    ]


history_table = Table(
    "dualpath_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, index=True),
    Column("description", String(512), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # up | down | baseline | repair
    Column("applied_at", DateTime(timezone=False), nullable=False),
    Column("applied_by", String(128), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("detail", Text, nullable=True),  # JSON: statements that ran, what to run by hand
)

audit_table = Table(
    "dualpath_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=False), nullable=False),
    Column("action", String(32), nullable=False),
    Column("version", String(64), nullable=True),
    Column("run_id", String(64), nullable=False),
    Column("who", String(128), nullable=False),
    Column("host", String(255), nullable=False),
    Column("git_commit", String(64), nullable=True),
    Column("ticket", String(64), nullable=True),
    Column("detail", Text, nullable=True),
)

# One row per statement of a change that holds a batch (dualpath/batching): where the batch
# stands, written in the same transaction as each chunk so a kill never loses or repeats one.
batch_checkpoint_table = Table(
    "dualpath_batch_checkpoint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_statement_columns(),
    Column("checksum", String(64), nullable=False),  # of the change when the batch started
    Column("table_name", String(255), nullable=True),  # None: a plain statement of a batched change
    Column("last_key", Text, nullable=True),  # JSON list of the last key done, typed (see batching/keys.py)
    Column("rows_done", BigInteger, nullable=False),  # rows the statement changed
    Column("keys_done", BigInteger, nullable=False),  # rows of the table paged past
    Column("chunk_size", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # running | paused | cancelled | done
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=False), nullable=False),
    Column("updated_by", String(128), nullable=True),  # who paused, resumed or cancelled
    Column("attempt", String(64), nullable=True),  # see dualpath/attempts.py; NULL: written before it existed
    UniqueConstraint("version", "direction", "statement_index", name="dualpath_batch_checkpoint_statement"),
)


# One row per statement of a change in flight whose statements commit on their own (MySQL/MariaDB
# DDL, PostgreSQL no-transaction statements): "started" (with the schema digest before it) is
# committed before the statement runs, "done" with or right after it. A run killed half-way leaves
# exactly where it stood; the next run resumes at the next statement. Rows go when the change completes.
statement_journal_table = Table(
    "dualpath_statement_journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_statement_columns(),
    Column("checksum", String(64), nullable=False),  # of the change when the statement started
    Column("state", String(16), nullable=False),  # started | done
    Column("schema_before", String(64), nullable=True),  # fingerprint digest before a started statement
    Column("session_id", String(64), nullable=True),  # the server session that ran it (to wait for)
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=False), nullable=False),
    Column("attempt", String(64), nullable=True),  # see dualpath/attempts.py; NULL: written before it existed
    UniqueConstraint("version", "direction", "statement_index", name="dualpath_statement_journal_statement"),
)

_ATTEMPT_TABLES = (batch_checkpoint_table, statement_journal_table)
HISTORY_COLUMNS = WRITTEN_HISTORY_COLUMNS  # what a run writes: history/plain.py names them for both paths


def history_exists(conn: Connection) -> bool:
    return has_table(conn, history_table.name)


def ensure_tables(conn: Connection) -> None:
    """dualpath's own tables, created where missing; a user who may not create them is told which grant helps."""
    from sqlalchemy.exc import DBAPIError

    from dualpath.engines import open_engine

    try:
        present = set(table_names(conn))  # one look, where create_all asks per table
        missing = [t for t in metadata.sorted_tables if t.name not in present]
        if missing:
            metadata.create_all(conn, tables=missing, checkfirst=False)
        _add_attempt_columns(conn, [t for t in _ATTEMPT_TABLES if t not in missing])
    except DBAPIError as exc:
        engine = open_engine(conn.engine.url)
        if not engine.is_permission_denied(exc):
            raise
        conn.rollback()
        reason = redact(" ".join(str(exc.orig).split()))
        raise PrivilegeMissing(
            f"user {conn.engine.url.username or '(default)'} may not create dualpath's tables (dualpath_history, "
            f"dualpath_audit, ...) in {safe_url(conn.engine.url)}: {reason}",
            hint=f"{engine.table_grant_hint(conn)}; or run dualpath apply once as a user who may create them "
                 "(then this user needs SELECT, INSERT, UPDATE on them)") from None


def probe_write(conn: Connection) -> None:
    """Fail now, with the server's own error, if this connection may not write the history (read-only
    session or server, no INSERT privilege): a write of no rows, rolled back."""
    columns = ", ".join(HISTORY_COLUMNS)
    with conn.begin() as transaction:
        conn.execute(text(f"INSERT INTO {history_table.name} ({columns}) "
                          f"SELECT {columns} FROM {history_table.name} WHERE 1 = 0"))
        transaction.rollback()


def foreign_columns(conn: Connection) -> list[str]:
    """Columns of dualpath_history this dualpath does not know (a newer dualpath's, or added by hand)."""
    if not history_exists(conn):
        return []
    known = {c.name for c in history_table.columns}
    return [name for name in _column_names(conn, history_table) if name.lower() not in known]


def _column_names(conn: Connection, table: Table) -> list[str]:
    """The table's columns as the server has them: a query of no rows (reflection costs several)."""
    return list(conn.execute(select(text("*")).select_from(table).where(text("1 = 0"))).keys())


def _add_attempt_columns(conn: Connection, tables: list[Table]) -> None:
    """Tables made by an earlier dualpath lack ``attempt``: add it (rows already there keep NULL)."""
    for table in tables:
        if "attempt" not in {name.lower() for name in _column_names(conn, table)}:
            kind = table.c.attempt.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN attempt {kind}")
