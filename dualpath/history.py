"""dualpath's own tables in the target: history of changes and an append-only audit log.

History is a log, not a state table: the state of a version is its latest row. That
keeps every failed attempt and every repair visible to whoever investigates later.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from getpass import getuser
from pathlib import Path
from typing import Any

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
    and_,
    delete,
    func,
    inspect,
    literal,
    null,
    select,
    text,
    union_all,
)

from dualpath.errors import PrivilegeMissing
from dualpath.redaction import redact, scrub
from dualpath.urls import safe_url

metadata = MetaData()

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
    Column("version", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # up | down
    Column("statement_index", Integer, nullable=False),  # position in the change's forward/rollback
    Column("location", String(512), nullable=False),  # file:line
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
    Column("version", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # up | down
    Column("statement_index", Integer, nullable=False),  # position in the change's forward/rollback
    Column("location", String(512), nullable=False),  # file:line
    Column("checksum", String(64), nullable=False),  # of the change when the statement started
    Column("state", String(16), nullable=False),  # started | done
    Column("schema_before", String(64), nullable=True),  # fingerprint digest before a started statement
    Column("session_id", String(64), nullable=True),  # the server session that ran it (to wait for)
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=False), nullable=False),
    Column("attempt", String(64), nullable=True),  # see dualpath/attempts.py; NULL: written before it existed
    UniqueConstraint("version", "direction", "statement_index", name="dualpath_statement_journal_statement"),
)

STARTED, DONE = "started", "done"
NO_ATTEMPT = "0"  # the attempt of a change no successful history row speaks of yet
_ATTEMPT_TABLES = (batch_checkpoint_table, statement_journal_table)


@dataclass(frozen=True)
class JournalRow:
    version: str
    direction: str
    statement_index: int
    location: str
    checksum: str
    state: str
    schema_before: str | None
    session_id: str | None
    run_id: str
    attempt: str | None


@dataclass(frozen=True)
class Actor:
    """Who does this run, from where, with which commit of the migrations."""

    run_id: str
    who: str
    host: str
    git_commit: str | None


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


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def make_actor(run_id: str, migrations: Path, who: str | None = None) -> Actor:
    return Actor(run_id=run_id, who=who or _current_user(), host=socket.gethostname(),
                 git_commit=git_commit_of(migrations))


def _current_user() -> str:
    try:
        return os.environ.get("DUALPATH_USER") or getuser()
    except OSError:  # no passwd entry in some containers
        return "unknown"


def git_commit_of(folder: Path) -> str | None:
    """The commit of the migrations folder when it lives in a git repository."""
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def history_exists(conn: Connection) -> bool:
    return inspect(conn).has_table(history_table.name)


def ensure_tables(conn: Connection) -> None:
    """dualpath's own tables, created where missing; a user who may not create them is told which grant helps."""
    from sqlalchemy.exc import DBAPIError

    from dualpath.engines import open_engine

    try:
        present = set(inspect(conn).get_table_names())  # one look, where create_all asks per table
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
    columns = ", ".join(_HISTORY_COLUMNS)
    with conn.begin() as transaction:
        conn.execute(text(f"INSERT INTO {history_table.name} ({columns}) "
                          f"SELECT {columns} FROM {history_table.name} WHERE 1 = 0"))
        transaction.rollback()


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


def _row(**values: Any) -> dict[str, Any]:
    """A row as it may be stored: every text in it through the one redaction (details carry driver
    errors and URLs), so no password reaches a dualpath_* table whoever wrote the detail."""
    return {key: redact(value) if isinstance(value, str) else value for key, value in values.items()}


def _json(detail: dict[str, Any] | None) -> str | None:
    return json.dumps(scrub(detail)) if detail else None


def attempt_of(conn: Connection, version: str) -> str:
    """The id of the version's latest successful history row (applied, rolled back, baselined, repaired):
    the run that starts next from that state is one attempt; progress rows are keyed by it."""
    t = history_table
    if not history_exists(conn):
        return NO_ATTEMPT
    found = conn.execute(select(func.max(t.c.id)).where(and_(t.c.version == version, t.c.success.is_(True))))
    latest = found.scalar()
    return NO_ATTEMPT if latest is None else str(latest)


