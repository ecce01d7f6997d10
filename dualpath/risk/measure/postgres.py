"""The PostgreSQL prober: one catalog read before and after each statement, in the change's transaction.

Each read takes, for every user table and index: its storage (``relfilenode``: a new one means a
rewrite or an index rebuild), the statistics counters (sequential scans, rows they returned, rows
inserted/updated/deleted: the shared counters plus this backend's pending ones, read after
``pg_stat_clear_snapshot()``, so they add up the same whether or not they were flushed), the lock
modes this backend holds on it (``pg_locks``: inside a transaction they are held until COMMIT) and
its constraints with whether they are validated. The difference is what the statement did.
Indexes are compared by name: ``ALTER COLUMN TYPE`` re-creates them under a new oid, keeping the old
storage when no rebuild is needed.

A statement that cannot run in a transaction block (CONCURRENTLY, VACUUM) commits before its locks
can be read from its own session: the engine's probe watches it from other sessions instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines.postgres.engine import PostgresEngine
from dualpath.engines.postgres.probes import lock_name, lock_rank
from dualpath.engines.probes import MeasuresStatements
from dualpath.engines.verbatim import run_statement, run_verbatim
from dualpath.risk.context import Item, same_name
from dualpath.risk.measure.observation import Observation, TableWork

_READ = text("""
WITH mine AS (
  SELECT relation, array_agg(mode) AS modes FROM pg_locks
   WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation' GROUP BY relation),
cons AS (
  SELECT conrelid, array_agg(conname || ':' || convalidated::text) AS list FROM pg_constraint
   WHERE conrelid <> 0 GROUP BY conrelid)
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relfilenode, i.indrelid,
       pg_stat_get_numscans(c.oid) + pg_stat_get_xact_numscans(c.oid),
       pg_stat_get_tuples_returned(c.oid) + pg_stat_get_xact_tuples_returned(c.oid),
       pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_inserted(c.oid),
       pg_stat_get_tuples_updated(c.oid) + pg_stat_get_xact_tuples_updated(c.oid),
       pg_stat_get_tuples_deleted(c.oid) + pg_stat_get_xact_tuples_deleted(c.oid),
       mine.modes, cons.list
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
  LEFT JOIN mine ON mine.relation = c.oid
  LEFT JOIN cons ON cons.conrelid = c.oid
 WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'""")
TABLE_KINDS = frozenset({"r", "p", "m"})


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str
    storage: int
    table: int | None  # an index's table
    scans: int = 0
    read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    lock: str = ""  # strongest mode this backend holds
    constraints: dict[str, bool] = field(default_factory=dict)


Snapshot = dict[int, Relation]


class PostgresProber:
    """Measures statements on a PostgreSQL shadow."""

    method = "measured on a shadow (relfilenode, pg_locks of the session before COMMIT, pg_stat counters)"

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine

    def prepare(self, conn: Connection) -> None:
        """Fill the materialized views from the sampled rows: ``pg_dump --schema-only`` leaves them
        unpopulated, and a REFRESH ... CONCURRENTLY of an unpopulated one is refused."""
        todo = [str(n) for (n,) in conn.execute(text(
            "SELECT format('%I.%I', schemaname, matviewname) FROM pg_matviews WHERE NOT ispopulated"))]
        while todo:  # one built on another waits for it
            failed = []
            for name in todo:
                try:
                    with conn.begin_nested():
                        run_verbatim(conn, f"REFRESH MATERIALIZED VIEW {name}")
                except DBAPIError:
                    failed.append(name)
            if len(failed) == len(todo):
                break
            todo = failed
        conn.commit()

    def snapshot(self, conn: Connection) -> Snapshot:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        found: Snapshot = {}
        for (oid, schema, name, kind, storage, table, scans, read, ins, upd, dele, modes,
             constraints) in conn.execute(_READ):
            strongest = max((lock_name(m) for m in modes or ()), key=lock_rank, default="")
            found[int(oid)] = Relation(
                name=self.engine.scope.qualify(schema, name), kind=str(kind), storage=int(storage),
                table=int(table) if table is not None else None, scans=int(scans or 0), read=int(read or 0),
                inserted=int(ins or 0), updated=int(upd or 0), deleted=int(dele or 0), lock=strongest,
                constraints={c.rsplit(":", 1)[0]: c.endswith(":true") for c in constraints or ()})
        return found

    def measure(self, conn: Connection, item: Item, start: Snapshot, version: str, in_block: bool) -> Observation:
        """Run ``item`` on ``conn`` (inside the change's transaction when ``in_block``) and observe it."""
        before = self.snapshot(conn)
        outside: dict[str, str] | None = None
        how = self.method
        if in_block or item.statement.gexec or not isinstance(self.engine, MeasuresStatements):
            run_statement(conn, item.statement)  # a \gexec query's results run too
        else:
            tables = [r.name for r in before.values() if r.kind in TABLE_KINDS
                      and any(e.table and same_name(e.table, r.name) for e in item.effects)]
            reading = self.engine.measure_statement(conn, item.statement.text, tables)
            outside, how = reading.locks or {}, f"{self.method}; locks: {reading.note}"
        after = self.snapshot(conn)
        works = [self._work(conn, oid, item, start, before, after, outside)
                 for oid in sorted(set(before) | set(after)) if (after.get(oid) or before[oid]).kind in TABLE_KINDS]
        return Observation(version=version, where=item.statement.where, method=how,
                           tables=tuple(w for w in works if w is not None))

    def _work(self, conn: Connection, oid: int, item: Item, start: Snapshot, before: Snapshot, after: Snapshot,
              outside: dict[str, str] | None) -> TableWork | None:
        old, new = before.get(oid), after.get(oid)
        now = new or old
        assert now is not None
        if old is None or new is None:  # made or dropped by the statement: nothing to compare
            return None
        rebuilt, built = _indexes(oid, before, after)
        rewritten = old.storage != new.storage and new.storage != 0
        written = (new.inserted - old.inserted) + (new.updated - old.updated) + (new.deleted - old.deleted)
        validated = tuple(sorted(n for n, ok in new.constraints.items() if ok and not old.constraints.get(n, False)))
        lock = new.lock if outside is None else next((m for t, m in outside.items() if same_name(t, new.name)), "")
        named = any(e.table and same_name(e.table, new.name) for e in item.effects)
        touched = (rewritten or rebuilt or built or written or validated or new.scans > old.scans or named
                   or lock_rank(new.lock) > lock_rank(old.lock) or (outside is not None and bool(lock)))
        if not touched:
            return None
        sample = 0
        if written:  # rows the table held before: what share of them the statement changed
            rows = int(run_verbatim(conn, f"SELECT count(*) FROM {_quoted(new.name)}").scalar() or 0)
            sample = rows - (new.inserted - old.inserted) + (new.deleted - old.deleted)
        first = start.get(oid)
        held = outside is None and bool(new.lock) and lock_rank(old.lock) >= lock_rank(new.lock)
        return TableWork(table=first.name if first else new.name, existed=first is not None, lock=lock or None,
                         held_before=held,
                         rewritten=rewritten, indexes_rebuilt=rebuilt, indexes_built=built,
                         scans=new.scans - old.scans, rows_read=new.read - old.read, rows_written=written,
                         sample_rows=sample, validated=validated,
                         kind="materialized view" if new.kind == "m" else "table")


def _indexes(table: int, before: Snapshot, after: Snapshot) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(rebuilt, built): indexes of ``table`` whose storage changed, and new ones, by name."""
    old = {r.name: r.storage for r in before.values() if r.table == table}
    new = {r.name: r.storage for r in after.values() if r.table == table}
    rebuilt = tuple(sorted(n for n, s in new.items() if n in old and old[n] != s))
    # an index renamed onto a constraint (ADD ... USING INDEX) keeps its storage: not built
    built = tuple(sorted(n for n in new if n not in old and new[n] not in set(old.values())))
    return rebuilt, built


def _quoted(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
