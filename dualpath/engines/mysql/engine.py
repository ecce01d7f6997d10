"""MySQL and MariaDB: no transactional DDL, flavor-specific statement timeouts, a GET_LOCK run lock,
information_schema introspection (no SHOW CREATE, so no AUTO_INCREMENT counters to strip)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.engines.base import CONNECT_TIMEOUT_S, Engine
from dualpath.engines.fingerprint import Entry, Fingerprint, build_fingerprint
from dualpath.engines.mysql import digest as mysql_digest
from dualpath.engines.mysql import lock_probe, probes
from dualpath.engines.mysql.catalog import introspect
from dualpath.engines.mysql.run_lock import LOCK_TABLE, MySQLRunLock
from dualpath.engines.probes import LockReading, TableStats
from dualpath.engines.verbatim import run_verbatim
from dualpath.urls import password_of

if TYPE_CHECKING:
    from dualpath.engines.dump import Dumper, ToolSettings


ER_LOCK_WAIT_TIMEOUT = 1205  # InnoDB row locks and metadata locks (lock_wait_timeout) alike


ER_STATEMENT_TIMEOUT = 1969  # MariaDB max_statement_time


ER_QUERY_TIMEOUT = 3024  # MySQL max_execution_time


ER_BAD_DB_ERROR = 1049


ER_LOCK_DEADLOCK = 1213  # InnoDB rolled the transaction back as a deadlock victim


# access denied: to a database (CREATE DATABASE included), a table, a column, a global privilege, a routine
ER_ACCESS_DENIED = frozenset({1044, 1142, 1143, 1227, 1370})


# errno → what it means for the person (see engines/base.py FAILURE_KINDS)
_KINDS = {
    1290: "read_only",  # ER_OPTION_PREVENTS_STATEMENT: --read-only / super_read_only
    1792: "read_only",  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    1836: "read_only",  # ER_READ_ONLY_MODE
    1142: "permission", 1143: "permission", 1044: "permission", 1227: "permission", 1370: "permission",
    1045: "auth", 1698: "auth",  # access denied for user (password, plugin)
    ER_STATEMENT_TIMEOUT: "statement_timeout", ER_QUERY_TIMEOUT: "statement_timeout",
    1317: "canceled",  # ER_QUERY_INTERRUPTED: KILL QUERY
    2002: "connection", 2003: "connection", 2006: "connection", 2013: "connection", 2055: "connection",
    1927: "connection",  # ER_CONNECTION_KILLED (MariaDB)
    1050: "duplicate_object", 1060: "duplicate_object", 1061: "duplicate_object", 1826: "duplicate_object",
    1304: "duplicate_object", 1359: "duplicate_object",
}


NO_LIMIT_S = 31536000  # the largest lock_wait_timeout MySQL accepts: "no timeout" in practice


_SESSION_ID = "dualpath_session_id"  # key in a connection's info: its CONNECTION_ID()


def _errno(orig: BaseException) -> int | None:
    code = orig.args[0] if getattr(orig, "args", None) else None
    return code if isinstance(code, int) else None


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


class MySQLEngine(MySQLRunLock, Engine):
    label = "MySQL/MariaDB"
    name = "mysql"
    database_exists_sql = "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :name"
    dialect_probes = probes  # shadows, lock readings, calibration: engines/<dialect>/probes.py
    transactional_ddl = False  # every DDL statement commits implicitly
    default_connect_args = {"connect_timeout": CONNECT_TIMEOUT_S}
    # INFORMATION_SCHEMA.INNODB_TRX (the lock_waits and long_transactions gates) is a cache that InnoDB
    # refreshes only when nobody read it for 100 ms: reads closer together than that, by anyone, see the
    # first snapshot for ever (a gate checked tenant after tenant read 0 while a session waited)
    gate_read_delay_s = 0.11

    def __init__(self, url: URL, flavor: str | None = None) -> None:
        super().__init__(url)
        self._flavor_hint = flavor  # from a mariadb:// URL; the server's answer wins once connected

    @property
    def flavor(self) -> str:
        if self._flavor is None and self._flavor_hint:
            return self._flavor_hint
        return super().flavor

    def make_sa_engine(self, url: URL | None = None, **connect_args: Any) -> sa.Engine:
        """PyMySQL sends a str password as latin-1, so a password outside it could never log in; the
        server hashed what CREATE USER got from a utf8mb4 client (the mysql client too): UTF-8 bytes.
        ?passwd= (PyMySQL's deprecated name) and ?password= are passed the same way."""
        target = url or self.url
        password = password_of(target)
        if password is None:
            return super().make_sa_engine(target, **connect_args)
        target = target.set(password=None).difference_update_query(["password", "passwd"])
        return super().make_sa_engine(target, **{"password": password.encode("utf-8"), **connect_args})

    def sets_user_variables_only(self, sql: str) -> bool:
        from dualpath.engines.mysql.session import sets_user_variables_only  # the lexer: only where statements run

        return sets_user_variables_only(sql)

    def sets_session_state(self, sql: str) -> bool:
        from dualpath.engines.mysql.session import sets_session_state

        return sets_session_state(sql)

    def server_flavor(self, conn: Connection) -> str:
        # SQLAlchemy read VERSION() when it connected; asking again would open a transaction.
        return "mariadb" if getattr(conn.dialect, "is_mariadb", False) else "mysql"

    def quote_ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    # -- errors --------------------------------------------------------------------------

    def missing_database(self, exc: DBAPIError) -> bool:
        return exc.orig is not None and _errno(exc.orig) == ER_BAD_DB_ERROR

    def driver_lock_timeout(self, orig: BaseException) -> bool:
        return _errno(orig) == ER_LOCK_WAIT_TIMEOUT

    def driver_permission_denied(self, orig: BaseException) -> bool:
        return _errno(orig) in ER_ACCESS_DENIED

    def grant_hint(self, conn: Connection, databases: str) -> str:
        return f"as an administrator: GRANT ALL PRIVILEGES ON `{databases}`.* TO {self._grantee(conn)}"

    def table_grant_hint(self, conn: Connection) -> str:
        database = str(conn.execute(text("SELECT DATABASE()")).scalar())
        return (f"as an administrator: GRANT CREATE, ALTER, INDEX, SELECT, INSERT, UPDATE, DELETE ON "
                f"`{database.replace('`', '``')}`.* TO {self._grantee(conn)}")

    @staticmethod
    def _grantee(conn: Connection) -> str:
        user, _, host = str(conn.execute(text("SELECT CURRENT_USER()")).scalar()).rpartition("@")
        return f"'{user.replace(chr(39), chr(39) * 2)}'@'{host.replace(chr(39), chr(39) * 2)}'"

    def driver_statement_timeout(self, orig: BaseException) -> bool:
        return _errno(orig) in (ER_STATEMENT_TIMEOUT, ER_QUERY_TIMEOUT)

    def driver_failure_kind(self, orig: BaseException) -> str | None:
        code = _errno(orig)
        return super().driver_failure_kind(orig) or (_KINDS.get(code) if code is not None else None)

    # -- timeouts ------------------------------------------------------------------------

    def session_reset_statements(self) -> list[str]:
        """The target database again, and the session settings migrations switch off for a while."""
        return [f"USE {self.quote_ident(self.url.database or '')}",
                "SET SESSION foreign_key_checks = DEFAULT, unique_checks = DEFAULT, sql_mode = DEFAULT"]

    def timeout_statements(self, lock_timeout_ms: int, statement_timeout_ms: int, *,
                           local: bool = False) -> list[str]:
        """Session settings (there is no transaction-local form); 0 means no limit.

        Lock waits are whole seconds, at least 1. The statement limit is MariaDB's
        max_statement_time (seconds, fractional) or MySQL's max_execution_time (ms, which
        MySQL applies to SELECT only), so this asks for the flavor (connecting once if needed).
        """
        lock_s = -(-lock_timeout_ms // 1000) if lock_timeout_ms > 0 else NO_LIMIT_S
        # Say when whole seconds stretched the configured wait, so --dry-run does not surprise.
        note = f" /* {lock_timeout_ms} ms rounded up */" if 0 < lock_timeout_ms != lock_s * 1000 else ""
        statements = [f"SET SESSION lock_wait_timeout = {lock_s}{note}",
                      f"SET SESSION innodb_lock_wait_timeout = {lock_s}{note}"]
        if self.flavor == "mariadb":
            statements.append(f"SET SESSION max_statement_time = {_seconds(statement_timeout_ms)}")
        else:
            statements.append(f"SET SESSION max_execution_time = {int(statement_timeout_ms)}")
        return statements

    # -- sessions ------------------------------------------------------------------------

    def session_id(self, conn: Connection) -> str | None:
        """Asked once per server connection (a reconnect gets a new one, and a fresh ``info``)."""
        known = conn.info.get(_SESSION_ID)
        if known is None:
            known = conn.info[_SESSION_ID] = str(conn.execute(text("SELECT CONNECTION_ID()")).scalar())
        return str(known)

    def session_busy(self, conn: Connection, session_id: str) -> bool:
        """The server finishes a statement whose client died and only then notices it is gone."""
        row = conn.execute(text("SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = :c"),
                           {"c": int(session_id)}).first()
        return row is not None and str(row[0]).lower() not in ("sleep", "killed")

    # -- databases and tables ------------------------------------------------------------

    def server_url(self) -> URL:
        return self.url._replace(database=None)  # URL.set(database=None) keeps the name in SQLAlchemy 2.1

    def iter_tables(self, conn: Connection) -> Iterator[str]:
        rows = conn.execute(text("SELECT TABLE_NAME AS name FROM information_schema.TABLES "
                                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'VIEW' "
                                 "AND TABLE_TYPE <> 'SEQUENCE' ORDER BY TABLE_NAME"))
        yield from (row.name for row in rows)

    # -- shadows and rehearsal (verify, plan, calibrate) ---------------------------------

    def identity(self, conn: Connection) -> str:
        row = conn.execute(text("SELECT @@hostname, @@port, @@datadir, DATABASE()")).one()
        return f"{row[0]}:{row[1]}:{row[2]}/{row[3]}"

    def user_objects(self, conn: Connection) -> list[str]:
        # the run lock's bookkeeping table is ours: a verify holds the lock on a user's shadow while it checks it
        return [f"{kind.lower()} {name}" for kind, name in probes.user_objects(conn) if name != LOCK_TABLE]

    def drop_user_objects(self, conn: Connection) -> None:
        probes.drop_user_objects(conn, self.quote_ident)

    def copy_schema(self, shadow_url: URL) -> None:
        with self.connect() as conn:
            statements = list(probes.schema_statements(conn, self.quote_ident))
        engine = self.make_sa_engine(shadow_url)
        try:
            with self.open_connection(engine, shadow_url) as conn:
                probes.replay(conn, statements)
        finally:
            engine.dispose()

    def load_statements(self) -> list[str]:
        return ["SET SESSION FOREIGN_KEY_CHECKS = 0"]

    def table_storage(self, conn: Connection) -> dict[str, str]:
        return probes.table_storage(conn, self.flavor)

    def measure_statement(self, conn: Connection, sql: str, tables: Sequence[str]) -> LockReading:
        """DDL commits before its metadata lock can be read: other sessions probe it while it runs."""
        return lock_probe.measure_ddl(conn, sql, tables, self.connect, self.quote_ident)

    def table_sizes(self, conn: Connection) -> dict[str, TableStats]:
        return probes.table_sizes(conn)

    @property
    def default_schema(self) -> str:
        return self.url.database or ""  # a schema is a database

    # -- backups ------------------------------------------------------------------------

    def dumper(self, tools: ToolSettings) -> Dumper:
        from dualpath.engines.mysql.dump import MysqlDumper  # backups only

        return MysqlDumper(tools)

    # -- fingerprint ---------------------------------------------------------------------

    def fingerprint(self, conn: Connection) -> Fingerprint:
        """The current database (DATABASE()): tables, columns, indexes, constraints, views,
        sequences (MariaDB), routines and triggers."""
        return build_fingerprint(self.introspect(conn))

    def statement_digest(self, conn: Connection, sql: str) -> str:
        """DDL: a digest of the objects it names, one query (engines/mysql/digest.py); else the whole schema."""
        return mysql_digest.statement_digest(conn, sql, self.flavor == "mariadb", lambda: self.fingerprint(conn).digest)

    def introspect(self, conn: Connection) -> Iterator[Entry]:
        return introspect(conn, self.quote_ident)


    # -- batches -------------------------------------------------------------------------

    def row_compare(self, columns: Sequence[str], op: str, params: Sequence[str]) -> str:
        """Spelled out: ``a > :p0 OR (a = :p0 AND b > :p1)``. MariaDB does not use an index for a
        row-value comparison, while the OR of ANDs becomes index ranges on both servers."""
        if len(columns) == 1:
            return f"{columns[0]} {op} :{params[0]}"
        strict = op.rstrip("=")
        terms = []
        for i, column in enumerate(columns):
            equal = [f"{c} = :{p}" for c, p in zip(columns[:i], params[:i], strict=True)]
            last = op if i == len(columns) - 1 else strict
            terms.append("(" + " AND ".join([*equal, f"{column} {last} :{params[i]}"]) + ")")
        return "(" + " OR ".join(terms) + ")"

    @contextlib.contextmanager
    def batch_isolation(self, conn: Connection) -> Iterator[None]:
        """READ COMMITTED for the chunks, where the binary log allows it.

        Under REPEATABLE READ InnoDB takes next-key locks: every row a chunk's range scan reads
        (also ones its WHERE rejects, and the first row past the range) stays locked with the gap
        before it, and INSERT ... SELECT share-locks the rows it reads. Writers inserting at the end
        of the key range or touching skipped rows then wait for the chunk. READ COMMITTED locks only
        the rows changed. A binlog in STATEMENT format refuses DML under READ COMMITTED (error 1665),
        so there the server's level stays.
        """
        log_bin, binlog_format = conn.execute(text("SELECT @@log_bin, @@binlog_format")).one()
        conn.commit()
        if log_bin and str(binlog_format).upper() == "STATEMENT":
            yield
            return
        level = conn.get_isolation_level()
        conn.execution_options(isolation_level="READ COMMITTED")
        try:
            yield
        finally:
            if not conn.invalidated:  # a lost connection has no level left to restore
                if conn.in_transaction():
                    conn.rollback()
                conn.execution_options(isolation_level=level)

    def driver_deadlock(self, orig: BaseException) -> bool:
        return _errno(orig) == ER_LOCK_DEADLOCK

    def replica_lag_s(self, conn: Connection) -> float | None:
        """Seconds_Behind_Source (MySQL 8.0.22+, MariaDB 10.5.1+) or Seconds_Behind_Master, the worst
        channel; None on a server that replicates from nobody, lacks the privilege, or whose
        replication is stopped (the server reports no number then)."""
        for statement in ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"):
            try:
                rows = run_verbatim(conn, statement).mappings().all()
            except DBAPIError:
                continue
            lags = [_lag_of(dict(r)) for r in rows]
            known = [lag for lag in lags if lag is not None]
            return float(max(known)) if known else None
        return None

    def estimate_rows(self, conn: Connection, table: str) -> int | None:
        """InnoDB's estimate from information_schema: instant, roughly right."""
        rows = conn.execute(text("SELECT TABLE_ROWS FROM information_schema.TABLES "
                                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"), {"t": table}).scalar()
        return int(rows) if rows is not None else None


def _lag_of(row: dict[str, Any]) -> int | None:
    for name in ("Seconds_Behind_Source", "Seconds_Behind_Master"):
        if row.get(name) is not None:
            return int(row[name])
    return None
