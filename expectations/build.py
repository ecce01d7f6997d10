"""Invariants → GX expectations, each tagged with the invariant it comes from.

Cross-run facts (row counts before the change) become expected values taken from the baseline;
foreign keys and backfills become unexpected-rows queries, written portably for the three dialects.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from dualpath.validation.baseline import Baseline
from dualpath.validation.invariants import Invariant

REF = "dualpath_ref"  # meta key: results come back in another order, the ref finds their invariant

Quote = Callable[[str], str]


def build_expectation(inv: Invariant, baseline: Baseline, quote: Quote, sample_size: int) -> Expectation | None:
    """The GX expectation checking ``inv``; None for checksums, which dualpath compares itself."""
    meta = {REF: inv.ref, "why": inv.why}
    if inv.kind == "row_count_unchanged":
        return row_count(baseline.counts[inv.table], inv.tolerance, meta)
    if inv.kind == "row_count_reconciles":
        return row_count(baseline.expected[inv.ref], inv.tolerance, meta)
    if inv.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=inv.columns[0], meta=meta)
    if inv.kind == "unique" and len(inv.columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=inv.columns[0], meta=meta)
    if inv.kind == "unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(inv.columns), meta=meta)
    if inv.kind == "foreign_key":
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=orphans_query(inv, quote), meta=meta,
                                             description=f"{inv.table}({', '.join(inv.columns)}) → {inv.parent}")
    if inv.kind == "backfill_matches":
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=backfill_query(inv, quote, sample_size), meta=meta,
                                             description=f"{inv.table}.{inv.columns[0]} = {inv.expression}")
    return None


def row_count(count: int, tolerance: float, meta: dict[str, str]) -> Expectation:
    if tolerance <= 0:
        return gxe.ExpectTableRowCountToEqual(value=count, meta=meta)
    return gxe.ExpectTableRowCountToBeBetween(min_value=math.floor(count * (1 - tolerance)),
                                              max_value=math.ceil(count * (1 + tolerance)), meta=meta)


def orphans_query(inv: Invariant, quote: Quote) -> str:
    """Child rows whose key has no parent row. Row-value IN works on PostgreSQL, MySQL/MariaDB and SQLite."""
    child = ", ".join(quote(c) for c in inv.columns)
    parent = ", ".join(quote(c) for c in inv.parent_columns)
    present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in inv.columns)
    parent_present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in inv.parent_columns)
    wrap = (lambda s: f"({s})") if len(inv.columns) > 1 else (lambda s: s)
    return (f"SELECT * FROM {{batch}} WHERE {present} AND {wrap(child)} NOT IN "
            f"(SELECT {parent} FROM {quote(str(inv.parent))} WHERE {parent_present})")


def backfill_query(inv: Invariant, quote: Quote, sample_size: int) -> str:
    """Sampled rows where the column differs from its backfill expression (NULL-safe, no dialect operator)."""
    column = quote(inv.columns[0])
    where = f" WHERE {inv.where}" if inv.where else ""
    order = f" ORDER BY {', '.join(quote(k) for k in inv.key)}" if inv.key else ""
    differs = (f"CASE WHEN {column} = ({inv.expression}) THEN 0 "
               f"WHEN {column} IS NULL AND ({inv.expression}) IS NULL THEN 0 ELSE 1 END = 1")
    return f"SELECT * FROM (SELECT * FROM {{batch}}{where}{order} LIMIT {int(sample_size)}) dp_sample WHERE {differs}"
