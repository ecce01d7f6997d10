"""MySQL/MariaDB: shadows rebuilt from SHOW CREATE, InnoDB table ids (a rebuild gets a new one), sizes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines.probes import CalibrationSql, LockReading, TableStats

LOCK_ORDER = ("NONE", "SHARED", "EXCLUSIVE")
# metadata lock types → the ALTER ... LOCK= clause they amount to for other sessions
_MDL_AS_CLAUSE = {"SHARED_NO_WRITE": "SHARED", "SHARED_NO_READ_WRITE": "EXCLUSIVE", "EXCLUSIVE": "EXCLUSIVE"}
_DEFINER = re.compile(r"\sDEFINER\s*=\s*(`[^`]*`|'[^']*'|\S+)@(`[^`]*`|'[^']*'|\S+)", re.I)

Quote = Callable[[str], str]


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
    row = conn.exec_driver_sql(sql).first()
    return str(row[column]) if row is not None else ""


def _clean(ddl: str, strip: str) -> str:
    return _DEFINER.sub("", ddl).replace(strip, "")


def replay(conn: Connection, statements: list[str]) -> None:
    """Run CREATE statements without foreign-key checks; views that need a later view are retried."""
    conn.exec_driver_sql("SET SESSION FOREIGN_KEY_CHECKS = 0")
    todo = [s for s in statements if s]
    while todo:
        failed: list[tuple[str, DBAPIError]] = []
        for ddl in todo:
            try:
                conn.exec_driver_sql(ddl)
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
