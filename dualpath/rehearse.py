"""Lock rehearsal: run a change's forward statements on a shadow and measure what each one really does.

After each statement (before COMMIT, while its locks are still held) the engine reports the
locks this session holds and each table's storage id; a new storage id means the table was
rewritten. Statements whose locks are gone once they return (MySQL/MariaDB DDL commits
implicitly; PostgreSQL CONCURRENTLY and VACUUM run outside a transaction block) are watched
from other sessions while they run instead (``MeasuresStatements``); each row says how.
Measured sits next to what the risk catalogue predicts, and a measured lock stronger than the
prediction becomes a finding (DP062): the catalogue is then wrong for this server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath.changes import Change, Statement
from dualpath.engines.base import Engine
from dualpath.engines.probes import LockReading, MeasuresStatements
from dualpath.engines.verbatim import run_statement
from dualpath.errors import RunFailed
from dualpath.redaction import redact
from dualpath.risk.catalogue import Catalogue
from dualpath.risk.check import build_context, check_rehearsal
from dualpath.risk.context import Item, same_name
from dualpath.risk.model import Finding, Measured

DML = frozenset({"update", "delete", "insert", "insert_select"})
ON_AN_INDEX = frozenset({"drop_index", "reindex", "rename_index"})


def rehearse_up(engine: Engine, conn: Connection, change: Change, catalogue: Catalogue,
                in_transaction: bool, reset: Callable[[Connection], None] | None = None) -> list[Measured]:
    """Apply ``change`` forward on the shadow ``conn`` the way the runner would, measuring each statement;
    ``reset`` then puts the session back as the runner does after a change (its SET search_path must not
    reach the next change's rehearsal).

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
                    measured += _measure(engine, conn, change, item, catalogue.blocks)
        else:
            for item in items:
                current = item.statement
                if item.statement.gexec and _alone(engine, change, item):  # runs what its query returns too
                    with engine.autocommit(conn):
                        run_statement(conn, item.statement)
                    continue
                if _watched(engine, change, item):
                    measured += _measure(engine, conn, change, item, catalogue.blocks, watched=True)
                    # the reads around it autobegan a transaction (the DDL itself committed): end it,
                    # so the next statement starts its own, as the runner's does
                    conn.commit()
                    continue
                with conn.begin():
                    measured += _measure(engine, conn, change, item, catalogue.blocks)
        if reset is not None:
            with conn.begin():
                reset(conn)
    except DBAPIError as exc:
        where = current.where if current else change.where
        raise RunFailed(f"version {change.version}: forward statement failed on the shadow: "
                        f"{_message(exc)}", where=where,
                        hint="fix the statement; the target was not touched") from None
    return measured


def _alone(engine: Engine, change: Change, item: Item) -> bool:
    """Run with no transaction block, as the runner runs it (apply.py outside_transaction)."""
    return engine.transactional_ddl and (item.statement.no_transaction
                                         or change.directive("no-transaction") is not None)


def _watched(engine: Engine, change: Change, item: Item) -> bool:
    """Statements whose locks are gone when they return: measured from other sessions while they run.

    DDL where it commits implicitly (MySQL/MariaDB), and no-transaction statements where DDL is
    transactional (PostgreSQL CONCURRENTLY, VACUUM), which the runner runs outside a transaction block.
    """
    if not isinstance(engine, MeasuresStatements) or item.statement.gexec:  # its results run too: not watched
        return False
    if engine.transactional_ddl:
        return item.statement.no_transaction or change.directive("no-transaction") is not None
    return not all(e.operation in DML for e in item.effects)


def _measure(engine: Engine, conn: Connection, change: Change, item: Item, blocks: dict[str, str],
             watched: bool = False) -> list[Measured]:
    before_storage = engine.table_storage(conn)
    if watched:
        assert isinstance(engine, MeasuresStatements)
        probe = sorted({_storage_key(e.table, before_storage) for e in item.effects if e.table
                        and not item.is_new(e.table) and any(same_name(e.table, t) for t in before_storage)})
        reading = engine.measure_statement(conn, item.statement.text, probe)
        taken = dict(reading.locks or {})
        after_locks = LockReading(taken if reading.locks is not None else None, reading.note)
    else:
        before_locks = engine.held_locks(conn)
        run_statement(conn, item.statement)
        after_locks = engine.held_locks(conn)
        taken = _newly_taken(engine, before_locks.locks, after_locks.locks)
    after_storage = engine.table_storage(conn)
    taken = _renamed_back(taken, before_storage, after_storage)
    tables = {t for t in taken if t in before_storage}
    tables |= {t for t, node in after_storage.items() if t in before_storage and before_storage[t] != node}
    tables |= {_storage_key(e.table, before_storage) for e in item.effects
               if e.table and not item.is_new(e.table) and _present(e.table, before_storage)}
    return [_row(engine, change, item, table, taken, after_locks, before_storage, after_storage, blocks)
            for table in sorted(tables)]


def _renamed_back(taken: dict[str, str], before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """A table renamed by the statement keeps its storage id: report its lock under the name it had."""
    gone = {node: name for name, node in before.items() if name not in after}
    return {gone.get(after.get(t, ""), t) if t not in before else t: mode for t, mode in taken.items()}


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


def harmless(measured: str, predicted: str, blocks: dict[str, str]) -> bool:
    """A lock that blocks no reads or writes (a read's ACCESS SHARE, a foreign key check's ROW SHARE)
    on a table the catalogue expects no lock on: the catalogue cannot name every table a statement
    reads, and nothing waits on it but DDL."""
    return predicted == "none" and blocks.get(measured, "none") == "none"


def _row(engine: Engine, change: Change, item: Item, table: str, taken: dict[str, str], reading: LockReading,
         before: dict[str, str], after: dict[str, str], blocks: dict[str, str]) -> Measured:
    effects = [e for e in item.effects if e.table and same_name(e.table, table)]
    if not effects:  # DROP INDEX i, REINDEX INDEX i: the SQL does not name the table the index is on
        effects = [e for e in item.effects if e.table is None and e.operation in ON_AN_INDEX]
    predicted = max((e.lock for e in effects), key=engine.lock_rank, default="none")
    operation = ", ".join(sorted({e.operation for e in effects})) or "(not in the catalogue's view)"
    held = reading.locks
    measured = None if held is None else taken.get(table, held.get(table, "none"))
    stronger = (held is not None and table in taken
                and engine.lock_rank(taken[table]) > engine.lock_rank(predicted)
                and not predicted.startswith("unknown") and not harmless(taken[table], predicted, blocks))
    rewritten = None if not before else (table in before and table in after and before[table] != after[table])
    return Measured(version=change.version, where=item.statement.where, table=table, operation=operation,
                    predicted_lock=predicted, predicted_rewrite=any(e.cost == "rewrite" for e in effects),
                    measured_lock=measured, rewritten=rewritten, stronger=stronger,
                    note="" if held is not None else reading.note, method=reading.note if held is not None else "")


def rehearsal_findings(measured: Sequence[Measured]) -> list[Finding]:
    """A finding (rule DP062) per table whose measured lock is stronger than the catalogue's prediction."""
    return check_rehearsal(measured)


def _message(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
