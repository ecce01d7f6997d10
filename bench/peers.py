"""Shared helpers for the benchmarks against peer tools: scratch databases, the generated
migration corpus, timing of processes, schema counts and the summary-row contract.

Every bench/results/*.json carries a top-level "summary": a list of rows
{"benchmark", "measure", "dualpath", "peer", "ratio", "goal", "met"} (strings, ratio str|None,
met bool|None) that bench/run_all.py prints as one table.
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
MY_SERVER = "mysql://root@127.0.0.1:3306/mysql"
SERVERS = {"postgresql": PG_SERVER, "mariadb": MY_SERVER}
PREFIX = "bt_"  # every generated table starts with this: schema counts ignore the tools' own tables


def summary_row(benchmark: str, measure: str, dualpath: str, peer: str, ratio: float | None, goal: str,
                met: bool | None) -> dict[str, Any]:
    """One row of the summary contract (see module docstring)."""
    return {"benchmark": benchmark, "measure": measure, "dualpath": dualpath, "peer": peer,
            "ratio": None if ratio is None else f"{ratio:.2f}", "goal": goal, "met": met}


def write_result(path: Path, data: dict[str, Any]) -> None:
    """One benchmark's JSON (bench/results/<name>.json), its folder made when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def find_tool(name: str) -> str | None:
    """The tool from the venv first (squawk, alembic), then PATH (sqitch, psql)."""
    return shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)


def require_tool(name: str, install: str) -> str:
    found = find_tool(name)
    if found is None:
        sys.exit(f"{name} not found; install it with: {install}")
    return found


@contextmanager
def scratch_pg(label: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (also on failure)."""
    with scratch_db("postgresql", label) as url:
        yield url


@contextmanager
def scratch_db(server: str, label: str) -> Iterator[str]:
    """A fresh, empty database on ``server`` ("postgresql" or "mariadb"), dropped afterwards."""
    from dualpath.engines import open_engine

    base = SERVERS[server]
    engine = open_engine(base)
    name = f"dp_bench_{label}_{secrets.token_hex(3)}"
    engine.create_database(name)
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        engine.drop_database(name)


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
          ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one process, start to exit, as a user sees them; another exit code stops the bench
    (linters exit 1 when they find something: pass ok=(0, 1))."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return took


def repeat(cmd: list[str], runs: int, cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Median and min wall seconds of `runs` runs (one warm-up run first, not counted: the OS file cache)."""
    timed(cmd, cwd, ok=ok)
    times = [timed(cmd, cwd, ok=ok) for _ in range(runs)]
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4), "runs": runs}


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    up: str
    down: str


def generate_migrations(count: int, seed: int = 9, portable: bool = False, mysql: bool = False) -> list[Migration]:
    """A realistic mix of small changes: create table, add column, add index, insert rows.

    Each kind needs an existing table, so a table is created first and every 8th change
    creates another; downs undo exactly their up (for round-trip verification). No colons in
    the SQL: Alembic's op.execute would read them as bind parameters. ``portable`` keeps to SQL
    that SQLite runs too (no identity column, no timestamptz); ``mysql`` writes MySQL/MariaDB
    (AUTO_INCREMENT, VARCHAR where an index may come, DROP INDEX ... ON table).
    The same seed gives the same sequence of kinds, tables and columns in every flavor.
    """
    rng = random.Random(seed)
    tables: list[str] = []
    columns: dict[str, list[str]] = {}
    indexed: set[tuple[str, str]] = set()
    inserted: dict[str, int] = {}
    out = []
    for n in range(1, count + 1):
        kind = "create" if not tables or n % 8 == 1 else rng.choice(["column", "column", "index", "insert"])
        if kind == "create":
            table = f"{PREFIX}{len(tables) + 1:04d}"
            tables.append(table)
            columns[table] = ["name"]
            ident, name, stamp = _create_columns(portable, mysql)
            up = f"CREATE TABLE {table} (\n  id {ident},\n  name {name} NOT NULL,\n  created_at {stamp}\n);\n"
            down = f"DROP TABLE {table};\n"
        else:
            table = rng.choice(tables)
            if kind == "index":
                free = [c for c in columns[table] if (table, c) not in indexed]
                kind = "index" if free else "column"
            if kind == "column":
                column = f"c{len(columns[table]):03d}"
                columns[table].append(column)
                ctype = rng.choice(["text", "integer", "bigint", "numeric(12,2)"] if portable else
                                   ["text", "integer", "bigint", "boolean", "numeric(12,2)", "timestamptz"])
                if mysql:  # an index may come on any column: no unbounded text in MySQL keys
                    ctype = _MYSQL_TYPES.get(ctype, ctype)
                up = f"ALTER TABLE {table} ADD COLUMN {column} {ctype};\n"
                down = f"ALTER TABLE {table} DROP COLUMN {column};\n"
            elif kind == "index":
                column = rng.choice(free)
                indexed.add((table, column))
                up = f"CREATE INDEX {table}_{column}_idx ON {table} ({column});\n"
                down = f"DROP INDEX {table}_{column}_idx{f' ON {table}' if mysql else ''};\n"
            else:
                first = inserted.get(table, 0)
                rows = ",\n".join(f"  ({first + k}, 'row {first + k}')" for k in range(1, 6))
                inserted[table] = first + 5
                up = f"INSERT INTO {table} (id, name) VALUES\n{rows};\n"
                names = ", ".join(f"'row {first + k}'" for k in range(1, 6))
                down = f"DELETE FROM {table} WHERE name IN ({names});\n"
        out.append(Migration(n, f"{kind}_{table}", up, down))
    return out


