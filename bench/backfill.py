"""Benchmark: backfilling a big table three ways while a writer keeps updating it.

    .venv/bin/python bench/backfill.py [--pg-rows 2000000] [--mysql-rows 2000000] [--only postgresql|mysql] [--quick]

For PostgreSQL and MariaDB, on a fresh N-row table each time:

- single: one ``UPDATE t SET n = n + 1`` in one transaction (the physical limit for throughput),
- dualpath: the same statement under ``-- dualpath:batch`` through ``dualpath apply``,
- offset: naive batches paged with ``LIMIT size OFFSET k`` (the usual hand-written loop).

A concurrent writer updates random rows one at a time (autocommit) during each and records its
latency. Prints throughput, the ratio to the single UPDATE and the writer's p50/p99/max; writes
bench/results/backfill.json. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.engines import open_engine
from dualpath.urls import parse_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # peers, beside this file
RESULTS = ROOT / "bench" / "results" / "backfill.json"

from peers import write_result  # noqa: E402

SERVERS = {"postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
           "mysql": "mysql://root@127.0.0.1:3306/mysql"}
OFFSET_SIZE = 10_000
DIRECTIVE = "-- dualpath:batch table=bench key=id size=5000"


class Writer(threading.Thread):
    """Single-row UPDATEs of random rows, each its own transaction, timed."""

    def __init__(self, url: str, rows: int) -> None:
        super().__init__(daemon=True)
        self.url, self.rows = url, rows
        self.writes: list[tuple[float, float]] = []  # (started at, latency ms)
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        engine = create_engine(parse_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        rng = random.Random(1)
        with engine.connect() as conn:
            unlimited_lock_wait(conn)
            self.ready.set()
            while not self.stop.is_set():
                started = time.perf_counter()
                conn.execute(text("UPDATE bench SET w = w + 1 WHERE id = :id"), {"id": rng.randint(1, self.rows)})
                self.writes.append((started, (time.perf_counter() - started) * 1000))
                time.sleep(0.002)  # ~a few hundred writes/s: traffic, not a second bulk job
        engine.dispose()


def unlimited_lock_wait(conn: Connection) -> None:
    """The writer waits as long as it must: its latency is what we measure."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET lock_timeout = 0"))
    else:
        conn.execute(text("SET SESSION innodb_lock_wait_timeout = 3600"))


