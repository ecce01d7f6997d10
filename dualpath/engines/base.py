"""The Engine: everything dialect-specific that the rest of dualpath may ask, listed once.

Modelled on Alembic's ``DefaultImpl``: one class per dialect, the rest of the code asks
the engine instead of testing the dialect name. ``Engine`` holds what the three share
(short-lived NullPool engines, connection errors for people, unwrapping driver errors)
and names what each dialect must answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from dualpath.engines.databases import ServerDatabases, like_literal
from dualpath.engines.failures import FAILURE_KINDS, REACHABILITY_HINT, driver_errors
from dualpath.engines.fingerprint import Fingerprint
from dualpath.engines.plain import CONNECT_TIMEOUT_S
from dualpath.engines.probes import (
    CalibrationSql,
    LockReading,
    RoleReading,
    ServerObject,
    TableStats,
    shadow_database_name,
    shadow_prefix,
)
from dualpath.engines.run_lock import RunLockHolder
from dualpath.engines.transaction import ChangeTransaction
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import ConnectionFailed, UsageError
from dualpath.urls import endpoint, redact

if TYPE_CHECKING:
    from dualpath.engines.dump import Dumper, ToolSettings
    from dualpath.history import ChangeRecord


__all__ = ["CONNECT_TIMEOUT_S", "FAILURE_KINDS", "REACHABILITY_HINT", "Engine", "Fingerprint", "RunLockHolder",
           "driver_errors", "like_literal"]




SCOPED_DIGEST = "s1:"  # a statement digest of the objects it names (engines/mysql/digest.py), not of the schema


class Engine(ServerDatabases):
    """What dualpath needs from a database server, listed once: one subclass per dialect
    (``engines/<dialect>/engine.py``) supplies the dialect's SQL, error codes and probes; what only a
    dialect can answer raises NotImplementedError here, the rest is shared machinery."""

    name = ""  # "postgresql" | "mysql" | "sqlite": the dialect for sql/ and risk/
    label = ""  # for people: "PostgreSQL"
    transactional_ddl = True  # can DDL be rolled back with its transaction?
    default_connect_args: dict[str, Any] = {}

    def __init__(self, url: URL) -> None:
        self.url = url
        self._flavor: str | None = None
        self._version: tuple[int, ...] | None = None

    # -- connections -------------------------------------------------------------------

    def make_sa_engine(self, url: URL | None = None, **connect_args: Any) -> sa.Engine:
        """A pool-less engine: a CLI run opens few connections and must not keep them."""
        args = {**self.default_connect_args, **connect_args}
        return sa.create_engine(url or self.url, poolclass=NullPool, connect_args=args)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection; unreachable servers and missing databases become ConnectionFailed."""
        try:
            with self.open_connection(self.shared_sa_engine()) as conn:  # NullPool: closed when the block ends
                self.remember_server(conn)
                yield conn
        except ConnectionFailed:  # e.g. a tenant schema not made yet: its first connect is done again later
            self.forget_shared_engine()
            raise

    def ensure_exists(self) -> None:
        """Servers: a missing database is reported by connect(), with how to create it."""

    def session_id(self, conn: Connection) -> str | None:
        """The server's id of this connection, recorded before a statement that commits on its own so
        that a later run can wait for a killed run's statement to end; None where there is none to wait
        for (the server ends a dead client's work with its transaction)."""
        return None

    def session_busy(self, conn: Connection, session_id: str) -> bool:
        """Does the session still run a statement? (A killed client's DDL may go on without it.)"""
        return False

    def sets_user_variables_only(self, sql: str) -> bool:
        """Does ``sql`` only set user variables (session state that commits nothing)? MySQL's ``SET @a = ...``."""
        return False

    def sets_session_state(self, sql: str) -> bool:
        """Does ``sql`` set state of this session only (a variable, a setting, a prepared statement, the current
        database), which a new session no longer has? A change resumed after a kill runs those of its done
        statements again before it goes on."""
        return False

    @contextlib.contextmanager
    def change_transaction(self, conn: Connection) -> Iterator[ChangeTransaction]:
        """One change's transaction (its statements and its record), committed when the block ends."""
        with conn.begin():
            yield ChangeTransaction(conn)

    def statement_digest(self, conn: Connection, sql: str) -> str:
        """A digest of what ``sql`` may change, taken before it runs (the statement journal): after a kill,
        a different digest says it took effect. Here the whole schema's fingerprint; an engine that can
        name what a statement touches digests only that (engines/mysql/digest.py)."""
        return cast("Engine", self).fingerprint(conn).digest

    def digest_like(self, conn: Connection, sql: str, recorded: str) -> str:
        """The digest to compare with ``recorded``, taken the way it was: a journal row written by an
        earlier dualpath holds the whole schema's digest."""
        if recorded.startswith(SCOPED_DIGEST):
            return self.statement_digest(conn, sql)
        return cast("Engine", self).fingerprint(conn).digest

    @contextlib.contextmanager
    def autocommit(self, conn: Connection) -> Iterator[Connection]:
        """Run outside any transaction block (CREATE INDEX CONCURRENTLY, VACUUM), then restore."""
        if conn.in_transaction():
            conn.commit()
        level = conn.get_isolation_level()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.commit()
            conn.execution_options(isolation_level=level)

    @contextlib.contextmanager
    def open_connection(self, engine: sa.Engine, url: URL | None = None) -> Iterator[Connection]:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise self.connection_failed(exc, url or self.url) from None
        with conn:
            yield conn

    def remember_server(self, conn: Connection) -> None:
        if self._flavor is None:
            self._flavor = self.server_flavor(conn)
            self._version = self.server_version(conn)

    @property
    def flavor(self) -> str:
        """The server's flavor (``server_flavor``), detected once; connects if needed."""
        if self._flavor is None:
            with self.connect():
                pass
        assert self._flavor is not None
        return self._flavor

    # -- server ------------------------------------------------------------------------

    def server_version(self, conn: Connection) -> tuple[int, ...]:
        info = conn.dialect.server_version_info or ()
        numbers: list[int] = []
        for part in info:  # MariaDB's info carries strings after the numbers
            if not isinstance(part, int):
                break
            numbers.append(part)
        return tuple(numbers)

    def server_flavor(self, conn: Connection) -> str:
        """"postgresql", "mysql", "mariadb" or "sqlite"."""
        return self.name

    # -- timeouts ----------------------------------------------------------------------

    def timeout_statements(self, lock_timeout_ms: int, statement_timeout_ms: int, *,
                           local: bool = False) -> list[str]:
        raise NotImplementedError

    def session_reset_statements(self) -> list[str]:
        """What undoes a migration's session settings (SET search_path, SET ROLE, USE...); none by default."""
        return []

    def write_change_record(self, conn: Connection, record: ChangeRecord) -> None:
        """A change's history and audit rows, in the caller's transaction (PostgreSQL: in one statement)."""
        record.write(conn)

    def reset_session(self, conn: Connection, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
        """Put the session back as the run opened it, timeouts included, in the current transaction.

        psql, mariadb and sqitch run each migration file in a new session: a change's SET must reach
        neither dualpath's own history writes nor the next change (whose objects would land elsewhere)."""
        for statement in self.session_reset_statements():  # they leave the timeouts as they are
            run_verbatim(conn, statement)

    def apply_timeouts(self, conn: Connection, lock_timeout_ms: int, statement_timeout_ms: int, *,
                       local: bool = False) -> None:
        """Run timeout_statements; session settings are committed so a later rollback keeps them."""
        started_here = not conn.in_transaction()
        for statement in self.timeout_statements(lock_timeout_ms, statement_timeout_ms, local=local):
            run_verbatim(conn, statement)
        if started_here and not local:
            conn.commit()

    # -- the run lock: two runs never overlap on one target ------------------------------

    def run_lock(self, run_id: str, host: str) -> AbstractContextManager[None]:
        """Held for a whole run; a second run gets TargetRefused naming the holder (``RunLockHolder``)."""
        raise NotImplementedError

    def current_holder(self) -> RunLockHolder | None:
        """Who holds the run lock now, as far as the server can tell; None when nobody does."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------

    @property
    def default_schema(self) -> str:
        """Where unqualified names land on a fresh connection (Flyway's ``${flyway:defaultSchema}``)."""
        raise NotImplementedError

    def quote_ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def table_exists(self, conn: Connection, name: str) -> bool:
        return name in set(self.iter_tables(conn))

    def iter_tables(self, conn: Connection) -> Iterator[str]:
        raise NotImplementedError

    # -- batches -----------------------------------------------------------------------

    def row_compare(self, columns: Sequence[str], op: str, params: Sequence[str]) -> str:
        """``(a, b) > (:p0, :p1)``: row values order like an index on (a, b) (columns already quoted)."""
        if len(columns) == 1:
            return f"{columns[0]} {op} :{params[0]}"
        return f"({', '.join(columns)}) {op} ({', '.join(':' + p for p in params)})"

    def limit_rows(self, sql: str, rows: int, offset: int = 0) -> str:
        return f"{sql} LIMIT {int(rows)}" + (f" OFFSET {int(offset)}" if offset else "")

    def restrict_to_range(self, sql: str, table: str, sentinel: str) -> tuple[str, str]:
        """AND ``sentinel`` into the WHERE that reads ``table``: (rewritten SQL, qualifier of its columns)."""
        from dualpath.engines.key_range import restrict_with_sqlglot

        return restrict_with_sqlglot(sql, table, sentinel, self.name)

    def replica_lag_s(self, conn: Connection) -> float | None:
        """Replication lag seen from this connection in seconds; None when there is no replica."""
        return None

    def estimate_rows(self, conn: Connection, table: str) -> int | None:
        return None

    def never_null(self, conn: Connection, table: str) -> set[str]:
        """Columns that reflection reports nullable but the server never lets hold NULL."""
        return set()

    @contextlib.contextmanager
    def batch_isolation(self, conn: Connection) -> Iterator[None]:
        """The isolation level batch chunks run under (outside a transaction); the server's default here."""
        yield

    # -- shadows, lock readings, calibration: the dialect's probes module answers ------------

    dialect_probes: ModuleType  # engines/<dialect>/probes.py

    def held_locks(self, conn: Connection) -> LockReading:
        return self.dialect_probes.held_locks(conn)  # type: ignore[no-any-return]

    def lock_rank(self, mode: str) -> int:
        """Stronger lock, higher rank; -1 for a mode this dialect does not know."""
        return self.dialect_probes.lock_rank(mode)  # type: ignore[no-any-return]

    def server_objects(self, conn: Connection) -> list[ServerObject] | None:
        """Roles and users of the whole server (None: this user may not list them); none for a file."""
        read = getattr(self.dialect_probes, "server_objects", None)
        return read(conn, self.quote_ident) if read is not None else []  # type: ignore[no-any-return]

    def role_reading(self, conn: Connection) -> RoleReading | None:
        """The role this connection migrates as and its server-wide powers; None where there are no roles."""
        read = getattr(self.dialect_probes, "role_reading", None)
        return read(conn) if read is not None else None  # type: ignore[no-any-return]

    def explain_rows(self, conn: Connection, sql: str) -> int | None:
        """The planner's row estimate; None where the dialect has no planner to ask."""
        explain = getattr(self.dialect_probes, "explain_rows", None)
        return explain(conn, sql) if explain is not None else None

    @property
    def calibration_sql(self) -> CalibrationSql:
        return self.dialect_probes.CALIBRATION  # type: ignore[no-any-return]

    @property
    def check_queries(self) -> dict[str, str]:
        """Label → SQL an operator pastes to check the server (the runbook's checklist)."""
        return dict(self.dialect_probes.CHECK_QUERIES)

    # how long a built-in gate waits before it reads the server's state (see MySQLEngine: a cached view)
    gate_read_delay_s = 0.0

    @property
    def gate_queries(self) -> dict[str, str]:
        """Built-in gate kind → SQL reading one number (gates.py); a kind missing here reads 0."""
        return dict(self.dialect_probes.GATE_QUERIES)

    # -- shadows (verify) ----------------------------------------------------------------

    def create_shadow(self) -> URL:
        """A new database on the same server holding this one's schema; dropped again if copying fails."""
        database = self.url.database or "db"
        shadow = self.create_database(shadow_database_name(database), like_literal(shadow_prefix(database)) + "%")
        try:
            self.copy_schema(shadow)
        except BaseException:
            self.drop_shadow(shadow)
            raise
        return shadow

    def copy_schema(self, shadow: URL) -> None:
        raise NotImplementedError

    def load_statements(self) -> list[str]:
        """Session settings to load sampled rows in any order (foreign key checks off)."""
        raise NotImplementedError

    def table_storage(self, conn: Connection) -> dict[str, str]:
        """Table → an id that changes when the table is rebuilt (a rewrite shows as a new id)."""
        raise NotImplementedError

    def table_sizes(self, conn: Connection) -> dict[str, TableStats]:
        raise NotImplementedError

    # -- schemas and backups -------------------------------------------------------------

    def fingerprint(self, conn: Connection) -> Fingerprint:
        """The schema as a canonical nested dict (``fingerprint.py``), dualpath's own tables left out."""
        raise NotImplementedError

    def dumper(self, tools: ToolSettings) -> Dumper:
        """Dump and restore for backups (``engines/<dialect>/dump.py``)."""
        raise NotImplementedError

    def drop_shadow(self, url: URL) -> None:
        self.drop_database(url.database or "")

    # -- a shadow the user provides ([verify] shadow_url): checked empty, used, emptied again ------

    def identity(self, conn: Connection) -> str:
        """Which database on which server this connection is in: equal for two URLs of one database."""
        return f"{endpoint(self.url)}/{self.url.database}"

    def user_objects(self, conn: Connection) -> list[str]:
        """Everything a user made in the database (schemas, tables, views, routines...), as ``kind name``;
        empty for a database as fresh as CREATE DATABASE left it."""
        return [f"table {t}" for t in self.iter_tables(conn)]

    def drop_user_objects(self, conn: Connection) -> None:
        """Drop what ``user_objects`` lists (called on a shadow that was checked empty before it was used)."""
        raise NotImplementedError

    def adopt_shadow(self, shadow: Engine) -> None:
        """Use ``shadow`` (a database the user gave) as this one's shadow: it must be another database and
        empty, so that emptying it afterwards can only drop what verify put there; then copy the schema."""
        with self.connect() as conn:
            mine = self.identity(conn)
        with shadow.connect() as conn:
            theirs = shadow.identity(conn)
            objects = shadow.user_objects(conn)
        where = redact(str(shadow.url))
        if theirs == mine:
            raise UsageError(f"the shadow {where} is the target database itself",
                             hint="point [verify] shadow_url at another, empty database you own")
        if objects:
            shown = ", ".join(objects[:5]) + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")
            raise UsageError(f"the shadow {where} is not empty ({shown}): verify empties its shadow afterwards and "
                             "never drops what it did not make",
                             hint="point [verify] shadow_url at an empty database (create a new one and GRANT it to "
                                  "this user), or empty this one yourself")
        self.copy_schema(shadow.url)

    def empty_shadow(self, shadow: Engine) -> list[str]:
        """Drop everything verify made in a user's shadow; what could not be dropped is returned."""
        with shadow.connect() as conn:
            shadow.drop_user_objects(conn)
            conn.commit()
            return shadow.user_objects(conn)
