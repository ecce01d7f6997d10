"""What the server knows that the SQL does not say: current column definitions, constraints, settings.

Read once per ``lint --url`` (schema_read.py). Rules whose verdict depends on the current schema
ask it here; without a server (``Context.schema`` is None) they say what they depend on instead
of guessing. Table names are compared like the rest of the risk engine (``same_name``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dualpath.risk.names import same_name


@dataclass(frozen=True)
class Column:
    table: str  # schema.table, lower case
    name: str
    type: str  # PostgreSQL format_type ("character varying(10)"); MySQL COLUMN_TYPE ("varchar(60)")
    nullable: bool
    indexed: bool = False  # part of an index (PostgreSQL: also used in an index expression)
    default: str | None = None
    kind: str = "b"  # PostgreSQL typtype: b base, d domain, e enum, ...
    charset: str | None = None  # MySQL character set
    comment: str = ""
    extra: str = ""  # MySQL EXTRA: "auto_increment", "VIRTUAL GENERATED", ...
    position: int = 0
    sequence: str | None = None  # the sequence an identity or serial column draws from


@dataclass(frozen=True)
class Check:
    table: str
    name: str
    validated: bool
    expression: str  # pg_get_constraintdef: "CHECK ((ref IS NOT NULL))"


@dataclass(frozen=True)
class Sequence:
    name: str  # schema.sequence
    start: int
    last: int | None  # None: never used (or not readable)


@dataclass(frozen=True)
class Estimate:
    """The planner's guess for the rows a data change touches, next to the table's size."""

    rows: float
    table_rows: float
    full_scan: bool  # the plan reads the whole table

    @property
    def share(self) -> float:
        return self.rows / self.table_rows if self.table_rows > 0 else 0.0


@dataclass
class Schema:
    flavor: str
    version: tuple[int, ...]
    columns: dict[str, dict[str, Column]] = field(default_factory=dict)  # table → column name → Column
    checks: dict[str, list[Check]] = field(default_factory=dict)
    fulltext: set[str] = field(default_factory=set)  # tables with a FULLTEXT index
    charsets: dict[str, str] = field(default_factory=dict)  # MySQL table → its default character set
    engines: dict[str, str] = field(default_factory=dict)  # MySQL table → its storage engine, lower case
    partition_keys: dict[str, list[str]] = field(default_factory=dict)  # partitioned table → key columns
    sequences: dict[str, Sequence] = field(default_factory=dict)
    domains: dict[str, list[str]] = field(default_factory=dict)  # domain → "table.column" using it
    settings: dict[str, str] = field(default_factory=dict)  # "timezone", "sql_mode"
    # EXPLAIN of a data change on the server (None: could not be estimated); set while lint runs
    estimator: Callable[[str], Estimate | None] | None = None

    def table(self, name: str | None) -> dict[str, Column] | None:
        if name is None:
            return None
        return next((cols for table, cols in self.columns.items() if same_name(table, name)), None)

    def column(self, table: str | None, name: str | None) -> Column | None:
        columns = self.table(table)
        return columns.get((name or "").lower()) if columns is not None else None

    def checks_of(self, table: str | None) -> list[Check]:
        return [c for name, found in self.checks.items() if table and same_name(name, table) for c in found]

    def has_fulltext(self, table: str | None) -> bool:
        return bool(table) and any(same_name(t, table or "") for t in self.fulltext)

    def sequence(self, name: str | None) -> Sequence | None:
        return next((s for key, s in self.sequences.items() if name and same_name(key, name)), None)

    def estimate(self, statement: str) -> Estimate | None:
        return self.estimator(statement) if self.estimator is not None else None