def make_table(url: str, rows: int) -> None:
    engine = create_engine(parse_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench"))
        conn.execute(text("CREATE TABLE bench (id BIGINT NOT NULL PRIMARY KEY, n INT NOT NULL DEFAULT 0, "
                          "w INT NOT NULL DEFAULT 0, payload VARCHAR(100) NOT NULL DEFAULT 'x')"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("INSERT INTO bench (id, payload) "
                              f"SELECT i, md5(i::text) FROM generate_series(1, {rows}) i"))
            conn.execute(text("VACUUM ANALYZE bench"))
        else:
            conn.execute(text(f"INSERT INTO bench (id, payload) SELECT seq, md5(seq) FROM seq_1_to_{rows}"))
            conn.execute(text("ANALYZE TABLE bench"))
    engine.dispose()


def run_single(url: str, rows: int) -> None:
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE bench SET n = n + 1"))
    engine.dispose()


def run_offset(url: str, rows: int) -> None:
    """The loop people write by hand: page ids with OFFSET, update that page, commit."""
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        offset = 0
        while True:
            ids = [r[0] for r in conn.execute(text(
                f"SELECT id FROM bench ORDER BY id LIMIT {OFFSET_SIZE} OFFSET {offset}"))]
            if not ids:
                conn.commit()
                break
            conn.execute(text("UPDATE bench SET n = n + 1 WHERE id BETWEEN :lo AND :hi"),
                         {"lo": ids[0], "hi": ids[-1]})
            conn.commit()
            offset += OFFSET_SIZE
    engine.dispose()


class Quiet:
    """Progress hook that records nothing: the bench measures the batch, not the bar."""

    def started(self, *args: Any) -> None: ...

    def advanced(self, *args: Any) -> None: ...

    def noted(self, message: str) -> None: ...

    def finished(self, *args: Any) -> None: ...


class Dualpath:
    """``dualpath apply`` of the batched UPDATE. Its backup gate (the UPDATE is destructive, so apply
    first takes and verifies a backup of the table) runs before the clock starts and is timed on its
    own (``backup_s``): it is not part of the batch, and the other ways take no backup either."""

    def __init__(self) -> None:
        self.backup_s = 0.0

    def prepare(self, url: str, rows: int) -> Callable[[], None]:
        from dualpath.session import open_session

        tmp = tempfile.TemporaryDirectory()
        folder = Path(tmp.name) / "migrations"
        folder.mkdir()
        (folder / "V1__backfill.sql").write_text(f"{DIRECTIVE}\nUPDATE bench SET n = n + 1;\n")
        (folder / "U1__backfill.sql").write_text("UPDATE bench SET n = n - 1;\n")
        config = Path(tmp.name) / "dualpath.toml"
        config.write_text('migrations = "migrations"\n')
        session = open_session(url, folder, config, echo=lambda line: None)
        runner = session.runner()
        runner.progress = Quiet()
        started = time.perf_counter()
        session.back_up_before(list(session.changes), "up")
        self.backup_s = time.perf_counter() - started
        runner.protect = None  # done just above

        def apply() -> None:
            with tmp:
                runner.apply()

        return apply


def once(how: Callable[[str, int], None]) -> Callable[[str, int], Callable[[], None]]:
    return lambda url, rows: lambda: how(url, rows)


def measure(url: str, rows: int, prepare: Callable[[str, int], Callable[[], None]]) -> dict[str, Any]:
    make_table(url, rows)
    run = prepare(url, rows)
    writer = Writer(url, rows)
    writer.start()
    writer.ready.wait()
    time.sleep(0.5)  # a baseline of unblocked writes before the backfill starts
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    writer.stop.set()
    writer.join()
    check(url, rows)
    # writes that started while the backfill ran (a write blocked until the end counts fully)
    lat = sorted(ms for at, ms in writer.writes if started <= at <= started + seconds) or [0.0]
    return {"seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "writes": len(lat),
            "writer_p50_ms": round(statistics.median(lat), 2), "writer_p99_ms": round(percentile(lat, 99), 2),
            "writer_max_ms": round(lat[-1], 2)}


def check(url: str, rows: int) -> None:
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT n, COUNT(*) FROM bench GROUP BY n")).all()
    engine.dispose()
    assert [tuple(r) for r in counts] == [(1, rows)], f"every row exactly once, got {counts}"


def percentile(sorted_values: list[float], p: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def bench_server(backend: str, rows: int) -> dict[str, Any]:
    server = open_engine(SERVERS[backend])
    url = server.create_database(f"dp_bench_backfill_{random.randrange(10**6)}").render_as_string(
        hide_password=False)
    try:
        results = {}
        dualpath = Dualpath()
        for name, prepare in (("single UPDATE", once(run_single)), ("dualpath batches", dualpath.prepare),
                              ("OFFSET batches", once(run_offset))):
            print(f"  {backend}: {name} on {rows:,} rows ...", flush=True)
            results[name] = measure(url, rows, prepare)
        results["dualpath batches"]["backup_s"] = round(dualpath.backup_s, 2)
        base = results["single UPDATE"]["rows_per_s"]
        for r in results.values():
            r["ratio_to_single"] = round(r["rows_per_s"] / base, 3)
        with server.connect() as conn:
            version = ".".join(str(p) for p in server.server_version(conn))
        return {"rows": rows, "server": f"{server.flavor} {version}", "results": results}
    finally:
        server.drop_database(parse_url(url).database or "")


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{'server':<22} {'way':<18} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'× single':>9} "
          f"{'writer p50':>11} {'writer p99':>11} {'writer max':>11}")
    for backend in report["servers"].values():
        for name, r in backend["results"].items():
            print(f"{backend['server']:<22} {name:<18} {backend['rows']:>10,} {r['seconds']:>8.2f} "
                  f"{r['rows_per_s']:>10,} {r['ratio_to_single']:>9.2f} {r['writer_p50_ms']:>9.2f}ms "
                  f"{r['writer_p99_ms']:>9.2f}ms {r['writer_max_ms']:>9.1f}ms")


def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for bench/run_all.py's table (contract in bench/peers.py); the goals are docs/batches.md's."""
    rows = []
    for backend in report["servers"].values():
        r, single, offset = (backend["results"][k] for k in ("dualpath batches", "single UPDATE", "OFFSET batches"))
        where = f"{backend['server']}, {backend['rows']:,} rows"
        rows.append({"benchmark": "backfill", "measure": f"throughput, {where} (rows/s)",
                     "dualpath": f"{r['rows_per_s']:,}", "peer": f"single UPDATE {single['rows_per_s']:,}",
                     "ratio": f"{r['ratio_to_single']:.2f}", "goal": ">= 0.60 of single UPDATE",
                     "met": r["ratio_to_single"] >= 0.6})
        rows.append({"benchmark": "backfill", "measure": f"writer p99 during the backfill, {where} (ms)",
                     "dualpath": f"{r['writer_p99_ms']:.1f}", "peer": f"single UPDATE {single['writer_p99_ms']:.1f}",
                     "ratio": None, "goal": "< 50 ms", "met": r["writer_p99_ms"] < 50})
        rows.append({"benchmark": "backfill", "measure": f"throughput vs hand-written OFFSET loop, {where}",
                     "dualpath": f"{r['rows_per_s']:,}", "peer": f"OFFSET {offset['rows_per_s']:,}",
                     "ratio": f"{r['rows_per_s'] / offset['rows_per_s']:.2f}", "goal": "reported", "met": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-rows", type=int, default=2_000_000)
    parser.add_argument("--mysql-rows", type=int, default=2_000_000)
    parser.add_argument("--only", choices=sorted(SERVERS))
    parser.add_argument("--quick", action="store_true", help="100,000 rows per server")
    args = parser.parse_args()
    if args.quick:
        args.pg_rows = args.mysql_rows = 100_000
    rows = {"postgresql": args.pg_rows, "mysql": args.mysql_rows}
    report: dict[str, Any] = {"machine": platform.platform(), "directive": DIRECTIVE,
                              "offset_batch_size": OFFSET_SIZE, "quick": args.quick, "servers": {}}
    for backend in SERVERS:
        if args.only in (None, backend):
            report["servers"][backend] = bench_server(backend, rows[backend])
    print_table(report)
    report["summary"] = summarize(report)
    write_result(RESULTS, report)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
