"""Reading and writing dualpath_batch_checkpoint rows (the table lives in dualpath/history.py).

The chunk's own transaction writes ``advance``: the row and the data move together or not
at all. State changes from another terminal (pause, resume, cancel) touch only ``state``,
so they never undo a chunk's progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, select, update

from dualpath.engines import has_table
from dualpath.history import batch_checkpoint_table as table
from dualpath.history import statement_journal_table as journal_table

RUNNING, PAUSED, CANCELLED, DONE = "running", "paused", "cancelled", "done"


@dataclass(frozen=True)
class Checkpoint:
    id: int
    version: str
    direction: str
    statement_index: int
    location: str
    checksum: str
    table_name: str | None
    last_key: str | None
    rows_done: int
    keys_done: int
    chunk_size: int
    state: str
    run_id: str
    updated_at: datetime
    updated_by: str | None
    attempt: str | None  # see dualpath/attempts.py

    @classmethod
    def of(cls, row: Any) -> Checkpoint:
        return cls(**{c.name: row[c.name] for c in table.columns})


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def table_exists(conn: Connection) -> bool:
    return has_table(conn, table.name)


def of_change(conn: Connection, version: str, direction: str, attempt: str) -> dict[int, Checkpoint]:
    """This change's rows for one direction of one attempt, by statement index."""
    rows = conn.execute(select(table).where(and_(table.c.version == version, table.c.direction == direction,
                                                 table.c.attempt == attempt)))
    return {r.statement_index: r for r in (Checkpoint.of(m) for m in rows.mappings())}


def read(conn: Connection, checkpoint_id: int) -> Checkpoint:
    return Checkpoint.of(conn.execute(select(table).where(table.c.id == checkpoint_id)).mappings().one())


def state_of(conn: Connection, checkpoint_id: int) -> str:
    return str(conn.execute(select(table.c.state).where(table.c.id == checkpoint_id)).scalar_one())


def start(conn: Connection, *, version: str, direction: str, index: int, location: str, checksum: str,
          table_name: str | None, chunk_size: int, run_id: str, attempt: str, state: str = RUNNING) -> int:
    """Insert the row for a statement about to run; returns its id."""
    result = conn.execute(table.insert().values(
        version=version, direction=direction, statement_index=index, location=location, checksum=checksum,
        table_name=table_name, last_key=None, rows_done=0, keys_done=0, chunk_size=chunk_size,
        state=state, run_id=run_id, updated_at=now(), updated_by=None, attempt=attempt))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def advance(conn: Connection, checkpoint_id: int, *, last_key: str, rows: int, keys: int,
            chunk_size: int) -> None:
    """Inside the chunk's transaction: move the row past the chunk."""
    conn.execute(update(table).where(table.c.id == checkpoint_id).values(
        last_key=last_key, rows_done=table.c.rows_done + rows, keys_done=table.c.keys_done + keys,
        chunk_size=chunk_size, updated_at=now()))


def claim(conn: Connection, checkpoint_id: int, run_id: str) -> None:
    """A run that resumes a batch takes the row over (state stays as it is)."""
    conn.execute(update(table).where(table.c.id == checkpoint_id).values(run_id=run_id, updated_at=now()))


def finish(conn: Connection, checkpoint_id: int) -> None:
    conn.execute(update(table).where(table.c.id == checkpoint_id).values(state=DONE, updated_at=now()))


def set_state(conn: Connection, new: str, *, from_states: tuple[str, ...], who: str,
              version: str | None = None) -> list[Checkpoint]:
    """pause/resume/cancel: move the rows in ``from_states`` (of one version, or all) to ``new``."""
    where: list[ColumnElement[bool]] = [table.c.state.in_(from_states)]
    if version is not None:
        where.append(table.c.version == version)
    chosen = [Checkpoint.of(m) for m in conn.execute(select(table).where(and_(*where))).mappings()]
    if chosen:
        conn.execute(update(table).where(table.c.id.in_([c.id for c in chosen])).values(
            state=new, updated_at=now(), updated_by=who))
    return chosen


def all_rows(conn: Connection) -> list[Checkpoint]:
    if not table_exists(conn):
        return []
    rows = conn.execute(select(table).order_by(table.c.version, table.c.direction, table.c.statement_index))
    return [Checkpoint.of(m) for m in rows.mappings()]


def forget(conn: Connection, version: str, direction: str | None = None) -> int:
    """Delete a change's rows (one direction, or both); returns how many went. Both (a reset: the change
    starts afresh) also drops its statement journal, or a statement left in doubt would be skipped."""
    where: list[ColumnElement[bool]] = [table.c.version == version]
    if direction is not None:
        where.append(table.c.direction == direction)
    elif has_table(conn, journal_table.name):
        conn.execute(delete(journal_table).where(journal_table.c.version == version))
    return int(conn.execute(delete(table).where(and_(*where))).rowcount or 0)