def record(conn: Connection, actor: Actor, *, version: str, description: str, checksum: str,
           direction: str, duration_ms: int, success: bool, detail: dict[str, Any] | None = None) -> None:
    conn.execute(history_table.insert().values(_row(
        version=version, description=description[:512], checksum=checksum, direction=direction,
        applied_at=now(), applied_by=actor.who, duration_ms=duration_ms, success=success,
        run_id=actor.run_id, detail=_json(detail))))


_HISTORY_COLUMNS = ("version", "description", "checksum", "direction", "applied_at", "applied_by", "duration_ms",
                    "success", "run_id", "detail")
_AUDIT_COLUMNS = ("at", "action", "version", "run_id", "who", "host", "git_commit", "ticket", "detail")
_RECORD_AND_AUDIT_PG = text(
    f"WITH history_row AS (INSERT INTO {history_table.name} ({', '.join(_HISTORY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _HISTORY_COLUMNS)})) "
    f"INSERT INTO {audit_table.name} ({', '.join(_AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join(':a_' + c for c in _AUDIT_COLUMNS)})")


@dataclass(frozen=True)
class ChangeRecord:
    """A change's history row and its audit row, written together with the change."""

    history: dict[str, Any]
    audit: dict[str, Any]

    def write(self, conn: Connection) -> None:
        """On PostgreSQL in one statement (a data-modifying CTE): one round trip less per change."""
        if conn.dialect.name == "postgresql":  # SQLAlchemy's insert().values() costs more than the round trip
            conn.execute(_RECORD_AND_AUDIT_PG, {**self.history, **{f"a_{k}": v for k, v in self.audit.items()}})
            return
        conn.execute(history_table.insert(), self.history)
        conn.execute(audit_table.insert(), self.audit)

    def as_sql(self, literal: Callable[[Any], str]) -> str:
        """PostgreSQL's statement of ``write`` with its values as literals (``literal`` quotes one, the
        driver's way): for an engine that sends it in one message with COMMIT."""
        history_values = ", ".join(literal(self.history[c]) for c in _HISTORY_COLUMNS)
        audit_values = ", ".join(literal(self.audit[c]) for c in _AUDIT_COLUMNS)
        return (f"WITH history_row AS (INSERT INTO {history_table.name} ({', '.join(_HISTORY_COLUMNS)}) "
                f"VALUES ({history_values})) INSERT INTO {audit_table.name} ({', '.join(_AUDIT_COLUMNS)}) "
                f"VALUES ({audit_values})")


def change_record(actor: Actor, *, version: str, description: str, checksum: str, direction: str, duration_ms: int,
                  success: bool, detail: dict[str, Any] | None, action: str, ticket: str | None,
                  audit_detail: dict[str, Any]) -> ChangeRecord:
    """The rows ``record_and_audit`` writes, every text through the one redaction."""
    at = now()
    history_values = _row(version=version, description=description[:512], checksum=checksum, direction=direction,
                          applied_at=at, applied_by=actor.who, duration_ms=duration_ms, success=success,
                          run_id=actor.run_id, detail=_json(detail))
    audit_values = _row(at=at, action=action, version=version, run_id=actor.run_id, who=actor.who,
                        host=actor.host, git_commit=actor.git_commit, ticket=ticket, detail=_json(audit_detail))
    return ChangeRecord(history_values, audit_values)


def record_and_audit(conn: Connection, actor: Actor, *, version: str, description: str, checksum: str,
                     direction: str, duration_ms: int, success: bool, detail: dict[str, Any] | None,
                     action: str, ticket: str | None, audit_detail: dict[str, Any]) -> None:
    """The history row and its audit row (see ChangeRecord)."""
    change_record(actor, version=version, description=description, checksum=checksum, direction=direction,
                  duration_ms=duration_ms, success=success, detail=detail, action=action, ticket=ticket,
                  audit_detail=audit_detail).write(conn)


