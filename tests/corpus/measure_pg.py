"""Measure one case on PostgreSQL: what it locked, blocked, rewrote, scanned, lost and broke.

The change runs as dualpath's runner runs it: in one transaction, or statement by statement when
a statement cannot run in one (CONCURRENTLY, VACUUM). Inside the transaction, before COMMIT:
``pg_stat_xact_user_tables`` deltas (rows scanned and written by this transaction), the locks in
``pg_locks``, and a second session that tries to read and to write every table that existed
before, with a lock timeout: a ``lock_not_available`` error means it was blocked (by construction:
the first transaction is still open, so a blocked probe can only end in that error). Outside a
transaction the statement runs in a thread while a third session holds ROW EXCLUSIVE on every
table; the statement then stops either waiting for that session (CONCURRENTLY, after taking its
own lock) or queued for a lock that conflicts with it, and the probes run then. After COMMIT: a
new relfilenode is a rewrite (of the table or of an index), and the application's probes say
whether running code still works.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors

from dualpath.sql import split_statements
from tests.corpus.hazard import FULL_SHARE, Observed, dml_share
from tests.corpus.schemas import PG_PROBES, PG_SCHEMA

_RELATIONS = """
SELECT c.oid, c.relname, c.relkind, c.relfilenode, i.indrelid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
"""
_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""
_XACT = "SELECT relid, seq_tup_read, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
_LOCKS = """
SELECT l.relation, l.mode, l.granted FROM pg_locks l
WHERE l.pid = %s AND l.locktype = 'relation' AND l.relation IS NOT NULL
"""
_RANK = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
         "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


@dataclass
class Relation:
    oid: int
    name: str
    kind: str  # r p m i I
    filenode: int
    table: int | None  # for an index: the table it is on


@dataclass
class Snapshot:
    relations: dict[int, Relation]
    columns: dict[tuple[int, int], str]
    rows: dict[int, int]
    probes: dict[str, str]  # probe → "" when it ran, else the error

    def tables(self) -> list[Relation]:
        return [r for r in self.relations.values() if r.kind in ("r", "p", "m")]


def plain(url: str) -> str:
    """psycopg's spelling of a URL that may name SQLAlchemy's driver (postgresql+psycopg://)."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def reset(url: str) -> None:
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute(PG_SCHEMA)


def measure(url: str, sql: str) -> Observed:
    """Run the change ``sql`` on the database at ``url`` (already reset) and observe it."""
    statements = [s.text for s in split_statements(sql, file="case.sql", dialect="postgresql")]
    outside = any(s.no_transaction for s in split_statements(sql, file="case.sql", dialect="postgresql"))
    url = plain(url)
    observed = Observed()
    before = snapshot(url)
    if outside:
        _run_outside(url, statements, before, observed)
    else:
        _run_in_transaction(url, statements, before, observed)
    after = snapshot(url)
    _compare(before, after, observed)
    return observed


def snapshot(url: str) -> Snapshot:
    with psycopg.connect(url, autocommit=True) as conn:
        relations = {r[0]: Relation(*r) for r in conn.execute(_RELATIONS).fetchall()}
        columns = {(a, n): name for a, n, name in conn.execute(_COLUMNS).fetchall()}
        rows = {oid: conn.execute(f'SELECT count(*) FROM ONLY "{rel.name}"').fetchone()[0]  # type: ignore[index]
                for oid, rel in relations.items() if rel.kind in ("r", "m")}
        probes = {probe: _probe(conn, probe) for probe in PG_PROBES}
    return Snapshot(relations, columns, rows, probes)


def _probe(conn: psycopg.Connection[Any], sql: str) -> str:
    """Run one of the application's queries and undo it; its error, or "" when it ran."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql)
    except psycopg.Error as exc:
        return str(exc).splitlines()[0]
    return ""


def _run_in_transaction(url: str, statements: list[str], before: Snapshot, observed: Observed) -> None:
    with psycopg.connect(url) as conn:
        start = _xact(conn)
        try:
            for text in statements:
                cur = conn.execute(text)
                _judge_dml(cur, text, before, observed)
        except psycopg.Error as exc:
            observed.refused = str(exc).splitlines()[0]
            conn.rollback()
            return
        _judge_work(before, _xact(conn), start, observed)
        _judge_locks(url, conn.info.backend_pid, before, observed)
        observed.blocked += blocked_tables(url, before)
        conn.commit()


def _run_outside(url: str, statements: list[str], before: Snapshot, observed: Observed) -> None:
    """Each statement on its own while a gate session holds ROW EXCLUSIVE on every table."""
    with psycopg.connect(url) as gate, psycopg.connect(url, autocommit=True) as conn:
        for rel in before.tables():
            if rel.kind != "m":
                gate.execute(f'INSERT INTO "{rel.name}" SELECT * FROM "{rel.name}" LIMIT 0')
        failure: list[str] = []
        worker = threading.Thread(target=_run_each, args=(conn, statements, failure))
        worker.start()
        pid = conn.info.backend_pid
        _wait_until_waiting(url, pid, worker)
        if worker.is_alive():
            _judge_locks(url, pid, before, observed)
            observed.blocked += blocked_tables(url, before)
        gate.rollback()
        worker.join()
        if failure:
            observed.refused = failure[0]


def _run_each(conn: psycopg.Connection[Any], statements: list[str], failure: list[str]) -> None:
    try:
        for text in statements:
            conn.execute(text)
    except psycopg.Error as exc:
        failure.append(str(exc).splitlines()[0])


def _wait_until_waiting(url: str, pid: int, worker: threading.Thread) -> None:
    """Until the statement waits for a lock (the gate's, or one queued behind it) or has finished.

    Polls an event the server reports, not a duration: on a slow machine it only polls longer.
    """
    with psycopg.connect(url, autocommit=True) as watcher:
        while worker.is_alive():
            row = watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)


def _xact(conn: psycopg.Connection[Any]) -> dict[int, tuple[int, ...]]:
    return {row[0]: tuple(row[1:]) for row in conn.execute(_XACT).fetchall()}


def _judge_dml(cur: psycopg.Cursor[Any], text: str, before: Snapshot, observed: Observed) -> None:
    tag = (cur.statusmessage or "").split()
    if not tag or tag[0] not in ("UPDATE", "DELETE", "INSERT", "MERGE"):
        return
    named = [before.rows.get(r.oid, 0) for r in before.tables() if re.search(rf"\b{r.name}\b", text, re.I)]
    dml_share(max(cur.rowcount, 0), max(named, default=0), text, observed)


def _judge_work(before: Snapshot, now: dict[int, tuple[int, ...]], start: dict[int, tuple[int, ...]],
                observed: Observed) -> None:
    """Rows scanned or written by this transaction, per table that existed before."""
    for rel in before.tables():
        rows = before.rows.get(rel.oid, 0)
        if rows == 0 or rel.oid not in now:
            continue
        delta = [a - b for a, b in zip(now[rel.oid], start.get(rel.oid, (0, 0, 0, 0)), strict=True)]
        scanned, written = delta[0], delta[2] + delta[3]
        if scanned >= FULL_SHARE * rows:
            observed.work.append(f"{rel.name} scanned ({scanned} rows read, {rows} in the table)")
        if written >= FULL_SHARE * rows:
            observed.work.append(f"{rel.name}: {written} of {rows} rows written")


def _judge_locks(url: str, pid: int, before: Snapshot, observed: Observed) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        held: dict[str, str] = {}
        for oid, mode, granted in conn.execute(_LOCKS, (pid,)).fetchall():
            rel = before.relations.get(oid)
            if rel is None or rel.kind in ("i", "I"):
                continue
            mode = mode if granted else f"{mode} (waiting)"
            if _RANK.index(mode.split()[0]) >= _RANK.index(held.get(rel.name, "AccessShareLock").split()[0]):
                held[rel.name] = mode
    observed.evidence += [f"{name}: {mode}" for name, mode in sorted(held.items())]


def blocked_tables(url: str, before: Snapshot) -> list[str]:
    """Tables another session could not read or write (it hit its lock timeout)."""
    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20ms'")
        for rel in before.tables():
            reads = _waits(conn, f'SELECT * FROM "{rel.name}" LIMIT 1')
            writes = rel.kind != "m" and _waits(conn, f'INSERT INTO "{rel.name}" SELECT * FROM "{rel.name}" LIMIT 0')
            if reads or writes:
                what = "reads and writes" if reads and writes else "reads" if reads else "writes"
                found.append(f"{rel.name}: {what} waited")
    return found


def _waits(conn: psycopg.Connection[Any], sql: str) -> bool:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql)
    except errors.LockNotAvailable:
        return True
    except psycopg.Error:
        return False  # it got its lock and failed for another reason
    return False


def _compare(before: Snapshot, after: Snapshot, observed: Observed) -> None:
    """Rewrites and index builds (new relfilenodes), data gone, and probes that stopped working."""
    for rel in before.relations.values():
        now = after.relations.get(rel.oid)
        if now is None or now.filenode == rel.filenode:
            continue
        owner = before.relations.get(rel.table or rel.oid)
        if owner is not None and before.rows.get(owner.oid, 1) > 0:
            observed.work.append(f"{'index ' + rel.name + ' rebuilt' if rel.table else rel.name + ' rewritten'}")
    kept = {rel.filenode for rel in before.relations.values()}
    for rel in after.relations.values():
        # an index recreated by ALTER TYPE may keep its old storage (a new oid, the old relfilenode): no build
        if rel.oid not in before.relations and rel.table in before.relations and rel.filenode not in kept:
            if before.rows.get(rel.table, 0) > 0 or before.relations[rel.table].kind == "p":
                observed.work.append(f"index {rel.name} built on {before.relations[rel.table].name}")
    for rel in before.tables():
        rows = before.rows.get(rel.oid, 0)
        if rel.kind != "r" or rows == 0:
            continue
        if rel.oid not in after.relations:
            observed.lost.append(f"table {rel.name} dropped with its {rows} rows")
        elif after.rows.get(rel.oid) == 0:
            observed.lost.append(f"table {rel.name} emptied ({rows} rows)")
        else:
            gone = [name for (oid, num), name in before.columns.items()
                    if oid == rel.oid and (oid, num) not in after.columns]
            observed.lost += [f"column {rel.name}.{name} dropped with its values" for name in gone]
    for probe, error in after.probes.items():
        if error and not before.probes[probe]:
            observed.broken.append(f"the application's query fails: {error} ({probe[:50]}...)")
