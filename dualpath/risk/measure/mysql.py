"""The MySQL/MariaDB prober: the cheapest ALGORITHM and LOCK the server accepts, and what the statement did.

An ALTER TABLE, CREATE INDEX or DROP INDEX that states neither clause is tried with each pair, the
cheapest first (INSTANT, then NOCOPY, INPLACE and COPY, each with LOCK=NONE, SHARED, EXCLUSIVE).
A pair the server cannot honour is refused (errors 1845/1846) before anything changes; the first
pair it accepts runs the statement, so that pair is what the server would choose by itself. What
the statement then really did is read around it: the handler counters of the session (rows
written: an ALTER that copies writes every row again; ``SHOW SESSION STATUS`` reads them without
touching them) and InnoDB's table and index ids (a rebuild gives the table a new id, an index build
a new index id). A statement that accepts INSTANT and still copies or rebuilds is reported as what it
did. DDL commits on its own here: each statement is its own scope, as when dualpath runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines.mysql.engine import MySQLEngine
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import DualpathError
from dualpath.risk.context import Item, same_name
from dualpath.risk.measure.observation import Observation, TableWork

ALGORITHMS = ("INSTANT", "NOCOPY", "INPLACE", "COPY")
LOCKS = ("NONE", "SHARED", "EXCLUSIVE")
_COUNTERS = ("Handler_write", "Handler_update", "Handler_delete", "Handler_read_rnd_next")
_STATUS = "SHOW SESSION STATUS WHERE Variable_name IN ({})".format(", ".join(f"'{c}'" for c in _COUNTERS))
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
_ALTER = re.compile(r"ALTER\s+(?:(?P<online>ONLINE)\s+)?(?:IGNORE\s+)?TABLE\b", re.I)
_INDEX = re.compile(r"(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?|DROP\s+)INDEX\b", re.I)
_STATED = re.compile(r"\b(?P<clause>ALGORITHM|LOCK)\b\s*=?\s*"
                     r"(?P<value>NONE|SHARED|EXCLUSIVE|INSTANT|NOCOPY|INPLACE|COPY)\b", re.I)  # DEFAULT: not stated
_DML = frozenset({"insert", "insert_select", "update", "delete"})


@dataclass
class TableState:
    table_id: str
    indexes: dict[str, str] = field(default_factory=dict)  # index name → InnoDB index id


Snapshot = dict[str, TableState]


@dataclass(frozen=True)
class Attempt:
    algorithm: str | None  # None: the statement's own (stated, or the server's choice)
    lock: str | None
    sql: str


class MySQLProber:
    """Measures statements on a MySQL/MariaDB shadow."""

    method = "measured on a shadow (cheapest ALGORITHM and LOCK accepted, handler counters, InnoDB ids)"

    def __init__(self, engine: MySQLEngine) -> None:
        self.engine = engine

    def prepare(self, conn: Connection) -> None:
        """Check that InnoDB's ids can be read: without them a rebuild cannot be told from an instant change."""
        try:
            self._ids(conn)
        except DBAPIError as exc:
            who = self.engine.url.username or "this user"
            raise DualpathError(f"reading InnoDB's table ids was refused ({str(exc.orig).strip()}): a rebuild "
                                "could not be told from an instant change",
                                hint=f"GRANT PROCESS ON *.* TO {who} to measure on a shadow") from None

    def snapshot(self, conn: Connection) -> Snapshot:
        """Table → InnoDB table id and index ids."""
        found: Snapshot = {}
        for name, table_id, index, index_id in self._ids(conn):
            state = found.setdefault(str(name).split("/", 1)[1], TableState(str(table_id)))
            if index is not None:
                state.indexes[str(index)] = str(index_id)
        return found

    def _ids(self, conn: Connection) -> list[Any]:
        views = ("INNODB_SYS_TABLES", "INNODB_SYS_INDEXES") if self.engine.flavor == "mariadb" \
            else ("INNODB_TABLES", "INNODB_INDEXES")
        database = str(conn.exec_driver_sql("SELECT DATABASE()").scalar() or "")
        pattern = database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "/%"
        return list(conn.execute(text(
            f"SELECT t.NAME, t.TABLE_ID, i.NAME, i.INDEX_ID FROM information_schema.{views[0]} t "
            f"LEFT JOIN information_schema.{views[1]} i ON i.TABLE_ID = t.TABLE_ID WHERE t.NAME LIKE :p"),
            {"p": pattern}).all())

    def measure(self, conn: Connection, item: Item, start: Snapshot, version: str, in_block: bool) -> Observation:
        """Run ``item`` at the cheapest ALGORITHM/LOCK the server accepts, and observe what it did."""
        before = self.snapshot(conn)
        counted = _counters(conn)
        accepted, refused = self._run(conn, item.statement.text)
        counts = {k: v - counted.get(k, 0) for k, v in _counters(conn).items()}
        after = self.snapshot(conn)
        dml = bool(item.ops) and all(op.kind in _DML for op in item.ops)
        named = [t for t in before if any(e.table and same_name(e.table, t) for e in item.effects)]
        changed = [t for t in before if t in after and after[t] != before[t]]
        works = [self._work(conn, t, start, before, after, counts, accepted, dml) for t in sorted({*named, *changed})]
        how = self.method + (f"; refused: {', '.join(refused)}" if refused else "")
        return Observation(version=version, where=item.statement.where, tables=tuple(works), method=how)

    def _run(self, conn: Connection, sql: str) -> tuple[Attempt, list[str]]:
        """The first attempt the server accepts (it has run), and the pairs it refused before that."""
        refused: list[str] = []
        attempts = ladder(sql)
        for attempt in attempts[:-1]:
            try:
                run_verbatim(conn, attempt.sql)
                return attempt, refused
            except DBAPIError:  # refused before anything changed (DDL is atomic); the plain run has the last word
                refused.append(f"ALGORITHM={attempt.algorithm}" + (f", LOCK={attempt.lock}" if attempt.lock else ""))
        run_verbatim(conn, attempts[-1].sql)
        return attempts[-1], refused

    def _work(self, conn: Connection, table: str, start: Snapshot, before: Snapshot, after: Snapshot,
              counts: dict[str, int], accepted: Attempt, dml: bool) -> TableWork:
        old, new = before[table], after.get(table)
        rewritten = new is not None and new.table_id != old.table_id
        rebuilt: tuple[str, ...] = ()
        built: tuple[str, ...] = ()
        if new is not None:
            rebuilt = tuple(sorted(n for n, i in new.indexes.items() if n in old.indexes and old.indexes[n] != i))
            built = tuple(sorted(n for n in new.indexes if n not in old.indexes))
        if rewritten:
            rebuilt = ()  # every index of a rebuilt table is new: the rebuild says it
        written = counts.get("Handler_write", 0) + counts.get("Handler_update", 0) + counts.get("Handler_delete", 0)
        algorithm, lock = accepted.algorithm, accepted.lock
        if not dml and accepted.algorithm is None:
            algorithm, lock = _stated(accepted.sql)
        if not dml and written and algorithm != "COPY":
            algorithm = "COPY"  # it accepted a cheaper algorithm and still copied the rows
        elif not dml and rewritten and algorithm in ("INSTANT", "NOCOPY"):
            algorithm = "INPLACE"  # ... or rebuilt the table
        sample = 0
        if dml and written and new is not None:
            rows = int(run_verbatim(conn, f"SELECT COUNT(*) FROM {self.engine.quote_ident(table)}").scalar() or 0)
            sample = rows - counts.get("Handler_write", 0) + counts.get("Handler_delete", 0)
        return TableWork(table=table, existed=table in start, lock=None if dml else lock, rewritten=rewritten,
                         indexes_rebuilt=rebuilt, indexes_built=built,
                         scans=1 if counts.get("Handler_read_rnd_next", 0) else 0,
                         rows_read=counts.get("Handler_read_rnd_next", 0), rows_written=written, sample_rows=sample,
                         algorithm=None if dml else algorithm, lock_clause=None if dml else lock)


