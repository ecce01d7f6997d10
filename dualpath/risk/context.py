"""What a rule sees: one change, its statements read into operations and effects, and live sizes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from dualpath.changes import Change, Statement
from dualpath.risk.catalogue import Catalogue
from dualpath.risk.judge import Session
from dualpath.risk.live import TableSize
from dualpath.risk.measure.observation import Measurement
from dualpath.risk.model import Effect, Finding, Measured, Op, Severity
from dualpath.risk.names import same_name
from dualpath.risk.ops import SqlSyntaxError, extract_ops
from dualpath.risk.schema import Schema

BIG_ROWS = 1_000_000
BIG_BYTES = 1 << 30
# a hazard on a big table is an outage, not a nuisance; a remark (info) stays a remark: a brief lock or an
# online rebuild does not become a hazard because the table is big
ESCALATED: dict[Severity, Severity] = {"info": "info", "warning": "error", "error": "error"}


@dataclass
class Item:
    """One statement of the change, read."""

    statement: Statement
    part: str  # "forward" | "rollback"
    ops: list[Op]
    effects: list[Effect]
    new_tables: frozenset[str]  # tables created earlier in the same part: new and empty
    error: SqlSyntaxError | None = None
    new_columns: frozenset[tuple[str, str]] = frozenset()  # (table, column) added earlier in the same part

    def is_new(self, table: str | None) -> bool:
        return table is not None and any(same_name(table, t) for t in self.new_tables)

    def is_new_column(self, table: str | None, column: str | None) -> bool:
        """A column added earlier in this part holds no older data and no running code uses it yet."""
        return any(same_name(t, table or "") and c == column for t, c in self.new_columns)


@dataclass
class Context:
    change: Change
    family: str  # "postgresql" | "mysql" | "sqlite": which grammar and rules
    catalogue: Catalogue
    forward: list[Item]
    rollback: list[Item]
    knows_rollback: bool  # the change came from a layout with rollbacks, not a lone .sql file
    sizes: dict[str, TableSize] = field(default_factory=dict)
    measured: tuple[Measured, ...] = ()  # a lock rehearsal of this change, when one ran
    runner: str = "dualpath"  # or "other": the files are run by another tool (no journal, no timeouts)
    measurement: Measurement | None = None  # what the change did on a shadow of the target (risk/measure)
    schema: Schema | None = None  # the server's current schema (lint --url); None: rules say what they depend on

    @property
    def items(self) -> list[Item]:
        return self.forward + self.rollback

    def effects(self, *kinds: str) -> Iterator[tuple[Item, Effect]]:
        """Effects of these kinds on tables that existed before the change (new tables are safe), in
        statement order; every rule asks, so they are indexed by kind once per change."""
        if not kinds:
            return iter(self._old_effects)
        rows = [row for kind in dict.fromkeys(kinds) for row in self._effects_by_kind.get(kind, ())]
        if len(kinds) > 1:
            rows.sort(key=lambda row: row[0])
        return ((item, effect) for _, item, effect in rows)

    @cached_property
    def _old_effects(self) -> list[tuple[Item, Effect]]:
        return [(item, effect) for item in self.items for effect in item.effects if not item.is_new(effect.table)]

    @cached_property
    def _effects_by_kind(self) -> dict[str, list[tuple[int, Item, Effect]]]:
        index: dict[str, list[tuple[int, Item, Effect]]] = {}
        for position, (item, effect) in enumerate(self._old_effects):
            index.setdefault(effect.operation, []).append((position, item, effect))
        return index

    def size_of(self, table: str | None) -> TableSize | None:
        if table is None:
            return None
        return next((s for name, s in self.sizes.items() if same_name(name, table)), None)

    def finding(self, rule: object, item: Item | None, message: str, *, fix: str | None = None,
                severity: Severity | None = None, table: str | None = None, depends: str = "") -> Finding:
        """A finding for ``rule`` about ``item`` (or the change), with live sizes when known.

        ``depends`` names what lint could not see (e.g. "the current type of orders.total"): the
        message then says so instead of guessing.
        """
        stmt = item.statement if item else (self.forward[0].statement if self.forward else None)
        level: Severity = severity or rule.severity  # type: ignore[attr-defined]
        if depends:
            message = f"{message}; depends on {depends} (lint with --url to know)"
        size = self.size_of(table)
        if size is not None:
            message = f"{message} ({size.describe()})"
            if size.rows >= BIG_ROWS or size.bytes >= BIG_BYTES:
                level = ESCALATED[level]  # a lock or rewrite on a big table is an outage, not a nuisance
        return Finding(rule=rule.id, severity=level,  # type: ignore[attr-defined]
                       file=stmt.file if stmt else self.change.file,
                       line=stmt.line if stmt else self.change.line,
                       message=message, fix=fix if fix is not None else rule.fix,  # type: ignore[attr-defined]
                       version=self.change.version if self.knows_rollback else None,
                       title=rule.title, depends=depends)  # type: ignore[attr-defined]


def read_part(statements: Sequence[Statement], part: str, family: str, catalogue: Catalogue,
              schema: Schema | None = None) -> list[Item]:
    """Read each statement; what earlier ones created or set (and the server's schema) picks catalogue rows."""
    items: list[Item] = []
    session = Session(family, catalogue.dialect, catalogue.version, schema)
    for stmt in statements:
        try:
            ops = extract_ops(stmt.text, family)
            error = None
        except SqlSyntaxError as exc:
            ops, error = [], exc
        ops = [session.judge(op) for op in ops]
        items.append(Item(stmt, part, ops, [catalogue.effect(op) for op in ops], frozenset(session.new), error,
                          frozenset(session.new_columns)))
        for op in ops:
            session.remember(op)
    return items
