"""PostgreSQL: transactional DDL, SET [LOCAL] timeouts, an advisory run lock, pg_catalog introspection.

Schema-per-tenant: a URL whose libpq ``options`` set ``search_path`` (``?options=-csearch_path%3Dtenant_007``)
is that schema's target. Its run lock, fingerprint, sizes and shadow cover that schema only, so tenants
in one database run side by side, while two runs on one tenant still exclude each other.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dualpath.engines.base import Engine
from dualpath.engines.fingerprint import Entry, Fingerprint, build_fingerprint
from dualpath.engines.postgres import probes
from dualpath.engines.postgres.catalog import READERS
from dualpath.engines.postgres.plain import CONNECT_ARGS, advisory_key, lock_sql, timeout_sql
from dualpath.engines.postgres.probes import SchemaScope, scope_of
from dualpath.engines.postgres.transaction import fewer_trips
from dualpath.engines.probes import LockReading, TableStats
from dualpath.engines.run_lock import RunLockHolder, format_since
from dualpath.engines.transaction import ChangeTransaction
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import ConnectionFailed
from dualpath.urls import endpoint

if TYPE_CHECKING:
    from dualpath.engines.dump import Dumper, ToolSettings
    from dualpath.history import ChangeRecord


LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired, or NOWAIT


QUERY_CANCELED = "57014"  # statement_timeout (also a user's cancel request)


DEADLOCK_DETECTED = "40P01"  # the server rolled the transaction back to break a deadlock


INVALID_CATALOG_NAME = "3D000"  # database does not exist


INSUFFICIENT_PRIVILEGE = "42501"  # permission denied (CREATE DATABASE without CREATEDB, a table not granted)


READ_ONLY_SQL_TRANSACTION = "25006"  # default_transaction_read_only, SET TRANSACTION READ ONLY, a standby


# SQLSTATE → what it means for the person (see engines/base.py FAILURE_KINDS); classes by their first two
_KINDS = {READ_ONLY_SQL_TRANSACTION: "read_only", INSUFFICIENT_PRIVILEGE: "permission",
          "42P07": "duplicate_object", "42701": "duplicate_object", "42710": "duplicate_object",
          "42P06": "duplicate_object", "42723": "duplicate_object", "42P04": "duplicate_object",
          "57P01": "connection", "57P02": "connection", "57P03": "connection"}


_CLASS_KINDS = {"08": "connection", "28": "auth"}


_APP_NAME = re.compile(r"^dualpath run (?P<run_id>\S+) on (?P<host>.*)$")


_QUERY_TAG = re.compile(r"/\* dualpath run (?P<run_id>\S+) on (?P<host>.*?) \*/")


# SET (not LOCAL, which ends with its transaction; not TRANSACTION or CONSTRAINTS), PREPARE name AS ...:
# what a new session after a kill has lost (a resumed change runs them again)
_SESSION_STATE = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(?:set\s+(?!local\b|transaction\b|constraints\b)"
                            r"|prepare\s+\S+\s*(?:\(|as\b))", re.IGNORECASE | re.DOTALL)


class PostgresEngine(Engine):
    label = "PostgreSQL"
    name = "postgresql"
    database_exists_sql = "SELECT 1 FROM pg_database WHERE datname = :name"
    dialect_probes = probes  # shadows, lock readings, calibration: engines/<dialect>/probes.py
    transactional_ddl = True
    default_connect_args = CONNECT_ARGS

    # -- connections and errors ----------------------------------------------------------

    def missing_database(self, exc: DBAPIError) -> bool:
        if getattr(exc.orig, "sqlstate", None) == INVALID_CATALOG_NAME:
            return True
        return bool(re.search(r'database ".*" does not exist', str(exc.orig)))

    def create_database_hint(self, url: URL) -> str:
        host, _, port = endpoint(url).rpartition(":")
        user = f" -U {url.username}" if url.username else ""
        return (f"create it: createdb -h {host} -p {port}{user} {url.database} "
                f"(or CREATE DATABASE {self.quote_ident(url.database or '')})")

    def driver_lock_timeout(self, orig: BaseException) -> bool:
        return getattr(orig, "sqlstate", None) == LOCK_NOT_AVAILABLE

    def driver_permission_denied(self, orig: BaseException) -> bool:
        return getattr(orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE

    def table_grant_hint(self, conn: Connection) -> str:
        role, schema = conn.execute(text("SELECT current_user, current_schema()")).one()
        return (f"as the owner of schema {schema}: GRANT CREATE ON SCHEMA {self.quote_ident(str(schema))} "
                f"TO {self.quote_ident(str(role))}")

    def grant_hint(self, conn: Connection, databases: str) -> str:
        role = str(conn.execute(text("SELECT current_user")).scalar())
        return f"as a superuser: ALTER ROLE {self.quote_ident(role)} CREATEDB"

    def driver_deadlock(self, orig: BaseException) -> bool:
        return getattr(orig, "sqlstate", None) == DEADLOCK_DETECTED

    def driver_failure_kind(self, orig: BaseException) -> str | None:
        state = getattr(orig, "sqlstate", None)
        if not isinstance(state, str):
            return None
        if state == QUERY_CANCELED:  # a timeout, or a cancel by someone (pg_cancel_backend, Ctrl-C)
            return "statement_timeout" if "statement timeout" in str(orig) else "canceled"
        return super().driver_failure_kind(orig) or _KINDS.get(state) or _CLASS_KINDS.get(state[:2])

    def driver_statement_timeout(self, orig: BaseException) -> bool:
        # 57014 is also "canceling statement due to user request": only the timeout counts.
        return getattr(orig, "sqlstate", None) == QUERY_CANCELED and "statement timeout" in str(orig)

    # -- timeouts ------------------------------------------------------------------------

    def timeout_statements(self, lock_timeout_ms: int, statement_timeout_ms: int, *,
                           local: bool = False) -> list[str]:
        """SET (or SET LOCAL, undone at transaction end) lock_timeout and statement_timeout; 0 = none."""
        return timeout_sql(lock_timeout_ms, statement_timeout_ms, local=local)

    def sets_session_state(self, sql: str) -> bool:
        return _SESSION_STATE.match(sql) is not None

    def write_change_record(self, conn: Connection, record: ChangeRecord) -> None:
        record.write_combined(conn)

    def reset_session(self, conn: Connection, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
        """RESET ALL brings back the session's defaults (the URL's options, such as a tenant's search_path,
        included) but not the role; one round trip for all of it (no parameters: the simple protocol)."""
        run_verbatim(conn, "; ".join(["RESET SESSION AUTHORIZATION", "RESET ALL",
                                      *self.timeout_statements(lock_timeout_ms, statement_timeout_ms)]))

    # -- run lock ------------------------------------------------------------------------

    @cached_property
    def scope(self) -> SchemaScope:
        """The schemas this target owns: its search_path's first schema, or the whole database."""
        return scope_of(self.url)

    @property
    def lock_key(self) -> int:
        return advisory_key(self.url.database or "", self.scope.only)

    @property
    def where(self) -> str:
        """host:port, and the schema of a schema-per-tenant target: what its errors name."""
        if self.scope.only is None:
            return endpoint(self.url)
        return f"{endpoint(self.url)}/{self.url.database} schema {self.scope.only}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection; a schema-per-tenant target's schema must exist, or nothing would be its own."""
        with super().connect() as conn:
            if self.scope.only is not None and not self._schema_seen:
                self.require_schema(conn)
            yield conn

    _schema_seen = False

    def require_schema(self, conn: Connection) -> None:
        # A missing first schema is skipped by PostgreSQL: tables would land in the next one (public)
        # or nowhere. A typo in a tenant's name must not create or read another tenant's tables.
        schema = self.scope.only or ""
        found = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
        conn.rollback()
        if found is None:
            raise ConnectionFailed(
                f"schema '{schema}' does not exist in database '{self.url.database}'",
                where=self.where,
                hint=f"create the tenant's schema first: CREATE SCHEMA {self.quote_ident(schema)} "
                     "(its name comes from search_path in the URL's options)")
        self._schema_seen = True

    @contextlib.contextmanager
    def run_lock(self, run_id: str, host: str) -> Iterator[None]:
        """Hold a session advisory lock on a dedicated connection; the server drops it if we die.

        application_name carries the run id and host for the next run's refusal message;
        PostgreSQL keeps only its first 63 bytes, so the locking statement, which stays the
        session's last query in pg_stat_activity, carries them too.
        """
        engine = self.make_sa_engine(application_name=f"dualpath run {run_id} on {host}")
        try:
            with self.open_connection(engine) as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                got = conn.execute(text(lock_sql(run_id, host, ":k")), {"k": self.lock_key}).scalar()
                if not got:
                    raise self.refusal(conn)
                try:
                    yield
                finally:
                    with contextlib.suppress(SQLAlchemyError):  # a dead session took the lock with it
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.lock_key})
        finally:
            engine.dispose()

    def refusal(self, conn: Connection) -> Exception:
        holder = self.holder_on(conn) or RunLockHolder("unknown", "unknown", "unknown")
        return holder.refusal(self.where, hint=(
            "wait for that run to finish; if its process is gone, the lock goes with its session "
            "(see pg_stat_activity where application_name starts with 'dualpath run')"))

    def current_holder(self) -> RunLockHolder | None:
        with self.connect() as conn:
            return self.holder_on(conn)

    def holder_on(self, conn: Connection) -> RunLockHolder | None:
        key = self.lock_key
        row = conn.execute(text(
            "SELECT a.application_name, a.query, a.backend_start, host(a.client_addr) AS client "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :hi AND l.objid::bigint = :lo"),
            {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}).first()
        if row is None:
            return None
        app_name = row.application_name or ""
        match = _APP_NAME.match(app_name) if len(app_name.encode()) < 63 else None
        match = match or _QUERY_TAG.search(row.query or "") or _APP_NAME.match(app_name)
        since = format_since(row.backend_start) if row.backend_start else "unknown"
        if match:
            return RunLockHolder(match["run_id"], match["host"], since)
        return RunLockHolder("unknown", row.client or "unknown", since)

    # -- databases and tables ------------------------------------------------------------

    def server_url(self) -> URL:
        return self.url.set(database="postgres")

    def drop_database(self, name: str) -> None:
        """Drop even with sessions still attached (a crashed test's run lock, say)."""
        with self.server_connection() as conn:
            self.run_on_server(conn, f"DROP DATABASE IF EXISTS {self.quote_ident(name)} WITH (FORCE)",
                               "drop databases", name)

    def identity(self, conn: Connection) -> str:
        """The server (its port and start time) and the database: two URLs of one database read the same."""
        row = conn.execute(text("SELECT current_database(), inet_server_port(), pg_postmaster_start_time()")).one()
        return f"{row[2].isoformat()}:{row[1]}/{row[0]}"

    def user_objects(self, conn: Connection) -> list[str]:
        return [f"{kind} {name}" for kind, name in probes.user_objects(conn)]

    def drop_user_objects(self, conn: Connection) -> None:
        probes.drop_user_objects(conn)

    def table_exists(self, conn: Connection, name: str) -> bool:
        quoted = ".".join(self.quote_ident(part) for part in name.split("."))
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:n)"),
                            {"n": quoted}).scalar()
        return kind in ("r", "p")

    def iter_tables(self, conn: Connection) -> Iterator[str]:
        """Tables of the current schema (a schema-per-tenant target's own), by name."""
        rows = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                 "ORDER BY tablename"))
        yield from (row[0] for row in rows)

    # -- shadows and rehearsal (verify, plan, calibrate) ---------------------------------

    def copy_schema(self, shadow_url: URL) -> None:
        """The shadow keeps this URL's options, so a tenant's shadow holds (and searches) its schema only."""
        probes.copy_schema(self.url, shadow_url, self.scope)

    def load_statements(self) -> list[str]:
        return ["SET session_replication_role = replica"]  # FK triggers off: sampled rows load in any order

    def table_storage(self, conn: Connection) -> dict[str, str]:
        return probes.table_storage(conn, self.scope)

    def held_locks(self, conn: Connection) -> LockReading:
        return probes.held_locks(conn, self.scope)

    def measure_statement(self, conn: Connection, sql: str, tables: Sequence[str]) -> LockReading:
        """A statement that cannot run in a transaction block, watched from other sessions."""
        with self.autocommit(conn):
            return probes.measure_outside_transaction(conn, sql, tables, self.connect, self.quote_ident, self.scope)

    def table_sizes(self, conn: Connection) -> dict[str, TableStats]:
        return probes.table_sizes(conn, self.scope)

    @property
    def default_schema(self) -> str:
        return "public"

    # -- backups ------------------------------------------------------------------------

    def dumper(self, tools: ToolSettings) -> Dumper:
        from dualpath.engines.postgres.dump import PostgresDumper  # backups only

        return PostgresDumper(tools)

    @contextlib.contextmanager
    def change_transaction(self, conn: Connection) -> Iterator[ChangeTransaction]:
        """BEGIN with the first statement, COMMIT with the history row (engines/postgres/transaction.py)."""
        with fewer_trips(conn) as transaction:
            yield transaction

    # -- fingerprint ---------------------------------------------------------------------

    def fingerprint(self, conn: Connection) -> Fingerprint:
        """All user schemas (not pg_catalog, information_schema, pg_toast, pg_temp_*); a schema-per-tenant
        target's own schema only, its names unqualified (so tenants and their shadows compare equal).

        Read under the session's own search_path (the URL's, or the server's default): PostgreSQL prints
        a type, a foreign key's target or a view's query without the schema when it is on the path, so
        a migration's ``SET search_path`` would otherwise change the fingerprint of an unchanged schema.
        The migration's setting is put back afterwards."""
        saved = run_verbatim(conn, "SELECT current_setting('search_path'), "
                                   "(SELECT reset_val FROM pg_settings WHERE name = 'search_path')").one()
        if saved[0] == saved[1]:
            return build_fingerprint(self.introspect(conn))
        conn.execute(text("SELECT set_config('search_path', :v, false)"), {"v": saved[1]})
        try:
            return build_fingerprint(self.introspect(conn))
        finally:
            conn.execute(text("SELECT set_config('search_path', :v, false)"), {"v": saved[0]})

    def introspect(self, conn: Connection) -> Iterator[Entry]:
        for reader in READERS:
            yield from reader(conn, self.scope)


    # -- batches -------------------------------------------------------------------------

    def restrict_to_range(self, sql: str, table: str, sentinel: str) -> tuple[str, str]:
        """pglast: PostgreSQL's own parser, so any statement PostgreSQL accepts is understood."""
        from dualpath.engines.key_range import restrict_with_pglast

        return restrict_with_pglast(sql, table, sentinel)

    def replica_lag_s(self, conn: Connection) -> float | None:
        """On a primary the worst replay_lag of pg_stat_replication; on a standby, its own replay delay."""
        lag = conn.exec_driver_sql(
            "SELECT CASE WHEN pg_is_in_recovery() "
            "THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) "
            "ELSE (SELECT EXTRACT(EPOCH FROM max(replay_lag)) FROM pg_stat_replication) END").scalar()
        return float(lag) if lag is not None else None

    def estimate_rows(self, conn: Connection, table: str) -> int | None:
        """The planner's estimate: instant on any size; None before the first ANALYZE."""
        rows = conn.execute(text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
                            {"t": table}).scalar()
        return int(rows) if rows is not None and rows >= 0 else None
