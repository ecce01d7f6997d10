"""Live context for lint: table sizes and row estimates read from the target server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dualpath.changes import Change
    from dualpath.risk.schema import Schema

# rough sequential rewrite speed of a busy production server; only for the order of magnitude
REWRITE_BYTES_PER_S = 100 * 1024 * 1024


@dataclass(frozen=True)
class TableSize:
    rows: int
    bytes: int

    @property
    def rewrite_seconds(self) -> float:
        return self.bytes / REWRITE_BYTES_PER_S

    def describe(self) -> str:
        return f"~{human_count(self.rows)} rows, {human_bytes(self.bytes)}, " \
               f"rewrite or scan ≈ {human_seconds(self.rewrite_seconds)}"


def human_count(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def human_seconds(s: float) -> str:
    if s < 1:
        return "<1 s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


_SIZE_QUERIES = {
    "postgresql": (
        "SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%'"
    ),
    "mysql": (
        "SELECT table_schema, table_name, COALESCE(table_rows, 0), "
        "COALESCE(data_length, 0) + COALESCE(index_length, 0) "
        "FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
    ),
}


@dataclass(frozen=True)
class LiveTarget:
    """What lint learns from the server: its flavor, version, table sizes and current schema."""

    flavor: str  # "postgresql" | "mysql" | "mariadb" | "sqlite"
    version: tuple[int, ...]
    sizes: dict[str, TableSize]
    schema: Schema | None = None  # columns, constraints, settings; estimates while the connection is open


def read_live(url: str) -> LiveTarget:
    """Connect once, read version, sizes and schema (catalogs and planner estimates: no table scan)."""
    with live_target(url) as live:
        return replace(live, schema=replace(live.schema, estimator=None) if live.schema else None)


def known_schema(conn: Connection, family: str, flavor: str, version: tuple[int, ...], sizes: dict[str, Any],
                 changes: Sequence[Change]) -> Schema | None:
    """The schema for a plan: read now, with the planner's estimate of every data change in ``changes``
    taken while the connection is open (the plan is built after it closes)."""
    from dualpath.risk.catalogue import family_of
    from dualpath.risk.estimate import estimator
    from dualpath.risk.ops import SqlSyntaxError, extract_ops
    from dualpath.risk.schema_read import read_schema

    if family == "sqlite":
        return None  # nothing to read: rules say what they depend on
    schema = read_schema(conn, family, flavor, version)
    estimate = estimator(conn, family, {n: TableSize(int(s.rows), int(s.bytes)) for n, s in sizes.items()})
    known = {}
    for change in changes:
        for statement in (*change.forward, *(change.rollback or ())):
            try:
                kinds = {op.kind for op in extract_ops(statement.text, family_of(flavor))}
            except SqlSyntaxError:
                continue
            if kinds & {"update", "delete", "insert_select"}:
                known[statement.text] = estimate(statement.text)
    schema.estimator = known.get
    return schema


@contextmanager
def live_target(url: str) -> Iterator[LiveTarget]:
    """The live facts, with a connection kept open to estimate data changes until the block ends."""
    from sqlalchemy import text

    from dualpath.engines import open_engine
    from dualpath.risk.estimate import estimator
    from dualpath.risk.schema_read import read_schema

    engine = open_engine(url)
    with engine.connect() as conn:
        version = tuple(engine.server_version(conn))
        flavor = engine.server_flavor(conn)
        query = _SIZE_QUERIES.get(engine.name)
        rows = conn.execute(text(query)).all() if query else []
        sizes = {f"{schema}.{table}".lower(): TableSize(rows=int(count or 0), bytes=int(size or 0))
                 for schema, table, count, size in rows}
        schema = read_schema(conn, engine.name, flavor, version) if engine.name != "sqlite" else None
        if schema is not None:
            schema.estimator = estimator(conn, engine.name, sizes)
        yield LiveTarget(flavor=flavor, version=version, sizes=sizes, schema=schema)
