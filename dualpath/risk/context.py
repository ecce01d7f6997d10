"""What a rule sees: one change, its statements read into operations and effects, and live sizes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from dualpath.changes import Change, Statement
from dualpath.risk.catalogue import Catalogue
from dualpath.risk.live import TableSize
from dualpath.risk.model import Effect, Finding, Measured, Op, Severity
from dualpath.risk.ops import SqlSyntaxError, extract_ops

BIG_ROWS = 1_000_000
BIG_BYTES = 1 << 30
ESCALATED: dict[Severity, Severity] = {"info": "warning", "warning": "error", "error": "error"}


@dataclass
class Item:
    """One statement of the change, read."""

    statement: Statement
    part: str  # "forward" | "rollback"
    ops: list[Op]
    effects: list[Effect]
    new_tables: frozenset[str]  # tables created earlier in the same part: new and empty
    error: SqlSyntaxError | None = None

    def is_new(self, table: str | None) -> bool:
        return table is not None and any(same_name(table, t) for t in self.new_tables)


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

    @property
    def items(self) -> list[Item]:
        return self.forward + self.rollback

    def effects(self, *kinds: str) -> Iterator[tuple[Item, Effect]]:
        """Effects of these kinds on tables that existed before the change (new tables are safe)."""
        for item in self.items:
            for effect in item.effects:
                if (not kinds or effect.operation in kinds) and not item.is_new(effect.table):
                    yield item, effect

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


def same_name(a: str, b: str) -> bool:
    """``s.orders`` and ``orders`` are the same table when one side gives no schema."""
    a, b = a.lower(), b.lower()
    return a == b or ("." in a) != ("." in b) and a.split(".")[-1] == b.split(".")[-1]


def read_part(statements: Sequence[Statement], part: str, family: str, catalogue: Catalogue) -> list[Item]:
    """Read each statement; remember new tables and session settings that change the catalogue row."""
    items: list[Item] = []
    new: set[str] = set()
    facts: set[tuple[str, ...]] = set()
    for stmt in statements:
        try:
            ops = extract_ops(stmt.text, family)
            error = None
        except SqlSyntaxError as exc:
            ops, error = [], exc
        ops = [refine(op, facts) for op in ops]
        items.append(Item(stmt, part, ops, [catalogue.effect(op) for op in ops], frozenset(new), error))
        for op in ops:
            remember(op, new, facts)
    return items


def remember(op: Op, new: set[str], facts: set[tuple[str, ...]]) -> None:
    if op.kind in ("create_table", "create_table_as") and op.table:
        new.add(op.table)
    elif op.kind == "rename_table" and op.table and any(same_name(op.table, t) for t in new):
        new.add(op.get("new_name", ""))
    elif op.kind == "set" and op.name == "foreign_key_checks":
        facts.discard(("fk_checks_off",))
        if str(op.get("value", "")).lower() in ("0", "off", "false"):
            facts.add(("fk_checks_off",))
    elif op.kind == "add_constraint" and op.get("not_null_column") and op.table:
        facts.add(("not_null_check", op.name or "", op.table, op.get("not_null_column"), str(op.get("not_valid"))))
    elif op.kind == "validate_constraint" and op.table:
        for fact in [f for f in facts if f[0] == "not_null_check" and f[1] == op.name]:
            facts.add((*fact[:4], "False"))


def refine(op: Op, facts: set[tuple[str, ...]]) -> Op:
    """Pick the catalogue variant that what ran before in this change allows."""
    if op.kind == "set_not_null" and any(
        f[0] == "not_null_check" and f[4] == "False" and op.table and same_name(f[2], op.table) and f[3] == op.name
        for f in facts
    ):
        return replace(op, variant="checked")
    if op.kind == "add_constraint" and op.variant == "foreign" and ("fk_checks_off",) in facts:
        return replace(op, variant="foreign_unchecked")
    return op
