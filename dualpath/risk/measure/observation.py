"""What one statement did on a shadow of the target, as measured, and what uses what it changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableWork:
    """What one statement did to one table of the shadow."""

    table: str  # as the target names it (schema.table on PostgreSQL)
    existed: bool  # the table was there before the change: the live table's size applies to it
    lock: str | None = None  # strongest lock held on it when the statement ended (None: not readable)
    held_before: bool = False  # that lock was held already, taken by an earlier statement of the transaction
    rewritten: bool = False  # the table got new storage (relfilenode, InnoDB table id)
    indexes_rebuilt: tuple[str, ...] = ()  # existing indexes that got new storage
    indexes_built: tuple[str, ...] = ()  # indexes the statement created on it
    scans: int = 0  # sequential scans of it
    rows_read: int = 0  # rows those scans read
    rows_written: int = 0  # rows inserted, updated, deleted, or copied by an ALTER
    sample_rows: int = 0  # rows the shadow's table held before the statement (sampled from the target)
    validated: tuple[str, ...] = ()  # constraints the statement checked against the rows
    algorithm: str | None = None  # MySQL/MariaDB: the cheapest ALGORITHM the server accepted
    kind: str = "table"  # or "materialized view": only REFRESH writes one, so blocking writes costs nothing
    lock_clause: str | None = None  # MySQL/MariaDB: the cheapest LOCK the server accepted

    @property
    def built_or_rebuilt(self) -> int:
        return len(self.indexes_rebuilt) + len(self.indexes_built)


@dataclass(frozen=True)
class Observation:
    """One statement run on the shadow: the tables it touched, or why it could not be measured."""

    version: str
    where: str  # file:line of the statement
    tables: tuple[TableWork, ...] = ()
    refused: str | None = None  # the server's error when the shadow refused the statement
    refusal: str = ""  # "exists": what it makes is there already; "sample": the sampled rows broke a check
    method: str = ""  # how it was measured, for people

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Dependent:
    """An object that uses a column or table a statement drops, renames or retypes."""

    where: str  # file:line of the statement
    used: str  # what the statement changes: customers.name, or the table customers
    kind: str  # view, materialized view, function, procedure, trigger, foreign key, generated column, ...
    name: str
    outcome: str  # what happens to it when the statement runs
    severity: str  # error: the server refuses the statement; warning: it breaks or goes; info: it follows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Measurement:
    """Every observation and dependent of one shadow run, by statement, and notes for people."""

    observations: dict[str, Observation] = field(default_factory=dict)
    dependents: dict[str, list[Dependent]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was not measured, and why
    sample_rows: int = 0  # rows per table the shadow was filled with (at most)

    def observed(self, where: str) -> Observation | None:
        return self.observations.get(where)

    def add(self, observation: Observation) -> None:
        self.observations[observation.where] = observation

    def add_dependents(self, found: list[Dependent]) -> None:
        for dependent in found:
            known = self.dependents.setdefault(dependent.where, [])
            if dependent not in known:
                known.append(dependent)
