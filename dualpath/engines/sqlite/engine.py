"""SQLite: transactional DDL (with an explicit BEGIN), busy_timeout as the lock timeout, a flock'd
sidecar file as the run lock, sqlite_master + PRAGMA introspection."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL

from dualpath.engines.base import Engine
from dualpath.engines.fingerprint import Entry, Fingerprint, build_fingerprint, normalize_sql
from dualpath.engines.probes import TableStats
from dualpath.engines.run_lock import RunLockHolder, utc_now
from dualpath.engines.sqlite import probes
from dualpath.errors import ConnectionFailed

if TYPE_CHECKING:
    from dualpath.engines.dump import Dumper, ToolSettings

SQLITE_BUSY, SQLITE_LOCKED = 5, 6
SQLITE_READONLY, SQLITE_INTERRUPT, SQLITE_PERM, SQLITE_AUTH = 8, 9, 3, 23
_KINDS = {SQLITE_READONLY: "read_only", SQLITE_INTERRUPT: "canceled", SQLITE_PERM: "permission",
          SQLITE_AUTH: "permission"}
LOCK_SUFFIX = ".dualpath-lock"
_LOCKED_MESSAGES = ("database is locked", "database table is locked")


def _driver_autocommit(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN skips DDL, so DDL would escape the transaction; we BEGIN ourselves.
    dbapi_conn.isolation_level = None


def _emit_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN")


class SQLiteEngine(Engine):
    label = "SQLite"
    name = "sqlite"
    dialect_probes = probes  # shadows, lock readings, calibration: engines/<dialect>/probes.py
    transactional_ddl = True

    @property
    def path(self) -> str | None:
        """The database file, or None for an in-memory database."""
        database = self.url.database
        return None if not database or database == ":memory:" else database

    def make_sa_engine(self, url: URL | None = None, **connect_args: Any) -> sa.Engine:
        engine = super().make_sa_engine(url, **connect_args)
        event.listen(engine, "connect", _driver_autocommit)
        event.listen(engine, "begin", _emit_begin)
        return engine

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to an existing file: a typo in a path must not create an empty database."""
        if self.path and not os.path.exists(self.path):
            raise ConnectionFailed(f"database file {self.path} does not exist", where=self.path,
                                   hint=f"check the path, or create it: sqlite3 {self.path} 'VACUUM;'")
        with super().connect() as conn:
            yield conn

    def ensure_exists(self) -> None:
        """apply creates a new database file, as sqlite3 does; read-only commands still refuse one."""
        if self.path and not os.path.exists(self.path):
            if not os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
                raise ConnectionFailed(f"folder of database file {self.path} does not exist", where=self.path,
                                       hint="create the folder or fix the path")
            sqlite3.connect(self.path).close()

    # -- errors and timeouts -------------------------------------------------------------

    def driver_lock_timeout(self, orig: BaseException) -> bool:
        if not isinstance(orig, sqlite3.OperationalError):
            return False
        code = getattr(orig, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)) or any(
            m in str(orig) for m in _LOCKED_MESSAGES)

    def driver_statement_timeout(self, orig: BaseException) -> bool:
        return False  # see timeout_statements

    def driver_failure_kind(self, orig: BaseException) -> str | None:
        if not isinstance(orig, sqlite3.Error):
            return None
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _KINDS:
            return _KINDS[code & 0xFF]
        if "readonly database" in str(orig):
            return "read_only"
        if re.search(r"\b(table|index|view|trigger) \S+ already exists|duplicate column name", str(orig)):
            return "duplicate_object"
        return super().driver_failure_kind(orig)

    def timeout_statements(self, lock_timeout_ms: int, statement_timeout_ms: int, *,
                           local: bool = False) -> list[str]:
        """Only the busy timeout: how long to wait for another connection's lock.

        SQLite has no statement timeout: it is a library in our process, with no server to
        cancel a statement; the only way is the client's progress handler or interrupt(), which
        is not SQL and cannot be shown by --dry-run. PRAGMAs are per connection, so ``local``
        changes nothing.
        """
        return [f"PRAGMA busy_timeout = {int(lock_timeout_ms)}"]

    # -- run lock ------------------------------------------------------------------------

    @property
    def lock_path(self) -> str | None:
        return f"{self.path}{LOCK_SUFFIX}" if self.path else None

    @contextlib.contextmanager
    def run_lock(self, run_id: str, host: str) -> Iterator[None]:
        """flock a sidecar file next to the database; the kernel releases it if we die."""
        if self.lock_path is None:  # an in-memory database belongs to one process anyway
            yield
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise self.refusal(_read_holder(fd)) from None
            _write_holder(fd, RunLockHolder(run_id, host, utc_now()))
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def refusal(self, holder: RunLockHolder) -> Exception:
        return holder.refusal(self.path or ":memory:", hint=(
            f"wait for that run to finish; the lock is an flock on {self.lock_path} and goes "
            "with its process (see: fuser -v FILE)"))

    def current_holder(self) -> RunLockHolder | None:
        if self.lock_path is None or not os.path.exists(self.lock_path):
            return None
        fd = os.open(self.lock_path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    # -- databases and tables ------------------------------------------------------------

    def create_database(self, name: str, grant_on: str | None = None) -> URL:
        """``name`` is a file path; an empty file is an empty database (no privileges but the file system's)."""
        sqlite3.connect(name).close()
        return URL.create("sqlite", database=name)

    def drop_database(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal", LOCK_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.remove(name + suffix)

    def iter_tables(self, conn: Connection) -> Iterator[str]:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"))
        yield from (row[0] for row in rows)

    # -- shadows and rehearsal (verify, plan, calibrate) ---------------------------------

    def create_shadow(self) -> URL:
        """A copy of the file next to it (same disk, as a server shadow is on the same server), emptied."""
        folder = os.path.dirname(os.path.abspath(self.path)) if self.path else os.getcwd()
        path = probes.shadow_path(self.path, folder)
        try:
            probes.copy_schema(self.path, path)
        except BaseException:
            self.drop_database(path)
            raise
        return URL.create("sqlite", database=path)

    def copy_schema(self, shadow_url: URL) -> None:
        probes.copy_schema(self.path, shadow_url.database or "")

    def identity(self, conn: Connection) -> str:
        return os.path.realpath(self.path) if self.path else ":memory:"

    def user_objects(self, conn: Connection) -> list[str]:
        rows = conn.execute(text("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                                 "AND type IN ('table', 'view', 'trigger', 'index') ORDER BY type, name"))
        return [f"{kind} {name}" for kind, name in rows]

    def drop_user_objects(self, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        for entry in self.user_objects(conn):
            kind, name = entry.split(" ", 1)
            conn.exec_driver_sql(f"DROP {kind.upper()} IF EXISTS {self.quote_ident(name)}")

    def load_statements(self) -> list[str]:
        return ["PRAGMA foreign_keys = OFF"]

    def table_storage(self, conn: Connection) -> dict[str, str]:
        return probes.table_storage(conn)

    def table_sizes(self, conn: Connection) -> dict[str, TableStats]:
        return probes.table_sizes(conn, self.quote_ident)

    @property
    def default_schema(self) -> str:
        return "main"

    # -- backups ------------------------------------------------------------------------

    def dumper(self, tools: ToolSettings) -> Dumper:
        from dualpath.engines.sqlite.dump import SqliteDumper  # backups only

        return SqliteDumper(tools)

    # -- fingerprint ---------------------------------------------------------------------

    def fingerprint(self, conn: Connection) -> Fingerprint:
        """sqlite_master and PRAGMAs; SQL text only with whitespace normalised."""
        return build_fingerprint(self.introspect(conn))

    def introspect(self, conn: Connection) -> Iterator[Entry]:
        master = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                   "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")).all()
        for kind, name, table, sql in master:
            if kind == "table":
                yield from _table(conn, name, sql or "", self.quote_ident(name))
            elif kind == "index" and sql:  # sql is NULL for UNIQUE/PRIMARY KEY autoindexes
                yield "index", name, {"table": table, "unique": _is_unique_index(sql),
                                      "definition": _after_on(normalize_sql(sql))}
            elif kind in ("view", "trigger"):
                attrs = {"definition": normalize_sql(sql or "")}
                yield kind, name, attrs | ({"table": table} if kind == "trigger" else {})


    # -- batches -------------------------------------------------------------------------

    def estimate_rows(self, conn: Connection, table: str) -> int | None:
        """SQLite keeps no row estimate; counting is cheap at the sizes SQLite serves."""
        parts = ".".join(self.quote_ident(p) for p in table.split("."))
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {parts}").scalar() or 0)

    def never_null(self, conn: Connection, table: str) -> set[str]:
        """An ``INTEGER PRIMARY KEY`` is the rowid: a NULL written there becomes the next rowid.

        SQLite reports it nullable (other primary keys of a rowid table may hold NULL, a legacy
        quirk). A primary key with no index of origin ``pk`` is that rowid alias: any other
        primary key, and every one of a WITHOUT ROWID table, gets its own index.
        """
        schema, _, name = table.rpartition(".")
        prefix = f"{self.quote_ident(schema)}." if schema else ""
        quoted = self.quote_ident(name)
        pk = [r[1] for r in conn.exec_driver_sql(f"PRAGMA {prefix}table_info({quoted})") if r[5]]
        indexed = any(r[3] == "pk" for r in conn.exec_driver_sql(f"PRAGMA {prefix}index_list({quoted})"))
        return set(pk) if len(pk) == 1 and not indexed else set()

def _read_holder(fd: int) -> RunLockHolder:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        data = {}
    return RunLockHolder(str(data.get("run_id", "unknown")), str(data.get("host", "unknown")),
                         str(data.get("since", "unknown")))


def _write_holder(fd: int, holder: RunLockHolder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"run_id": holder.run_id, "host": holder.host, "since": holder.since,
                              "pid": os.getpid()}).encode(), 0)


def _is_unique_index(sql: str) -> bool:
    return bool(re.match(r"\s*CREATE\s+UNIQUE\b", sql, re.I))


def _after_on(sql: str) -> str:
    """'CREATE INDEX x ON t(a) WHERE ..' -> 't(a) WHERE ..': the name is already the key."""
    match = re.match(r"CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+", sql, re.I)
    return sql[match.end():] if match else sql


def _table(conn: Connection, name: str, sql: str, quoted: str) -> Iterator[Entry]:
    tail = normalize_sql(sql).rsplit(")", 1)[-1].strip().upper()
    yield "table", name, {"options": tail or None}
    pk: list[tuple[int, str]] = []
    for col in conn.exec_driver_sql(f"PRAGMA table_xinfo({quoted})").mappings():
        if col["hidden"] == 1:
            continue  # virtual-table internals
        if col["pk"]:
            pk.append((col["pk"], col["name"]))
        generated = {2: "virtual", 3: "stored"}.get(col["hidden"])
        yield "column", f"{name}.{col['name']}", {
            "table": name, "type": (col["type"] or "").upper() or None, "nullable": not col["notnull"],
            "default": col["dflt_value"], "generated": generated}
    if pk:
        columns = ", ".join(c for _, c in sorted(pk))
        yield "constraint", f"{name}.PRIMARY KEY", {"table": name, "type": "primary key",
                                                    "definition": f"PRIMARY KEY ({columns})"}
    yield from _unique_constraints(conn, name, quoted)
    yield from _foreign_keys(conn, name, quoted)
    for label, expr in _checks(sql):
        yield "constraint", f"{name}.{label}", {"table": name, "type": "check",
                                                "definition": f"CHECK ({expr})"}


def _unique_constraints(conn: Connection, table: str, quoted: str) -> Iterator[Entry]:
    for index in conn.exec_driver_sql(f"PRAGMA index_list({quoted})").mappings():
        if index["origin"] != "u":
            continue
        cols = [r["name"] for r in conn.exec_driver_sql(f"PRAGMA index_info({_quote(index['name'])})")
                .mappings()]
        definition = f"UNIQUE ({', '.join(cols)})"
        yield "constraint", f"{table}.{definition}", {"table": table, "type": "unique",
                                                      "definition": definition}


def _foreign_keys(conn: Connection, table: str, quoted: str) -> Iterator[Entry]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in conn.exec_driver_sql(f"PRAGMA foreign_key_list({quoted})").mappings():
        groups[row["id"]].append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: r["seq"])
        cols = ", ".join(r["from"] for r in rows)
        refs = ", ".join(str(r["to"]) for r in rows)
        key = f"FOREIGN KEY ({cols})"
        yield "constraint", f"{table}.{key}", {
            "table": table, "type": "foreign key", "definition": f"{key} REFERENCES {rows[0]['table']} ({refs})",
            "on_delete": rows[0]["on_delete"], "on_update": rows[0]["on_update"]}


_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|\w+|[()]|[^\s\w'\"`\[\]()]+")


def _checks(sql: str) -> Iterator[tuple[str, str]]:
    """CHECK constraints from CREATE TABLE text (SQLite keeps them nowhere else): (label, expr)."""
    tokens = _TOKEN.findall(sql)
    for i, token in enumerate(tokens):
        if token.upper() != "CHECK" or i + 1 >= len(tokens) or tokens[i + 1] != "(":
            continue
        depth, j = 0, i + 1
        for j in range(i + 1, len(tokens)):
            depth += (tokens[j] == "(") - (tokens[j] == ")")
            if depth == 0:
                break
        expr = normalize_sql(" ".join(tokens[i + 2:j]))
        named = i >= 2 and tokens[i - 2].upper() == "CONSTRAINT"
        yield (tokens[i - 1].strip('"`[]') if named else f"CHECK ({expr})"), expr


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
