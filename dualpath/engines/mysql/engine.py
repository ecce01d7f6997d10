"""MySQL and MariaDB: no transactional DDL, flavor-specific statement timeouts, a GET_LOCK run lock,
information_schema introspection (no SHOW CREATE, so no AUTO_INCREMENT counters to strip)."""

from __future__ import annotations

import contextlib
import hashlib
from collections import defaultdict
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dualpath.engines.base import CONNECT_TIMEOUT_S, Engine, RunLockHolder, format_since, utc_now
from dualpath.engines.fingerprint import Entry, Fingerprint, body_hash, build_fingerprint, normalize_sql
from dualpath.engines.mysql import digest as mysql_digest
from dualpath.engines.mysql import probes
from dualpath.engines.probes import LockReading, TableStats
from dualpath.engines.verbatim import run_verbatim
from dualpath.urls import endpoint, password_of

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
LOCK_TABLE = "dualpath_run_lock"
_SESSION_ID = "dualpath_session_id"  # key in a connection's info: its CONNECTION_ID()


def _errno(orig: BaseException) -> int | None:
    code = orig.args[0] if getattr(orig, "args", None) else None
    return code if isinstance(code, int) else None


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


class MySQLEngine(Engine):
    label = "MySQL/MariaDB"
    name = "mysql"
    database_exists_sql = "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :name"
    dialect_probes = probes  # shadows, lock readings, calibration: engines/<dialect>/probes.py
    transactional_ddl = False  # every DDL statement commits implicitly
    default_connect_args = {"connect_timeout": CONNECT_TIMEOUT_S}

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

    # -- run lock ------------------------------------------------------------------------

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

    def holder_on(self, conn: Connection) -> RunLockHolder | None:
        holder_id = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": self.lock_name}).scalar()
        if holder_id is None:
            return None
        with contextlib.suppress(DBAPIError):  # the table may not exist
            row = conn.execute(text(f"SELECT run_id, host, since FROM {LOCK_TABLE} "
                                    "WHERE lock_name = :n AND connection_id = :c"),
                               {"n": self.lock_name, "c": holder_id}).first()
            if row is not None:
                return RunLockHolder(row.run_id, row.host, row.since)
        proc = conn.execute(text("SELECT HOST AS host, TIME AS secs FROM information_schema.PROCESSLIST "
                                 "WHERE ID = :c"), {"c": holder_id}).first()
        if proc is None:
            return RunLockHolder("unknown", "unknown", "unknown")
        since = format_since(datetime.now(UTC) - timedelta(seconds=int(proc.secs or 0)))
        return RunLockHolder("unknown", proc.host or "unknown", since)

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
        return probes.measure_ddl(conn, sql, tables, self.connect, self.quote_ident)

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
        database = conn.execute(text("SELECT DATABASE()")).scalar() or ""
        tables = yield from _relations(conn, database, self.quote_ident)
        yield from _columns(conn, tables)
        yield from _indexes(conn)
        yield from _constraints(conn)
        yield from _routines(conn)
        yield from _triggers(conn)


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


