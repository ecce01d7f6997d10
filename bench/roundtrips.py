"""Benchmark: server round trips per change of `dualpath apply` and `dualpath rollback`, and what they are.

    .venv/bin/python bench/roundtrips.py [--changes 60] [--engines postgresql,mariadb] [--quick]

dualpath runs in this process (the same Session and Runner the CLI uses) on a fresh database per
engine, with a listener on every SQLAlchemy engine that counts what reaches the server, each one
round trip: statements (cursor executes), COMMIT, ROLLBACK and, on PostgreSQL, the BEGIN psycopg
sends before a transaction's first statement (none of these three on a connection in autocommit mode,
where they travel inside the statements dualpath sends). The generated corpus of bench/peers.py (one statement
per change: create table, add column, add index, insert rows) is applied, then rolled back
(``--all``); per change = (the run − the same command with nothing to do) / changes, so the run's
fixed part (run lock, reading history, creating dualpath's tables) is left out.

Each round trip is put in a category by what it sends: the migration's own statement, the
statement journal, history and audit rows, schema digests (information_schema / pg_catalog reads and
MariaDB's SHOW CREATE TABLE, which tell whether an interrupted statement took effect), commits, and
the rest. The peer is the database's own client (`mariadb < file`, `psql -f`): one round trip per
statement, no bookkeeping.
Writes bench/results/roundtrips.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import RESULTS, Migration, generate_migrations, scratch_db, summary_row, write_flyway, write_result  # noqa: E402

OUT = RESULTS / "roundtrips.json"
ENGINES = ("postgresql", "mariadb")
CATEGORIES = ("migration", "journal", "history", "digest", "commit", "begin/rollback", "other")
_DIGEST = re.compile(r"information_schema|pg_catalog|pg_class|pg_namespace|pg_attribute|pg_index|pg_constraint|"
                     r"pg_proc|pg_trigger|pg_type|pg_depend|SELECT DATABASE\(\)|CONNECTION_ID|pg_backend_pid|"
                     r"SHOW CREATE",
                     re.IGNORECASE)


class Counting:
    """What every SQLAlchemy engine sends, counted by category (see the module docstring)."""

    def __init__(self, migration_sql: set[str]) -> None:
        self.migration_sql = migration_sql
        self.counts: Counter[str] = Counter()

    def category(self, sql: str) -> str:
        sql = sql.removeprefix("BEGIN;\n")  # PostgreSQL: BEGIN travels with a change's first statement
        if sql in self.migration_sql:
            return "migration"
        if "dualpath_statement_journal" in sql or "dualpath_batch_checkpoint" in sql:
            return "journal"
        if "dualpath_history" in sql or "dualpath_audit" in sql:
            return "history"
        return "digest" if _DIGEST.search(sql) else "other"

    def statement(self, conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        self.counts[self.category(sql)] += 1

    def commit(self, conn: Any) -> None:
        if not _autocommit(conn):  # else the driver sends nothing (COMMIT went with a statement, if any)
            self.counts["commit"] += 1

    def rollback(self, conn: Any) -> None:
        if not _autocommit(conn):
            self.counts["begin/rollback"] += 1

    def begin(self, conn: Any) -> None:
        # psycopg opens a transaction with its own BEGIN; PyMySQL and autocommit sessions send none
        if conn.dialect.name == "postgresql" and not _autocommit(conn):
            self.counts["begin/rollback"] += 1

    @contextmanager
    def listening(self) -> Iterator[Counter[str]]:
        from sqlalchemy import Engine, event

        hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", self.statement), ("commit", self.commit),
            ("rollback", self.rollback), ("begin", self.begin)]
        for name, hook in hooks:
            event.listen(Engine, name, hook)
        self.counts = Counter()
        try:
            yield self.counts
        finally:
            for name, hook in hooks:
                event.remove(Engine, name, hook)


def _autocommit(conn: Any) -> bool:
    """psycopg's ``autocommit``; PyMySQL's ``get_autocommit()``."""
    raw = conn.connection.dbapi_connection
    found = getattr(raw, "autocommit", None)
    return bool(raw.get_autocommit()) if callable(found) or found is None else bool(found)


def run_command(url: str, folder: Path, command: str) -> None:
    """`dualpath apply` or `dualpath rollback --all`, in this process, output dropped."""
    from dualpath.session import open_session

    session = open_session(url, folder, None, echo=lambda line: None)
    runner = session.runner()
    if command == "apply":
        runner.apply()
    else:
        runner.rollback(everything=True)


def count(counting: Counting, url: str, folder: Path, command: str) -> tuple[Counter[str], float]:
    with counting.listening() as counts:
        started = time.perf_counter()
        run_command(url, folder, command)
        took = time.perf_counter() - started
    return Counter(counts), took


def measure(server: str, migrations: list[Migration], work: Path) -> dict[str, Any]:
    folder = work / server
    write_flyway(folder, migrations)
    counting = Counting({sql.strip().rstrip(";") for m in migrations for sql in (m.up, m.down)})
    result: dict[str, Any] = {}
    with scratch_db(server, "roundtrips") as url, chdir(work):
        for command in ("apply", "rollback"):
            ran, took = count(counting, url, folder, command)
            idle, _ = count(counting, url, folder, command)  # nothing left to do: the fixed part
            per = {c: (ran[c] - idle[c]) / len(migrations) for c in CATEGORIES}
            result[command] = {"per_change": {c: round(v, 2) for c, v in per.items()},
                               "total_per_change": round(sum(per.values()), 2),
                               "fixed": sum(idle.values()), "seconds": round(took, 3),
                               "ms_per_change": round(took / len(migrations) * 1000, 2)}
    return result


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'engine':<12}{'command':<10}" + "".join(f"{c:>16}" for c in CATEGORIES) + f"{'total':>8}{'fixed':>7}"
    print("\nround trips per change (peer: the database's own client, 1 per statement)")
    print(head)
    for server, commands in results.items():
        for command, found in commands.items():
            cells = "".join(f"{found['per_change'][c]:>16.2f}" for c in CATEGORIES)
            print(f"{server:<12}{command:<10}{cells}{found['total_per_change']:>8.2f}{found['fixed']:>7}")


def summarize(results: dict[str, dict[str, Any]], changes: int) -> list[dict[str, Any]]:
    rows = []
    for server, commands in results.items():
        client = "mariadb < file" if server == "mariadb" else "psql -f"
        for command, found in commands.items():
            total = found["total_per_change"]
            rows.append(summary_row("roundtrips", f"{server} {command}: server round trips per change, "
                                    f"{changes} one-statement changes", f"{total:.2f}", f"{client} 1.00",
                                    total, "reported", None))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: postgresql,mariadb")
    parser.add_argument("--quick", action="store_true", help="16 changes")
    args = parser.parse_args()
    changes = 16 if args.quick else args.changes
    servers = [s.strip() for s in args.engines.split(",") if s.strip()]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for server in servers:
            migrations = generate_migrations(changes, mysql=server == "mariadb")
            print(f"{server}: apply and roll back {changes} changes, counting round trips", flush=True)
            results[server] = measure(server, migrations, Path(tmp))
    print_table(results)
    result = {"machine": platform.platform(), "load_average_1m": round(os.getloadavg()[0], 2),
              "quick": args.quick, "changes": changes, "results": results,
              "summary": summarize(results, changes)}
    write_result(OUT, result)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