_MYSQL_TYPES = {"text": "varchar(255)", "timestamptz": "timestamp NULL"}


def _create_columns(portable: bool, mysql: bool) -> tuple[str, str, str]:
    """The id, name and created_at column types of a created table."""
    if mysql:
        return "bigint AUTO_INCREMENT PRIMARY KEY", "varchar(255)", "timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP"
    if portable:
        return "integer PRIMARY KEY", "text", "text NOT NULL DEFAULT ''"
    return "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "text", "timestamptz NOT NULL DEFAULT now()"


def write_flyway(folder: Path, migrations: list[Migration]) -> None:
    """V<n>__<name>.sql ups and U<n>__<name>.sql downs, as Flyway Teams lays them out."""
    folder.mkdir(parents=True, exist_ok=True)
    for m in migrations:
        (folder / f"V{m.number}__{m.name}.sql").write_text(m.up)
        (folder / f"U{m.number}__{m.name}.sql").write_text(m.down)


def schema_counts(url: str) -> dict[str, int]:
    """Tables, columns, indexes and rows of the generated objects: equal after every tool, or a tool is wrong."""
    import sqlalchemy as sa

    from dualpath.urls import parse_url

    engine = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    like = PREFIX.replace("_", r"\_") + "%"
    mysql = url.startswith(("mysql", "mariadb"))
    schema = "DATABASE()" if mysql else "'public'"
    index_count = ("SELECT count(DISTINCT table_name, index_name) FROM information_schema.statistics "
                   "WHERE table_schema = DATABASE() AND table_name LIKE :p" if mysql else
                   "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE :p")
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = {schema} "
            "AND table_name LIKE :p"), {"p": like})]
        columns = conn.execute(sa.text(
            f"SELECT count(*) FROM information_schema.columns WHERE table_schema = {schema} "
            "AND table_name LIKE :p"), {"p": like}).scalar_one()
        indexes = conn.execute(sa.text(index_count), {"p": like}).scalar_one()
        rows = sum(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables)
    engine.dispose()
    return {"tables": len(tables), "columns": int(columns), "indexes": int(indexes), "rows": int(rows)}


def expected_counts(migrations: list[Migration]) -> dict[str, int]:
    """What the corpus must leave behind, counted from the generator's own SQL."""
    tables = sum(m.name.startswith("create_") for m in migrations)
    return {"tables": tables,
            "columns": 3 * tables + sum(m.name.startswith("column_") for m in migrations),
            "indexes": tables + sum(m.name.startswith("index_") for m in migrations),
            "rows": 5 * sum(m.name.startswith("insert_") for m in migrations)}
