"""`dualpath calibrate`: measure a server's throughput on a scratch database next to the target.

The scratch database is a shadow (same server, same disks, same settings), so the speeds hold
for the target; it is dropped afterwards. The statements are the engine's (``calibration_sql``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection

from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.estimates import Throughput
from dualpath.urls import safe_url

TABLE = "dp_calibration"
DEFAULT_ROWS = 200_000
Echo = Callable[[str], None]


def calibrate(engine: Engine, rows: int = DEFAULT_ROWS, echo: Echo = lambda _: None) -> Throughput:
    """Fill, scan, update, index, alter and rewrite a ``rows``-row table on a scratch database; time each."""
    shadow_url = engine.create_shadow()
    echo(f"scratch database {safe_url(shadow_url)}")
    try:
        scratch = open_engine(shadow_url)
        with scratch.connect() as conn:
            return _measure(scratch, conn, rows, echo)
    finally:
        engine.drop_shadow(shadow_url)


def _measure(engine: Engine, conn: Connection, rows: int, echo: Echo) -> Throughput:
    sql = engine.calibration_sql
    timed = _timer(conn, echo)
    _run(conn, f"DROP TABLE IF EXISTS {TABLE}")
    timed("create", sql.create)
    fill_s = timed("fill", sql.fill.replace("{rows}", str(int(rows))))
    if sql.analyze:
        timed("analyze", sql.analyze)
    table_bytes = _size(engine, conn)
    scan_s = timed("scan", sql.scan)
    update_s = timed("update", sql.update)
    if sql.analyze:
        timed("analyze", sql.analyze)
    before_index = _size(engine, conn)
    index_s = timed("index", sql.index)
    if sql.analyze:
        timed("analyze", sql.analyze)
    index_bytes = max(_size(engine, conn) - before_index, 0)
    metadata_s = timed("metadata", sql.metadata)
    rewrite_bytes = _size(engine, conn)
    rewrite_s = timed("rewrite", sql.rewrite)
    return Throughput(
        engine=engine.flavor, insert_rows_per_s=rows / fill_s, scan_rows_per_s=rows / scan_s,
        update_rows_per_s=rows / update_s, index_rows_per_s=rows / index_s,
        rewrite_bytes_per_s=max(rewrite_bytes or table_bytes, 1) / rewrite_s, metadata_s=metadata_s,
        index_bytes_per_row=index_bytes / rows if index_bytes else Throughput(engine.flavor).index_bytes_per_row,
        source="measured", measured_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), sample_rows=rows)


def _timer(conn: Connection, echo: Echo) -> Callable[[str, str], float]:
    def timed(label: str, statement: str) -> float:
        started = time.perf_counter()
        _run(conn, statement.replace("{t}", TABLE))
        seconds = max(time.perf_counter() - started, 1e-6)
        echo(f"{label:<9} {seconds * 1000:10.1f} ms")
        return seconds
    return timed


def _run(conn: Connection, statement: str) -> None:
    result = run_verbatim(conn, statement)
    if result.returns_rows:
        result.all()
    conn.commit()


def _size(engine: Engine, conn: Connection) -> int:
    stats = engine.table_sizes(conn).get(TABLE)
    conn.commit()
    return stats.bytes if stats else 0
