"""Lock rehearsal: run a change's forward statements on a shadow and measure what each one really does.

After each statement (before COMMIT, while its locks are still held) the engine reports the
locks this session holds and each table's storage id; a new storage id means the table was
rewritten. Measured sits next to what the risk catalogue predicts, and a measured lock
stronger than the prediction becomes a finding: the catalogue is then wrong for this server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath.changes import Change, Statement
from dualpath.engines.base import Engine
from dualpath.errors import RunFailed
from dualpath.risk.catalogue import Catalogue
from dualpath.risk.check import build_context
from dualpath.risk.context import Item, same_name
from dualpath.risk.model import Finding
from dualpath.urls import redact

RULE = "DP-REHEARSAL"
DML = frozenset({"update", "delete", "insert", "insert_select"})


@dataclass(frozen=True)
class Measured:
    """One table touched by one statement: predicted next to measured."""

    version: str
    where: str  # file:line of the statement
    table: str
    operation: str
    predicted_lock: str
    predicted_rewrite: bool
    measured_lock: str | None  # None: not measurable on this engine (see note)
    rewritten: bool | None  # None: storage ids not readable
    stronger: bool  # measured lock ranks above the prediction
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rehearse_up(engine: Engine, conn: Connection, change: Change, catalogue: Catalogue,
                in_transaction: bool) -> list[Measured]:
    """Apply ``change`` forward on the shadow ``conn`` the way the runner would, measuring each statement.

    Raises RunFailed (with the statement's file:line) when a statement fails; its transaction is
    rolled back first.
    """
    items = build_context(change, catalogue, knows_rollback=True).forward
    measured: list[Measured] = []
    current: Statement | None = None
    try:
        if in_transaction:
            with conn.begin():
                for item in items:
                    current = item.statement
                    measured += _measure(engine, conn, change, item)
        else:
            for item in items:
                current = item.statement
                with conn.begin():
                    measured += _measure(engine, conn, change, item)
    except DBAPIError as exc:
        where = current.where if current else change.where
        raise RunFailed(f"version {change.version}: forward statement failed on the shadow: "
                        f"{_message(exc)}", where=where,
                        hint="fix the statement; the target was not touched") from None
    return measured


def _measure(engine: Engine, conn: Connection, change: Change, item: Item) -> list[Measured]:
    before_storage = engine.table_storage(conn)
    before_locks = engine.held_locks(conn)
    conn.exec_driver_sql(item.statement.text)
    after_locks = engine.held_locks(conn)
    after_storage = engine.table_storage(conn)
    taken = _newly_taken(engine, before_locks.locks, after_locks.locks)
    tables = {t for t in taken if t in before_storage}
    tables |= {t for t, node in after_storage.items() if t in before_storage and before_storage[t] != node}
    tables |= {_storage_key(e.table, before_storage) for e in item.effects
               if e.table and not item.is_new(e.table) and _present(e.table, before_storage)}
    rows = []
    for table in sorted(tables):
        rows.append(_row(engine, change, item, table, taken, after_locks.locks, after_locks.note,
                         before_storage, after_storage))
    return rows


def _newly_taken(engine: Engine, before: dict[str, str] | None, after: dict[str, str] | None) -> dict[str, str]:
    """Locks this statement added or upgraded; earlier statements' locks are held to COMMIT too."""
    if after is None:
        return {}
    before = before or {}
    return {t: m for t, m in after.items() if engine.lock_rank(m) > engine.lock_rank(before.get(t, ""))}


def _present(table: str, storage: dict[str, str]) -> bool:
    return any(same_name(table, t) for t in storage) or not storage


def _storage_key(table: str, storage: dict[str, str]) -> str:
    """The engine's spelling of a table the SQL names (``public.orders`` → ``orders``)."""
    return next((t for t in storage if same_name(table, t)), table)


def _row(engine: Engine, change: Change, item: Item, table: str, taken: dict[str, str],
         held: dict[str, str] | None, note: str, before: dict[str, str], after: dict[str, str]) -> Measured:
    effects = [e for e in item.effects if e.table and same_name(e.table, table)]
    predicted = max((e.lock for e in effects), key=engine.lock_rank, default="none")
    operation = ", ".join(sorted({e.operation for e in effects})) or "(not in the catalogue's view)"
    if held is not None and not engine.transactional_ddl and not all(e.operation in DML for e in item.effects):
        held, note = None, "not measurable: DDL commits implicitly and releases its metadata lock first"
    measured = None if held is None else taken.get(table, held.get(table, "none"))
    stronger = (held is not None and table in taken
                and engine.lock_rank(taken[table]) > max(engine.lock_rank(predicted), -1)
                and not predicted.startswith("unknown"))
    rewritten = None if not before else (table in before and table in after and before[table] != after[table])
    return Measured(version=change.version, where=item.statement.where, table=table, operation=operation,
                    predicted_lock=predicted, predicted_rewrite=any(e.cost == "rewrite" for e in effects),
                    measured_lock=measured, rewritten=rewritten, stronger=stronger,
                    note="" if held is not None else note)


def rehearsal_findings(measured: Sequence[Measured]) -> list[Finding]:
    """A finding per statement whose measured lock is stronger than the catalogue's prediction."""
    found = []
    for m in measured:
        if not m.stronger:
            continue
        file, _, line = m.where.rpartition(":")
        found.append(Finding(
            rule=RULE, severity="warning", file=file, line=int(line or 1), version=m.version,
            title="measured lock stronger than predicted",
            message=f"{m.measured_lock} measured on {m.table} ({m.operation}); the catalogue predicts "
                    f"{m.predicted_lock}",
            fix=f"plan this statement as taking {m.measured_lock} on {m.table} (window, lock timeout), "
                "and report the catalogue row as a risk-engine test case"))
    return found


def _message(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