def audit(conn: Connection, actor: Actor, action: str, *, version: str | None = None,
          ticket: str | None = None, detail: dict[str, Any] | None = None) -> None:
    conn.execute(audit_table.insert().values(_row(
        at=now(), action=action, version=version, run_id=actor.run_id, who=actor.who, host=actor.host,
        git_commit=actor.git_commit, ticket=ticket, detail=_json(detail))))


def audit_rows(conn: Connection) -> list[dict[str, Any]]:
    if not inspect(conn).has_table(audit_table.name):
        return []
    return [dict(r) for r in conn.execute(select(audit_table).order_by(audit_table.c.id)).mappings()]


def journal_of(conn: Connection, version: str, direction: str, attempt: str | None = None) -> dict[int, JournalRow]:
    """The journal of one change in one direction (of one attempt, if given), by statement index."""
    t = statement_journal_table
    where = [t.c.version == version, t.c.direction == direction]
    if attempt is not None:
        where.append(t.c.attempt == attempt)
    rows = conn.execute(select(t).where(and_(*where))).mappings()
    return {r["statement_index"]: JournalRow(**{k: r[k] for k in JournalRow.__dataclass_fields__}) for r in rows}


def journal_all(conn: Connection) -> list[JournalRow]:
    """Every journal row: the changes a run left half-way."""
    t = statement_journal_table
    if not inspect(conn).has_table(t.name):
        return []
    rows = conn.execute(select(t).order_by(t.c.version, t.c.direction, t.c.statement_index)).mappings()
    return [JournalRow(**{k: r[k] for k in JournalRow.__dataclass_fields__}) for r in rows]


def journal_mark(conn: Connection, actor: Actor, *, version: str, direction: str, index: int, location: str,
                 checksum: str, state: str, attempt: str, schema_before: str | None = None,
                 session_id: str | None = None, replace: bool = True) -> None:
    """Write a statement's journal row, replacing an earlier one of the same statement unless the
    caller knows there is none (``replace=False``: one round trip instead of two)."""
    t = statement_journal_table
    if replace:
        conn.execute(delete(t).where(and_(t.c.version == version, t.c.direction == direction,
                                          t.c.statement_index == index)))
    conn.execute(t.insert().values(_row(
        version=version, direction=direction, statement_index=index, location=location[:512], checksum=checksum,
        state=state, schema_before=schema_before, session_id=session_id, run_id=actor.run_id, updated_at=now(),
        attempt=attempt)))


def journal_set_done(conn: Connection, actor: Actor, *, version: str, direction: str, index: int,
                     location: str, checksum: str, attempt: str) -> None:
    """Mark a statement done: its "started" row updated in place (one round trip), or written if none is there."""
    t = statement_journal_table
    where = and_(t.c.version == version, t.c.direction == direction, t.c.statement_index == index)
    found = conn.execute(t.update().where(where).values(state=DONE, run_id=actor.run_id, updated_at=now(),
                                                        checksum=checksum, attempt=attempt))
    if not found.rowcount:  # matched rows (PyMySQL reports found rows, as the other drivers do)
        journal_mark(conn, actor, version=version, direction=direction, index=index, location=location,
                     checksum=checksum, state=DONE, attempt=attempt, replace=False)


def journal_unmark(conn: Connection, version: str, direction: str, index: int, state: str) -> None:
    """Drop one statement's row if it is in ``state`` (a started statement the server refused)."""
    t = statement_journal_table
    conn.execute(delete(t).where(and_(t.c.version == version, t.c.direction == direction,
                                      t.c.statement_index == index, t.c.state == state)))


def journal_forget(conn: Connection, version: str) -> int:
    """Drop a change's journal (both directions) once it completed or was repaired; returns rows dropped."""
    t = statement_journal_table
    return int(conn.execute(delete(t).where(t.c.version == version)).rowcount or 0)
