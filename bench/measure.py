"""What measuring on a shadow costs: per statement, and to make and drop the shadow.

A scratch target gets 10 tables of 1,000 rows; one change of 30 statements (added columns, type changes
with and without a rewrite, index builds) is measured on a shadow of it (10 sampled rows a table), each
statement timed as measured (catalog reads before and after, on MySQL/MariaDB the ALGORITHM/LOCK ladder)
and, on a second shadow, run alone. Prints a table and writes bench/results/measure.json.

    .venv/bin/python bench/measure.py [--engines postgresql,mariadb] [--statements 30] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.risk.catalogue import catalogue_for
from dualpath.risk.check import build_context
from dualpath.risk.measure.run import in_one_transaction, prober_for
from dualpath.risk.measure.shadow import shadow_of
from dualpath.sql import split_statements

SERVERS = {"postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
           "mariadb": "mysql://root@127.0.0.1:3306/mysql"}
TABLES, ROWS = 10, 1000
SCHEMA = {
    "postgresql": ["CREATE TABLE bench_{i} (id int PRIMARY KEY, v varchar(20), n int, note text)",
                   "CREATE INDEX bench_{i}_v ON bench_{i} (v)",
                   "INSERT INTO bench_{i} SELECT g, 'v' || g, g, 'x' FROM generate_series(1, {rows}) g",
                   "ANALYZE bench_{i}"],
    "mariadb": ["CREATE TABLE bench_{i} (id int PRIMARY KEY, v varchar(20), n int, note varchar(40), KEY (v))",
                "INSERT INTO bench_{i} SELECT seq, CONCAT('v', seq), seq, 'x' FROM seq_1_to_{rows}",
                "ANALYZE TABLE bench_{i}"],
}
# three statements a table, in turn: cheap, no rewrite; a rewrite or copy; an index build
STATEMENTS = {
    "postgresql": ["ALTER TABLE bench_{i} ADD COLUMN c{i} int", "ALTER TABLE bench_{i} ALTER COLUMN v TYPE text",
                   "ALTER TABLE bench_{i} ALTER COLUMN n TYPE bigint", "CREATE INDEX bench_{i}_n ON bench_{i} (n)"],
    "mariadb": ["ALTER TABLE bench_{i} ADD COLUMN c{i} int", "ALTER TABLE bench_{i} MODIFY v varchar(30)",
                "ALTER TABLE bench_{i} MODIFY n bigint", "CREATE INDEX bench_{i}_n ON bench_{i} (n)"],
}
RESULTS = Path(__file__).parent / "results" / "measure.json"
GOAL_MS = 50.0


def change_of(engine: Engine, name: str, count: int) -> Change:
    templates = STATEMENTS[name]
    lines = [templates[n % len(templates)].format(i=n // len(templates) % TABLES) for n in range(count)]
    forward = split_statements(";\n".join(lines) + ";\n", file="bench.sql", dialect=engine.name)
    return Change("1", "bench", tuple(forward), (), "bench.sql")


def timed_statements(target: Engine, change: Change, measured: bool) -> tuple[list[float], float, float]:
    """Per-statement milliseconds on a fresh shadow (measured, or run alone), shadow setup and drop seconds."""
    with target.connect() as conn:
        catalogue = catalogue_for(target.flavor, target.server_version(conn))
    items = build_context(change, catalogue, knows_rollback=True).forward
    started = time.perf_counter()
    times: list[float] = []
    with shadow_of(target, [change]) as shadow:
        setup = time.perf_counter() - started
        prober = prober_for(shadow.engine)
        assert prober is not None
        whole = in_one_transaction(shadow.engine, change)
        with shadow.engine.connect() as conn:
            start = prober.snapshot(conn)
            conn.commit()
            with conn.begin():
                for item in items:
                    began = time.perf_counter()
                    if measured:
                        prober.measure(conn, item, start, "1", whole)
                    else:
                        run_verbatim(conn, item.statement.text)
                    times.append((time.perf_counter() - began) * 1000)
        dropping = time.perf_counter()
    return times, setup, time.perf_counter() - dropping


def measure_engine(name: str, statements: int, rounds: int) -> dict[str, Any]:
    server = open_engine(SERVERS[name])
    url = server.create_database(f"dp_bench_measure_{secrets.token_hex(3)}")
    try:
        target = open_engine(url)
        with target.connect() as conn:
            for i in range(TABLES):
                for template in SCHEMA[name]:
                    result = run_verbatim(conn, template.format(i=i, rows=ROWS))
                    if result.returns_rows:
                        result.all()
            conn.commit()
        change = change_of(target, name, statements)
        measured: list[float] = []
        alone: list[float] = []
        setups: list[float] = []
        drops: list[float] = []
        totals: list[float] = []
        for _ in range(rounds):
            times, setup, drop = timed_statements(target, change, measured=True)
            measured += times
            totals.append(sum(times) / 1000)
            setups.append(setup)
            drops.append(drop)
            alone += timed_statements(target, change, measured=False)[0]
    finally:
        server.drop_database(url.database or "")
    per = statistics.median(measured)
    return {"engine": name, "statements": statements, "rounds": rounds, "tables": TABLES, "target_rows": ROWS,
            "measured_ms_median": round(per, 1), "measured_ms_p95": round(_p95(measured), 1),
            "alone_ms_median": round(statistics.median(alone), 1),
            "overhead_ms_median": round(per - statistics.median(alone), 1),
            "change_s": round(statistics.median(totals), 2),
            "shadow_setup_s": round(statistics.median(setups), 2), "shadow_drop_s": round(statistics.median(drops), 2)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for bench/run_all.py's table (contract in bench/peers.py)."""
    rows = []
    for r in results:
        goal = r["engine"] == "postgresql"
        what = f"{r['engine']}: one statement measured on a shadow (ms, median)"
        rows.append({"benchmark": "measure", "measure": what,
                     "dualpath": f"{r['measured_ms_median']} (p95 {r['measured_ms_p95']})",
                     "peer": f"run alone {r['alone_ms_median']}",
                     "ratio": f"{r['measured_ms_median'] / max(r['alone_ms_median'], 0.001):.1f}",
                     "goal": f"< {GOAL_MS:.0f} ms a statement" if goal else "reported",
                     "met": r["measured_ms_median"] < GOAL_MS if goal else None})
        rows.append({"benchmark": "measure", "measure": f"{r['engine']}: a {r['statements']}-statement change (s)",
                     "dualpath": f"{r['change_s']}", "peer": f"shadow made in {r['shadow_setup_s']}, "
                                                              f"dropped in {r['shadow_drop_s']}",
                     "ratio": None, "goal": "< 2 s" if goal else "reported",
                     "met": r["change_s"] < 2 if goal else None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="postgresql,mariadb")
    parser.add_argument("--statements", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    results = [measure_engine(name, args.statements, args.rounds) for name in args.engines.split(",")]
    print(f"{'engine':<11} {'measured ms':>12} {'p95':>7} {'alone ms':>9} {'overhead':>9} {'change s':>9} "
          f"{'setup s':>8} {'drop s':>7}")
    for r in results:
        print(f"{r['engine']:<11} {r['measured_ms_median']:>12} {r['measured_ms_p95']:>7} {r['alone_ms_median']:>9} "
              f"{r['overhead_ms_median']:>9} {r['change_s']:>9} {r['shadow_setup_s']:>8} {r['shadow_drop_s']:>7}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"host": platform.node(), "machine": platform.platform(), "quick": args.quick,
              "load_average_1m": round(os.getloadavg()[0], 2), "results": results, "summary": summarize(results)}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
