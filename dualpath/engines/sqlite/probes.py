"""SQLite: shadows as file copies emptied of rows, root pages (a rebuilt table gets a new one), sizes."""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines.probes import CalibrationSql, LockReading, TableStats

LOCK_ORDER = ("none", "EXCLUSIVE")
NO_TABLE_LOCKS = "not measurable: SQLite locks the whole database file, not tables"


def shadow_path(source: str | None, folder: str) -> str:
    base = os.path.basename(source) if source else "memory.db"
    return os.path.join(folder, f"{base}.shadow-{os.urandom(4).hex()}.db")


def copy_schema(source: str | None, shadow: str) -> None:
    """Copy the file with SQLite's online backup (consistent while others write), then drop the rows."""
    src = sqlite3.connect(source or ":memory:")
    dst = sqlite3.connect(shadow)
    try:
        src.backup(dst)
        dst.isolation_level = None
        dst.execute("PRAGMA foreign_keys = OFF")
        tables = [r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
        dst.execute("BEGIN")
        for table in tables:
            dst.execute(f'DELETE FROM "{table.replace(chr(34), chr(34) * 2)}"')
        dst.execute("COMMIT")
        dst.execute("VACUUM")
    finally:
        src.close()
        dst.close()


def table_storage(conn: Connection) -> dict[str, str]:
    rows = conn.execute(text("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'"))
    return {str(r[0]): str(r[1]) for r in rows}


def held_locks(conn: Connection) -> LockReading:
    return LockReading(None, NO_TABLE_LOCKS)


def lock_rank(mode: str) -> int:
    bare = mode.split("(")[0].strip()
    return LOCK_ORDER.index(bare) if bare in LOCK_ORDER else (1 if bare.upper() == "EXCLUSIVE" else -1)


def table_sizes(conn: Connection, quote: object) -> dict[str, TableStats]:
    """Exact row counts (SQLite has no statistics to ask) and bytes from dbstat when compiled in."""
    names = [str(r[0]) for r in conn.execute(text(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"))]
    try:
        pages = {str(r[0]): int(r[1]) for r in conn.execute(text(
            "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name "
            "GROUP BY m.tbl_name"))}
    except DBAPIError:
        pages = {}
    sizes = {}
    for name in names:
        rows = int(conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar() or 0)  # type: ignore[operator]
        sizes[name] = TableStats(rows, pages.get(name, rows * 64))
    return sizes


CALIBRATION = CalibrationSql(
    create="CREATE TABLE {t} (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL, w TEXT)",
    fill=("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows}) "
          "INSERT INTO {t} SELECT n, (n * 7919) % 1000003, hex(randomblob(16)), 'x' FROM g"),
    analyze="ANALYZE {t}",
    scan="SELECT count(*) FROM {t} WHERE v LIKE '%zz%'",
    update="UPDATE {t} SET k = k + 1",
    index="CREATE INDEX {t}_k_idx ON {t} (k)",
    metadata="ALTER TABLE {t} ADD COLUMN m INTEGER",
    rewrite="ALTER TABLE {t} DROP COLUMN w",
)

# what an operator pastes before, during and after a run (docs: validation checklist)
CHECK_QUERIES = {
    "integrity": "PRAGMA integrity_check;",
    "foreign keys": "PRAGMA foreign_key_check;",
    "database size": "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size();",
}

# the built-in gates (gates.py) by kind: a file has no lock waits to count or replicas to lag
GATE_QUERIES: dict[str, str] = {}
