"""The values checks compare against, taken before the change: row counts, moved rows, column checksums.

Plain SQLAlchemy: counts and checksums need no Great Expectations, so a flow can take the
baseline cheaply and hand it (as a dict) to the task that checks after the wave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from dualpath.engines import has_table, open_engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.validation.invariants import Invariant

_COUNTED = ("row_count_unchanged", "row_count_reconciles")


@dataclass
class Baseline:
    """Row counts per table, expected counts per reconcile invariant, checksums per column."""

    taken_at: str
    counts: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # invariant ref → expected row count after
    checksums: dict[str, str] = field(default_factory=dict)  # invariant ref → sha256 of (key, value) rows

    def as_dict(self) -> dict[str, Any]:
        return {"taken_at": self.taken_at, "counts": self.counts, "expected": self.expected,
                "checksums": self.checksums}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(str(data["taken_at"]), dict(data.get("counts", {})), dict(data.get("expected", {})),
                   dict(data.get("checksums", {})))


def take_baseline(url: str, invariants: Iterable[Invariant]) -> Baseline:
    """Measure what the checks after the change compare against."""
    wanted = list(invariants)
    baseline = Baseline(datetime.now(UTC).isoformat(timespec="seconds"))
    engine = open_engine(url)
    with engine.connect() as conn:
        for inv in wanted:
            if inv.kind in _COUNTED:
                count = count_rows(conn, inv.table)
                baseline.counts[inv.table] = count
                baseline.expected[inv.ref] = count + sum(sign * scalar(conn, q) for sign, q in inv.deltas)
        baseline.checksums = checksum_columns(conn, [i for i in wanted if i.kind == "checksum_unchanged"])
    return baseline


def count_rows(conn: Connection, table: str) -> int:
    """Rows in ``table``; 0 when the change is about to create it."""
    if not has_table(conn, table):
        return 0
    return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())


def scalar(conn: Connection, query: str) -> int:
    return int(run_verbatim(conn, query).scalar_one() or 0)


def checksum_columns(conn: Connection, invariants: list[Invariant]) -> dict[str, str]:
    """sha256 per column over its values in primary-key order; one scan per table."""
    by_table: dict[str, list[Invariant]] = {}
    for inv in invariants:
        by_table.setdefault(inv.table, []).append(inv)
    sums: dict[str, str] = {}
    for table, group in by_table.items():
        key = group[0].key
        columns = [inv.columns[0] for inv in group]
        digests = [hashlib.sha256() for _ in columns]
        selected: list[sa.ColumnClause[Any]] = [sa.column(c) for c in key + tuple(columns)]
        query = sa.select(*selected).select_from(sa.table(table)).order_by(*selected[: len(key)])
        for row in conn.execution_options(yield_per=5000).execute(query):
            for i, digest in enumerate(digests):
                digest.update(repr((tuple(row[: len(key)]), row[len(key) + i])).encode())
        sums.update({inv.ref: d.hexdigest() for inv, d in zip(group, digests, strict=True)})
    return sums
