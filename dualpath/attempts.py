"""Which attempt of a change its progress rows (batch checkpoints, statement journal) belong to.

A change moves from state to state through successful history rows: applied, rolled back,
baselined, repaired. Everything the runs between two such rows write is one attempt, keyed by the
id of the successful row it started from (``history.attempt_of``; "0" before there is any). A run
that is killed or fails leaves rows of the current attempt, and the next run resumes from them.
Once another successful row is written those rows describe a run that is over: they are retired
before the change runs again and are never read as "done" (reads filter by attempt as well).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, literal, select, union_all, update

from dualpath.errors import TargetRefused
from dualpath.history import NO_ATTEMPT, batch_checkpoint_table, statement_journal_table

_TABLES = (batch_checkpoint_table, statement_journal_table)


@dataclass(frozen=True)
class ProgressRow:
    table: str
    version: str
    direction: str
    location: str
    attempt: str | None


def progress_rows(conn: Connection, versions: list[str]) -> list[ProgressRow]:
    """Every checkpoint and journal row of these versions, in one round trip (nearly always none). The
    tables hold only what runs left in flight and batches' checkpoints: all are read and filtered here
    (binding hundreds of versions cost more than the query)."""
    if not versions:
        return []
    wanted = set(versions)
    parts = [select(literal(t.name).label("tbl"), t.c.version, t.c.direction, t.c.location, t.c.attempt)
             for t in _TABLES]
    return [ProgressRow(*row) for row in conn.execute(union_all(*parts)) if row.version in wanted]


def retire_stale(conn: Connection, attempts: Mapping[str, str], direction: str) -> set[str]:
    """Before changes run in ``direction``: delete their rows of earlier attempts. Returns the versions
    whose statement journal still holds rows (this attempt's): the others need not read theirs.

    Rows from a dualpath that did not key them yet (attempt NULL) are this attempt's when the change
    never completed a run (a first apply that was interrupted); otherwise nothing tells an interrupted
    run from one that completed and was undone since, so a run that would read them is refused.
    """
    rows = progress_rows(conn, list(attempts))
    conn.commit()
    if not rows:
        return set()
    unknown = [r for r in rows if r.attempt is None and r.direction == direction
               and attempts[r.version] != NO_ATTEMPT]
    if unknown:
        first = unknown[0]
        raise TargetRefused(
            f"version {first.version}: {len(unknown)} progress row(s) of an earlier {_verb(direction)} "
            f"(from {first.location}) were written before dualpath kept which run they belong to, and the "
            "change has completed a run since, so they may describe a finished run rather than an interrupted "
            "one; nothing ran", where=first.location,
            hint=f"check whether those statements' work is in the database now; then `dualpath batches reset "
                 f"--version {first.version}` to run the change afresh (undo an interrupted run's part by hand first)")
    with conn.begin():
        for table in _TABLES:
            for version, attempt in attempts.items():
                if not any(r.table == table.name and r.version == version for r in rows):
                    continue
                if attempt == NO_ATTEMPT:  # never completed: unkeyed rows are this attempt's
                    conn.execute(update(table).where(and_(table.c.version == version, table.c.attempt.is_(None)))
                                 .values(attempt=attempt))
                conn.execute(delete(table).where(and_(
                    table.c.version == version,
                    (table.c.attempt != attempt) | table.c.attempt.is_(None))))
    return {r.version for r in rows if r.table == statement_journal_table.name
            and (r.attempt == attempts[r.version] or (r.attempt is None and attempts[r.version] == NO_ATTEMPT))}


def _verb(direction: str) -> str:
    return "apply" if direction == "up" else "rollback"