def ladder(sql: str) -> list[Attempt]:
    """Attempts in order, cheapest first; the statement as written is always the last one."""
    body = sql.strip().rstrip(";").rstrip()
    head = body[_LEADING_COMMENTS.match(body).end():]  # type: ignore[union-attr]
    alter, index = _ALTER.match(head), _INDEX.match(head)
    plain = Attempt(None, None, body)
    if not alter and not index:
        return [plain]
    stated = {m["clause"].upper() for m in _STATED.finditer(head)}
    if alter and alter["online"]:
        stated.add("LOCK")
    algorithms: tuple[str | None, ...] = (None,) if "ALGORITHM" in stated else ALGORITHMS
    locks: tuple[str | None, ...] = (None,) if "LOCK" in stated else LOCKS
    glue = "\n, " if alter else "\n "
    found = []
    for algorithm in algorithms:
        for lock in ((None,) if algorithm == "INSTANT" else locks):
            parts = ([f"ALGORITHM={algorithm}"] if algorithm else []) + ([f"LOCK={lock}"] if lock else [])
            if parts:
                found.append(Attempt(algorithm, lock, body + glue + (", " if alter else " ").join(parts)))
    return [*found, plain]


def _stated(sql: str) -> tuple[str | None, str | None]:
    """The ALGORITHM and LOCK a statement states itself (``ALTER ONLINE``: LOCK=NONE)."""
    values = {m["clause"].upper(): m["value"].upper() for m in _STATED.finditer(sql)}
    lock = values.get("LOCK") or ("NONE" if (m := _ALTER.search(sql)) and m["online"] else None)
    return values.get("ALGORITHM"), lock


def _counters(conn: Connection) -> dict[str, int]:
    return {str(name): int(value) for name, value in run_verbatim(conn, _STATUS)}
