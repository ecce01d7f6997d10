"""The SQL of one chunk: find the chunk's last key, then run the user's statement on that key range.

Keyset pagination, never OFFSET from the start of the table: each chunk starts strictly after
the last key done, so finding the next bound is an index range of ``size`` rows however far the
batch has gone (the only skip is ``size - 1`` entries inside that range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from dualpath.batching.keys import Key, KeyValue, resolve_key
from dualpath.batching.spec import BatchSpec
from dualpath.changes import Statement
from dualpath.engines.base import Engine
from dualpath.engines.key_range import place_range, restrict


@dataclass(frozen=True)
class ChunkPlan:
    engine: Engine
    key: Key
    dml_first: str  # the statement restricted to key <= hi
    dml_next: str  # ... to lo < key <= hi
    table_sql: str
    columns_sql: tuple[str, ...]

    @property
    def lo(self) -> list[str]:
        return [f"dp_lo_{i}" for i in range(len(self.key.columns))]

    @property
    def hi(self) -> list[str]:
        return [f"dp_hi_{i}" for i in range(len(self.key.columns))]

    def bound_sql(self, after: bool, size: int) -> str:
        """The ``size``-th key after the last one: a skip inside the chunk's own index range.

        The skip costs ``size`` index entries wherever the batch stands (unlike OFFSET from the
        start of the table), and needs no temporary table or sort, so it is several times faster
        than counting the chunk with a window function (6x at 100k rows on MariaDB and PostgreSQL).
        """
        cols = ", ".join(self.columns_sql)
        return self.engine.limit_rows(f"SELECT {cols} FROM {self.table_sql}{self._after(after)} ORDER BY {cols}",
                                      1, offset=size - 1)

    def tail_sql(self, after: bool, size: int) -> str:
        """The last key of the fewer than ``size`` rows left and how many there are, in one round trip."""
        cols = ", ".join(self.columns_sql)
        inner = self.engine.limit_rows(f"SELECT {cols} FROM {self.table_sql}{self._after(after)} ORDER BY {cols}",
                                       size)
        outer_cols = ", ".join(f"dp_chunk.{c}" for c in self.columns_sql)
        desc = ", ".join(f"dp_chunk.{c} DESC" for c in self.columns_sql)
        return self.engine.limit_rows(
            f"SELECT {outer_cols}, count(*) OVER () AS dp_n FROM ({inner}) dp_chunk ORDER BY {desc}", 1)

    def _after(self, after: bool) -> str:
        return f" WHERE {self.engine.row_compare(self.columns_sql, '>', self.lo)}" if after else ""

    def next_bound(self, conn: Connection, last: KeyValue | None, size: int) -> tuple[KeyValue, int] | None:
        """(last key of the chunk, rows it spans); None when no row is left after ``last``."""
        params = dict(zip(self.lo, last, strict=True)) if last is not None else {}
        width = len(self.key.columns)
        full = conn.execute(text(self.bound_sql(last is not None, size)), params).first()
        if full is not None:
            return tuple(full[:width]), size
        tail = conn.execute(text(self.tail_sql(last is not None, size)), params).first()
        if tail is None:
            return None
        return tuple(tail[:width]), int(tail[width])

    def run_chunk(self, conn: Connection, last: KeyValue | None, hi: KeyValue) -> int:
        params: dict[str, Any] = dict(zip(self.hi, hi, strict=True))
        if last is not None:
            params.update(zip(self.lo, last, strict=True))
        result = conn.execute(text(self.dml_next if last is not None else self.dml_first), params)
        return max(int(result.rowcount or 0), 0)


def range_predicates(engine: Engine, qualifier: str, columns: tuple[str, ...]) -> tuple[str, str]:
    """(key <= hi, lo < key AND key <= hi), qualified with the statement's alias for the table."""
    q = engine.quote_ident
    qualified = [f"{q(qualifier)}.{q(c)}" for c in columns]
    lo = [f"dp_lo_{i}" for i in range(len(columns))]
    hi = [f"dp_hi_{i}" for i in range(len(columns))]
    upto = engine.row_compare(qualified, "<=", hi)
    return upto, f"{engine.row_compare(qualified, '>', lo)} AND {upto}"


def restricted_statements(engine: Engine, statement: Statement, spec: BatchSpec,
                          columns: tuple[str, ...]) -> tuple[str, str]:
    """The user's statement for the first chunk and for every later one (no database needed)."""
    template, qualifier = restrict(statement.text, spec.table, engine.restrict_to_range, statement.where)
    first, rest = range_predicates(engine, qualifier, columns)
    return place_range(template, first), place_range(template, rest)


def plan_chunks(conn: Connection, engine: Engine, statement: Statement, spec: BatchSpec) -> ChunkPlan:
    """Check the statement and the key against the live table, then build the chunk SQL."""
    first, rest = restricted_statements(engine, statement, spec, spec.key)
    key = resolve_key(conn, engine, spec.table, spec.key, spec.where or statement.where)
    if key.columns != spec.key:  # same columns, the table's spelling
        first, rest = restricted_statements(engine, statement, spec, key.columns)
    table_sql = ".".join(engine.quote_ident(p) for p in spec.table.split("."))
    return ChunkPlan(engine, key, first, rest, table_sql, tuple(engine.quote_ident(c) for c in key.columns))
