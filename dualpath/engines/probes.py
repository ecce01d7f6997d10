"""What verify, plan and calibrate ask an engine beyond running SQL: shadows, locks, sizes, throughput.

Types only; each dialect's answers live in ``<dialect>/probes.py`` next to its engine.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection

from dualpath.engines.verbatim import run_verbatim


@dataclass(frozen=True)
class LockReading:
    """Locks this session holds right now, table → strongest mode; ``None`` with a reason when unreadable."""

    locks: dict[str, str] | None
    note: str = ""


@dataclass(frozen=True)
class ServerObject:
    """A role or user: it belongs to the whole server, so dropping a (shadow) database leaves it there."""

    kind: str  # "role" | "user" | "database"
    name: str  # as the SQL of a migration names it
    label: str  # for people: role r, user 'u'@'%'
    drop: str  # the statement that drops it


@dataclass(frozen=True)
class RoleReading:
    """Who a connection migrates as, and the server-wide powers it holds beyond one database's."""

    role: str  # postgres, 'app'@'%'
    superuser: bool  # PostgreSQL rolsuper; MariaDB SUPER or ALL PRIVILEGES ON *.*
    broad: tuple[str, ...] = ()  # other powers over the whole server ("CREATEROLE", "DROP ON *.*")


@dataclass(frozen=True)
class TableStats:
    rows: int
    bytes: int


@dataclass(frozen=True)
class CalibrationSql:
    """Statements that measure a server's throughput on a scratch table (``{t}``: a plain identifier).

    Run in this order: create, fill, analyze, scan, update, index, metadata, rewrite.
    """

    create: str
    fill: str  # {rows}: how many rows
    analyze: str | None
    scan: str  # reads every row
    update: str  # changes every row
    index: str  # builds an index on one integer column
    metadata: str  # a catalog-only ALTER
    rewrite: str  # an ALTER that copies the whole table


def shadow_prefix(database: str) -> str:
    """dp_shadow_<database>_<hash>_: recognisable in a server's list, distinct for long names alike."""
    tag = hashlib.sha256(database.encode()).hexdigest()[:6]
    return f"dp_shadow_{database[:32]}_{tag}_"


def shadow_database_name(database: str) -> str:
    return shadow_prefix(database) + secrets.token_hex(4)


@runtime_checkable
class ExplainsStatements(Protocol):
    """An engine whose planner estimates how many rows a statement touches, without running it."""

    def explain_rows(self, conn: Connection, sql: str) -> int | None: ...  # None: the planner could not say


@runtime_checkable
class MeasuresStatements(Protocol):
    """An engine that can measure a statement whose locks are gone once it returns.

    MySQL/MariaDB DDL commits (and drops its metadata lock) before anything can be read, and
    PostgreSQL statements that cannot run in a transaction block (CONCURRENTLY, VACUUM) commit
    too: these engines run the statement while other connections watch what it waits for.
    """

    def measure_statement(self, conn: Connection, sql: str, tables: Sequence[str]) -> LockReading: ...


PROBE_TIMEOUT_S = 60.0


class Running:
    """A statement running on its own thread while the caller watches it from other connections."""

    def __init__(self, conn: Connection, sql: str, session_id: int) -> None:
        self.conn, self.id = conn, session_id
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sql,), daemon=True)
        self._thread.start()

    def _run(self, sql: str) -> None:
        try:
            run_verbatim(self.conn, sql)
        except BaseException as exc:  # handed to the caller by join()
            self.error = exc
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def join(self, timeout_s: float = PROBE_TIMEOUT_S) -> None:
        self._thread.join(timeout_s)



def poll(condition: Callable[[], bool], timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Ask ``condition`` until it holds (True) or ``timeout_s`` passes (False); no fixed sleeps to tune."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.002)
    return False