def _mappings(conn: Connection, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts with upper-case keys (MySQL 8 and MariaDB differ in the case they return)."""
    return [{k.upper(): v for k, v in row.items()} for row in conn.execute(text(sql)).mappings()]


_HERE = "TABLE_SCHEMA = DATABASE()"


def _relations(conn: Connection, database: str, quote: Any) -> Generator[Entry, None, set[str]]:
    # Returns the base tables so that columns of views are not listed as table columns.
    views = {r["TABLE_NAME"]: r for r in _mappings(conn, f"SELECT * FROM information_schema.VIEWS WHERE {_HERE}")}
    tables: set[str] = set()
    for row in _mappings(conn, f"SELECT * FROM information_schema.TABLES WHERE {_HERE}"):
        name, kind = row["TABLE_NAME"], row["TABLE_TYPE"]
        if kind == "VIEW":
            view = views.get(name, {})
            # MariaDB qualifies every name with the database: strip it so a shadow copy compares equal.
            definition = str(view.get("VIEW_DEFINITION") or "").replace(f"{quote(database)}.", "")
            yield "view", name, {"definition": normalize_sql(definition),
                                 "check_option": view.get("CHECK_OPTION")}
        elif kind == "SEQUENCE":
            yield "sequence", name, _sequence(conn, quote(name))
        else:
            tables.add(name)
            yield "table", name, {"engine": row.get("ENGINE"), "collation": row.get("TABLE_COLLATION"),
                                  "comment": row.get("TABLE_COMMENT") or None,
                                  "versioned": kind == "SYSTEM VERSIONED"}
    return tables


def _sequence(conn: Connection, quoted: str) -> dict[str, Any]:
    row = conn.exec_driver_sql(f"SELECT minimum_value, maximum_value, start_value, increment, "
                               f"cache_size, cycle_option FROM {quoted}").mappings().first()
    return dict(row) if row else {}


def _columns(conn: Connection, tables: set[str]) -> Iterator[Entry]:
    for row in _mappings(conn, f"SELECT * FROM information_schema.COLUMNS WHERE {_HERE}"):
        if row["TABLE_NAME"] not in tables:
            continue
        default = row.get("COLUMN_DEFAULT")
        if default == "NULL" and row["IS_NULLABLE"] == "YES":  # MariaDB spells "no default" as NULL
            default = None
        yield "column", f"{row['TABLE_NAME']}.{row['COLUMN_NAME']}", {
            "table": row["TABLE_NAME"], "type": row["COLUMN_TYPE"], "nullable": row["IS_NULLABLE"] == "YES",
            "default": default, "extra": row.get("EXTRA") or None,
            "generated": row.get("GENERATION_EXPRESSION") or None,
            "collation": row.get("COLLATION_NAME"), "comment": row.get("COLUMN_COMMENT") or None}


def _indexes(conn: Connection) -> Iterator[Entry]:
    # UNIQUE constraints are unique indexes here; PRIMARY is listed as a constraint.
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in _mappings(conn, f"SELECT * FROM information_schema.STATISTICS WHERE {_HERE}"):
        if row["INDEX_NAME"] != "PRIMARY":
            grouped[(row["TABLE_NAME"], row["INDEX_NAME"])].append(row)
    for (table, index), parts in grouped.items():
        parts.sort(key=lambda r: r["SEQ_IN_INDEX"])
        yield "index", f"{table}.{index}", {
            "table": table, "columns": [_index_part(p) for p in parts],
            "unique": not int(parts[0]["NON_UNIQUE"]), "method": parts[0].get("INDEX_TYPE"),
            "comment": parts[0].get("INDEX_COMMENT") or None}


def _index_part(row: dict[str, Any]) -> str:
    part = row["COLUMN_NAME"] or f"({row.get('EXPRESSION')})"  # MySQL 8 functional key parts
    if row.get("SUB_PART"):
        part += f"({row['SUB_PART']})"
    return part + (" DESC" if row.get("COLLATION") == "D" else "")


def _constraints(conn: Connection) -> Iterator[Entry]:
    keys: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in _mappings(conn, "SELECT * FROM information_schema.KEY_COLUMN_USAGE WHERE "
                               "TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION"):
        keys[(row["TABLE_NAME"], row["CONSTRAINT_NAME"])].append(row)
    rules = {(r["TABLE_NAME"], r["CONSTRAINT_NAME"]): r for r in _mappings(
        conn, "SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    checks = {(r.get("TABLE_NAME"), r["CONSTRAINT_NAME"]): r["CHECK_CLAUSE"] for r in _mappings(
        conn, "SELECT * FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    for row in _mappings(conn, f"SELECT * FROM information_schema.TABLE_CONSTRAINTS WHERE {_HERE}"):
        table, name, kind = row["TABLE_NAME"], row["CONSTRAINT_NAME"], row["CONSTRAINT_TYPE"]
        attrs: dict[str, Any] = {"table": table, "type": kind.lower(), "enforced": row.get("ENFORCED")}
        columns = ", ".join(k["COLUMN_NAME"] for k in keys.get((table, name), []))
        if kind == "PRIMARY KEY":
            attrs["definition"] = f"PRIMARY KEY ({columns})"
        elif kind == "FOREIGN KEY":
            parts = keys.get((table, name), [])
            target = parts[0]["REFERENCED_TABLE_NAME"] if parts else None
            ref_cols = ", ".join(str(k["REFERENCED_COLUMN_NAME"]) for k in parts)
            rule = rules.get((table, name), {})
            attrs |= {"definition": f"FOREIGN KEY ({columns}) REFERENCES {target} ({ref_cols})",
                      "on_delete": rule.get("DELETE_RULE"), "on_update": rule.get("UPDATE_RULE")}
        elif kind == "CHECK":
            clause = checks.get((table, name), checks.get((None, name)))
            attrs["definition"] = f"CHECK ({normalize_sql(str(clause))})"
        else:
            continue  # UNIQUE: listed with the indexes
        yield "constraint", f"{table}.{name}", attrs


def _routines(conn: Connection) -> Iterator[Entry]:
    params: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in _mappings(conn, "SELECT * FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE() "
                             "AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION"):
        mode = f"{p['PARAMETER_MODE']} " if p.get("PARAMETER_MODE") and p["ROUTINE_TYPE"] == "PROCEDURE" else ""
        params[(p["ROUTINE_TYPE"], p["SPECIFIC_NAME"])].append(f"{mode}{p['PARAMETER_NAME']} {p['DTD_IDENTIFIER']}")
    for r in _mappings(conn, "SELECT * FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"):
        kind = r["ROUTINE_TYPE"]
        args = ", ".join(params.get((kind, r["SPECIFIC_NAME"]), []))
        yield "function", f"{r['ROUTINE_NAME']}({args})", {
            "kind": kind.lower(), "returns": r.get("DTD_IDENTIFIER"),
            "deterministic": r.get("IS_DETERMINISTIC") == "YES", "data_access": r.get("SQL_DATA_ACCESS"),
            "security": r.get("SECURITY_TYPE"), "body_sha256": body_hash(r.get("ROUTINE_DEFINITION"))}


def _triggers(conn: Connection) -> Iterator[Entry]:
    for t in _mappings(conn, "SELECT * FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"):
        table = t["EVENT_OBJECT_TABLE"]
        yield "trigger", f"{table}.{t['TRIGGER_NAME']}", {
            "table": table, "timing": t["ACTION_TIMING"], "event": t["EVENT_MANIPULATION"],
            "order": t.get("ACTION_ORDER"), "body_sha256": body_hash(t.get("ACTION_STATEMENT"))}
