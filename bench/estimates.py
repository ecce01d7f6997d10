"""Estimate vs measured: an index build and a rewriting column add on a 1M-row table.

Calibrates on a scratch database (as `dualpath calibrate` does), fills a 1M-row table in a
second scratch database, asks `build_plan` for its estimates, then runs each statement and
times it. Prints a table and writes bench/results/estimates.json.

    .venv/bin/python bench/estimates.py [--rows 1000000] [--engines postgresql,mariadb] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import time
from pathlib import Path
from typing import Any

from dualpath.calibrate import calibrate
from dualpath.changes import Change, Statement
from dualpath.engines import open_engine
from dualpath.plan import build_plan, read_target

SERVERS = {"postgresql": "postgresql://postgres@127.0.0.1:5432/postgres",
           "mariadb": "mysql://root@127.0.0.1:3306/mysql"}
# the column add that rewrites the table on each engine (volatile default; AUTO_INCREMENT copies)
STATEMENTS = {
    "postgresql": [("index build", "CREATE INDEX bench_k_idx ON bench (k)"),
                   ("add column, rewrite", "ALTER TABLE bench ADD COLUMN r double precision DEFAULT random()")],
    "mariadb": [("index build", "CREATE INDEX bench_k_idx ON bench (k)"),
                ("add column, rewrite", "ALTER TABLE bench ADD COLUMN r BIGINT NOT NULL AUTO_INCREMENT UNIQUE")],
}
RESULTS = Path(__file__).parent / "results" / "estimates.json"


def measure_engine(name: str, rows: int, calibration_rows: int) -> list[dict[str, object]]:
    server = open_engine(SERVERS[name])
    url = server.create_database(f"dp_bench_estimates_{secrets.token_hex(3)}")
    try:
        engine = open_engine(url)
        speed = calibrate(engine, calibration_rows)
        sql = engine.calibration_sql
        with engine.connect() as conn:
            for statement in (sql.create, sql.fill.replace("{rows}", str(rows)), sql.analyze or ""):
                if statement:
                    result = conn.exec_driver_sql(statement.replace("{t}", "bench"))
                    if result.returns_rows:
                        result.all()
                    conn.commit()
        out = []
        for n, (label, text) in enumerate(STATEMENTS[name], 1):
            change = Change(str(n), label, (Statement(text, "bench.sql", 1),), (), "bench.sql")
            step = build_plan([change], read_target(engine, name), throughput=speed).steps[0]
            with engine.connect() as conn:
                started = time.perf_counter()
                conn.exec_driver_sql(text)
                conn.commit()
                took = time.perf_counter() - started
                if sql.analyze:
                    conn.exec_driver_sql(sql.analyze.replace("{t}", "bench")).close()
                    conn.commit()
            out.append({"engine": name, "operation": label, "statement": text, "rows": step.rows,
                        "cost": step.cost, "estimate_s": round(step.seconds, 3), "measured_s": round(took, 3),
                        "ratio": round(took / step.seconds, 2), "calibration_rows": calibration_rows})
        return out
    finally:
        server.drop_database(url.database or "")


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for bench/run_all.py's table (contract in bench/peers.py): estimate against the clock."""
    return [{"benchmark": "estimates", "measure": f"{r['engine']} {r['operation']}, {r['rows']:,} rows (s)",
             "dualpath": f"estimate {r['estimate_s']}", "peer": f"measured {r['measured_s']}",
             "ratio": f"{r['ratio']:.2f}", "goal": "measured within 2x of the estimate, either way",
             "met": 0.5 <= float(r["ratio"]) <= 2.0} for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calibration-rows", type=int, default=200_000)
    parser.add_argument("--engines", default="postgresql,mariadb")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 50,000 calibration rows")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.calibration_rows = 100_000, 50_000
    results = [r for name in args.engines.split(",") for r in measure_engine(name, args.rows, args.calibration_rows)]
    print(f"{'engine':<11} {'operation':<21} {'rows':>9} {'estimate':>9} {'measured':>9} {'ratio':>6}")
    for r in results:
        print(f"{r['engine']:<11} {r['operation']:<21} {r['rows']:>9} {r['estimate_s']:>8}s {r['measured_s']:>8}s "
              f"{r['ratio']:>5}×")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"rows": args.rows, "host": platform.node(), "quick": args.quick, "results": results,
              "summary": summarize(results)}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
