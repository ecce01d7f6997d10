"""MySQL/MariaDB: the run lock, GET_LOCK on a connection of its own; a table row tells the next run who holds it."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dualpath.engines.run_lock import RunLockHolder, format_since, utc_now
from dualpath.urls import endpoint

if TYPE_CHECKING:
    from dualpath.engines.base import Engine

    _Base = Engine
else:
    _Base = object

LOCK_TABLE = "dualpath_run_lock"
HOLDER_ROW_WAIT_S = 5.0  # a refused run waits this long at most for the holder's row (written after its GET_LOCK)


class MySQLRunLock(_Base):
    """The run-lock part of MySQLEngine (engines/base.py names what a run lock must answer)."""

    @property
    def lock_name(self) -> str:
        name = f"dualpath:{self.url.database or ''}"
        # GET_LOCK names are limited to 64 characters.
        return name if len(name) <= 64 else "dualpath:" + hashlib.sha1(name.encode()).hexdigest()

    @contextlib.contextmanager
    def run_lock(self, run_id: str, host: str) -> Iterator[None]:
        """GET_LOCK on a dedicated connection (authoritative, gone with the session); the
        dualpath_run_lock row only tells the next run who holds it."""
        engine = self.make_sa_engine()
        try:
            with self.open_connection(engine) as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": self.lock_name}).scalar()
                if got != 1:
                    raise self.refusal(conn)
                try:
                    self.record_holder(conn, run_id, host)
                    yield
                finally:
                    self.release(conn)
        finally:
            engine.dispose()

    def record_holder(self, conn: Connection, run_id: str, host: str) -> None:
        with contextlib.suppress(DBAPIError):  # no CREATE privilege: refusals just say less
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (lock_name VARCHAR(64) PRIMARY KEY, "
                "run_id VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL, since VARCHAR(20) NOT NULL, "
                "connection_id BIGINT UNSIGNED NOT NULL)")
            conn.execute(text(f"REPLACE INTO {LOCK_TABLE} VALUES (:n, :r, :h, :s, CONNECTION_ID())"),
                         {"n": self.lock_name, "r": run_id, "h": host, "s": utc_now()})

    def release(self, conn: Connection) -> None:
        # SQLAlchemyError, not only DBAPIError: after a lost connection SQLAlchemy raises
        # PendingRollbackError here, which would hide the run's own error; the lock died with it
        with contextlib.suppress(SQLAlchemyError):
            conn.execute(text(f"DELETE FROM {LOCK_TABLE} WHERE lock_name = :n "
                              "AND connection_id = CONNECTION_ID()"), {"n": self.lock_name})
        with contextlib.suppress(SQLAlchemyError):
            conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": self.lock_name})

    def refusal(self, conn: Connection) -> Exception:
        holder = self.holder_on(conn) or RunLockHolder("unknown", "unknown", "unknown")
        return holder.refusal(endpoint(self.url), hint=(
            "wait for that run to finish; if its process is gone, the lock goes with its session "
            f"(SELECT IS_USED_LOCK('{self.lock_name}') names the connection id)"))

    def current_holder(self) -> RunLockHolder | None:
        with self.connect() as conn:
            return self.holder_on(conn)

    def holder_on(self, conn: Connection, wait_s: float = HOLDER_ROW_WAIT_S) -> RunLockHolder | None:
        """Who holds the lock. Its row is written just after its GET_LOCK: a run refused in between waits
        for the row a moment (the holder's next round trip) rather than naming nobody."""
        deadline = time.monotonic() + wait_s
        while True:
            holder_id = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": self.lock_name}).scalar()
            if holder_id is None:
                return None
            row = None
            with contextlib.suppress(DBAPIError):  # the table may not exist (yet)
                row = conn.execute(text(f"SELECT run_id, host, since FROM {LOCK_TABLE} "
                                        "WHERE lock_name = :n AND connection_id = :c"),
                                   {"n": self.lock_name, "c": holder_id}).first()
            if row is not None:
                return RunLockHolder(row.run_id, row.host, row.since)
            if time.monotonic() >= deadline:
                break
            if conn.in_transaction():
                conn.rollback()  # a fresh snapshot for the next look (InnoDB reads repeat within one)
            time.sleep(0.05)
        proc = conn.execute(text("SELECT HOST AS host, TIME AS secs FROM information_schema.PROCESSLIST "
                                 "WHERE ID = :c"), {"c": holder_id}).first()
        if proc is None:
            return RunLockHolder("unknown", "unknown", "unknown")
        since = format_since(datetime.now(UTC) - timedelta(seconds=int(proc.secs or 0)))
        return RunLockHolder("unknown", proc.host or "unknown", since)
