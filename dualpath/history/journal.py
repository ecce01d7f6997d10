"""The statement journal: one row per statement of a change in flight whose statements commit on
their own (see tables.statement_journal_table); a run killed half-way resumes where it stood."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select

from dualpath.engines import has_table
from dualpath.history.actor import Actor, now
from dualpath.history.record_rows import row_of
from dualpath.history.tables import statement_journal_table

STARTED, DONE = "started", "done"


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
    if not has_table(conn, t.name):
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
    conn.execute(t.insert().values(row_of(
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
