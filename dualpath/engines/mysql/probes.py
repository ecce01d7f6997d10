"""MySQL/MariaDB: shadows rebuilt from SHOW CREATE, InnoDB table ids (a rebuild gets a new one), sizes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines.probes import CalibrationSql, LockReading, RoleReading, ServerObject, TableStats
from dualpath.engines.verbatim import run_verbatim

LOCK_ORDER = ("NONE", "SHARED", "EXCLUSIVE")
# metadata lock types → the ALTER ... LOCK= clause they amount to for other sessions
_MDL_AS_CLAUSE = {"SHARED_NO_WRITE": "SHARED", "SHARED_NO_READ_WRITE": "EXCLUSIVE", "EXCLUSIVE": "EXCLUSIVE"}
_DEFINER = re.compile(r"\sDEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+)@(`[^`]*`|'[^']*'|\S+)", re.I)

Quote = Callable[[str], str]
_UNKNOWN_COLUMN = 1054


def schema_statements(conn: Connection, quote: Quote) -> Iterator[str]:
    """CREATE statements for the current database: sequences, tables, views, routines, triggers.

    DEFINER clauses are dropped (the shadow's creator owns everything) and the database's own
    name is stripped, so objects point into the shadow and not back at the source.
    """
    database = str(conn.execute(text("SELECT DATABASE()")).scalar() or "")
    strip = f"{quote(database)}."
    kinds = {row[0]: str(row[1]) for row in conn.exec_driver_sql("SHOW FULL TABLES")}
    for name, kind in sorted(kinds.items()):
        if kind == "SEQUENCE":
            yield _clean(_show(conn, f"SHOW CREATE SEQUENCE {quote(name)}", 1), strip)
    for name, kind in sorted(kinds.items()):
        if kind not in ("VIEW", "SEQUENCE"):
            yield _clean(_show(conn, f"SHOW CREATE TABLE {quote(name)}", 1), strip)
    for name, kind in sorted(kinds.items()):
        if kind == "VIEW":
            yield _clean(_show(conn, f"SHOW CREATE VIEW {quote(name)}", 1), strip)
    for kind in ("PROCEDURE", "FUNCTION"):
        for row in conn.execute(text("SELECT ROUTINE_NAME FROM information_schema.ROUTINES "
                                     "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = :k"), {"k": kind}):
            yield _clean(_show(conn, f"SHOW CREATE {kind} {quote(row[0])}", 2), strip)
    for row in conn.execute(text("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
                                 "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY ACTION_ORDER")):
        yield _clean(_show(conn, f"SHOW CREATE TRIGGER {quote(row[0])}", 2), strip)


def _show(conn: Connection, sql: str, column: int) -> str:
    row = run_verbatim(conn, sql).first()
    return str(row[column]) if row is not None else ""


def _clean(ddl: str, strip: str) -> str:
    return _DEFINER.sub("", ddl).replace(strip, "")


def user_objects(conn: Connection) -> list[tuple[str, str]]:
    """(kind, name) of the tables, views, sequences, routines and events in the current database (triggers
    go with their tables); none in a database fresh from CREATE DATABASE."""
    rows = conn.execute(text(
        "SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE' ELSE 'TABLE' END, TABLE_NAME "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() "
        "UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() "
        "ORDER BY 1, 2"))
    return [(str(kind), str(name)) for kind, name in rows]


def server_objects(conn: Connection, quote: Quote) -> list[ServerObject] | None:
    """The server's users and (MariaDB) roles: a database dropped does not take them along; None when
    this user may not read mysql.user."""
    rows: list[tuple[str, str, str]] = []
    for sql in ("SELECT User, Host, is_role FROM mysql.user", "SELECT User, Host, 'N' FROM mysql.user"):
        try:
            rows = [(str(u), str(h), str(r)) for u, h, r in run_verbatim(conn, sql)]
            break
        except DBAPIError as exc:
            if errno_of(exc) != _UNKNOWN_COLUMN:  # MySQL has no is_role: its roles are users
                return None
    found = []
    for user, host, is_role in rows:
        if is_role == "Y":
            found.append(ServerObject("role", user, f"role {user}", f"DROP ROLE {quote(user)}"))
        else:
            drop = f"DROP USER {quote(user)}@{quote(host)}"
            found.append(ServerObject("user", user, f"user '{user}'@'{host}'", drop))
    return found


def drop_user_objects(conn: Connection, quote: Quote) -> None:
    """Drop each object ``user_objects`` lists, views first, with foreign keys unchecked (any order then works)."""
    conn.exec_driver_sql("SET SESSION FOREIGN_KEY_CHECKS = 0")
    try:
        for kind, name in sorted(user_objects(conn), key=lambda o: o[0] != "VIEW"):
            conn.exec_driver_sql(f"DROP {kind} IF EXISTS {quote(name)}")
    finally:
        conn.exec_driver_sql("SET SESSION FOREIGN_KEY_CHECKS = 1")


def replay(conn: Connection, statements: list[str]) -> None:
    """Run CREATE statements without foreign-key checks; views that need a later view are retried."""
    conn.exec_driver_sql("SET SESSION FOREIGN_KEY_CHECKS = 0")
    todo = [s for s in statements if s]
    while todo:
        failed: list[tuple[str, DBAPIError]] = []
        for ddl in todo:
            try:
                run_verbatim(conn, ddl)
            except DBAPIError as exc:
                failed.append((ddl, exc))
        if len(failed) == len(todo):
            raise failed[0][1]
        todo = [ddl for ddl, _ in failed]


def table_storage(conn: Connection, flavor: str) -> dict[str, str]:
    """Table → InnoDB table id; ALGORITHM=COPY and in-place rebuilds create a new one."""
    view = "INNODB_SYS_TABLES" if flavor == "mariadb" else "INNODB_TABLES"
    database = str(conn.execute(text("SELECT DATABASE()")).scalar() or "")
    try:
        rows = conn.execute(text(f"SELECT NAME, TABLE_ID FROM information_schema.{view} WHERE NAME LIKE :p"),
                            {"p": database.replace("_", "\\_") + "/%"}).all()
    except DBAPIError:  # no PROCESS privilege: rebuilds cannot be seen
        return {}
    return {str(name).split("/", 1)[1]: str(table_id) for name, table_id in rows}


def held_locks(conn: Connection) -> LockReading:
    """Metadata locks of this session from performance_schema, when it is on."""
    enabled = conn.exec_driver_sql("SELECT @@performance_schema").scalar()
    if not enabled:
        return LockReading(None, "not measurable: performance_schema is OFF")
    rows = conn.execute(text(
        "SELECT m.OBJECT_NAME, m.LOCK_TYPE FROM performance_schema.metadata_locks m "
        "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
        "WHERE t.PROCESSLIST_ID = CONNECTION_ID() AND m.OBJECT_TYPE = 'TABLE' "
        "AND m.OBJECT_SCHEMA = DATABASE() AND m.LOCK_STATUS = 'GRANTED'"))
    locks: dict[str, str] = {}
    for name, kind in rows:
        mode = _MDL_AS_CLAUSE.get(str(kind), "NONE")
        if lock_rank(mode) > lock_rank(locks.get(name, "")):
            locks[name] = mode
    return LockReading(locks, "performance_schema.metadata_locks of the session")


def errno_of(exc: BaseException | None) -> int | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def explain_rows(conn: Connection, sql: str) -> int | None:
    """Rows the optimizer expects to examine (EXPLAIN FORMAT=JSON: MySQL's rows_examined_per_scan,
    MariaDB's rows), summed over the tables of the statement; InnoDB locks each row it examines."""
    try:
        plan = run_verbatim(conn, f"EXPLAIN FORMAT=JSON {sql}").scalar()
    except DBAPIError:
        return None
    found = [int(v) for v in _json_values(json.loads(str(plan)), ("rows_examined_per_scan", "rows"))]
    return sum(found) if found else None


def _json_values(node: object, keys: tuple[str, ...]) -> Iterator[float]:
    """Per table object: the first of ``keys`` it has (numbers only), depth first."""
    if isinstance(node, dict):
        hit = next((node[k] for k in keys if isinstance(node.get(k), int | float)), None)
        if hit is not None and "table_name" in node:
            yield hit
        for value in node.values():
            yield from _json_values(value, keys)
    elif isinstance(node, list):
        for value in node:
            yield from _json_values(value, keys)


def lock_rank(mode: str) -> int:
    bare = mode.split("(")[0].strip().upper()
    return LOCK_ORDER.index(bare) if bare in LOCK_ORDER else -1


def table_sizes(conn: Connection) -> dict[str, TableStats]:
    rows = conn.execute(text(
        "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"))
    return {str(r[0]): TableStats(int(r[1]), int(r[2])) for r in rows}


# ten digits cross-joined six times: a million rows on MySQL and MariaDB alike, no recursion limits
_DIGITS = "(SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " \
          "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
_ID = "a.n + 10 * b.n + 100 * c.n + 1000 * d.n + 10000 * e.n + 100000 * f.n + 1"

CALIBRATION = CalibrationSql(
    create="CREATE TABLE {t} (id BIGINT PRIMARY KEY, k INT NOT NULL, v VARCHAR(64) NOT NULL) ENGINE=InnoDB",
    fill=(f"INSERT INTO {{t}} SELECT {_ID}, MOD(({_ID}) * 7919, 1000003), MD5({_ID}) "
          f"FROM {_DIGITS} a, {_DIGITS} b, {_DIGITS} c, {_DIGITS} d, {_DIGITS} e, {_DIGITS} f "
          "LIMIT {rows}"),
    analyze="ANALYZE TABLE {t}",
    scan="SELECT COUNT(*) FROM {t} WHERE LOCATE('zz', v) > 0",
    update="UPDATE {t} SET k = k + 1",
    index="CREATE INDEX {t}_k_idx ON {t} (k)",
    metadata="ALTER TABLE {t} ADD COLUMN m INT",
    rewrite="ALTER TABLE {t} MODIFY k BIGINT NOT NULL",
)

# what an operator pastes before, during and after a run (docs: validation checklist)
CHECK_QUERIES = {
    "long transactions": "SELECT trx_mysql_thread_id, trx_started, TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS open_s "
                         "FROM information_schema.INNODB_TRX ORDER BY trx_started;",
    "lock waits": "SELECT ID, USER, TIME, STATE, LEFT(INFO, 80) AS query FROM information_schema.PROCESSLIST "
                  "WHERE STATE LIKE 'Waiting for%lock%';",
    "replication lag": "SHOW SLAVE STATUS;",
    "database size": "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES "
                     "WHERE TABLE_SCHEMA = DATABASE();",
}

# the built-in gates (gates.py) by kind; each reads one number, :older_than_s is bound by the gate
GATE_QUERIES = {
    "lock_waits": "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
    "long_transactions": "SELECT COUNT(*) FROM information_schema.innodb_trx "
                         "WHERE trx_started < NOW() - INTERVAL :older_than_s SECOND",
}


# global privileges (ON *.*) that only read the server's state: the gates and lock readings use them
_MONITORING = {"USAGE", "PROCESS", "REPLICATION CLIENT", "BINLOG MONITOR", "SLAVE MONITOR", "REPLICA MONITOR"}
_GLOBAL_GRANT = re.compile(r"^GRANT\s+(?P<privileges>.+?)\s+ON\s+\*\.\*\s+TO\s+"
                           r".+?(?P<option>\s+WITH\s+GRANT\s+OPTION)?\s*$", re.I | re.S)


def role_reading(conn: Connection) -> RoleReading:
    """CURRENT_USER() and its global grants: SUPER or ALL PRIVILEGES ON *.* is a superuser; any other
    privilege on *.* (beyond monitoring) reaches every database of the server."""
    role = str(conn.execute(text("SELECT CURRENT_USER()")).scalar())
    privileges: list[str] = []
    granting = False
    for (line,) in conn.execute(text("SHOW GRANTS FOR CURRENT_USER()")):
        found = _GLOBAL_GRANT.match(str(line))
        if found:
            privileges += [p.strip().upper() for p in found["privileges"].split(",") if p.strip()]
            granting = granting or bool(found["option"])
    superuser = "ALL PRIVILEGES" in privileges or "ALL" in privileges or "SUPER" in privileges
    broad = [] if superuser else [f"{p} ON *.*" for p in privileges if p not in _MONITORING]
    if granting and not superuser:
        broad.append("WITH GRANT OPTION ON *.*")
    user, _, host = role.rpartition("@")
    return RoleReading(f"'{user}'@'{host}'", superuser, tuple(broad))
