"""The shape of a rule: metadata people read (docs, SARIF) and a ``check`` over a Context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from dualpath.risk.context import Context, Item
from dualpath.risk.measure.observation import Measurement
from dualpath.risk.model import Effect, Finding, Measured, Severity
from dualpath.risk.schema import Schema

ALL_ENGINES = ("postgresql", "mysql", "sqlite")


@dataclass(frozen=True)
class Case:
    """An edge case beside a rule's examples: SQL (and its rollback) and whether the rule reports it."""

    sql: str
    reported: bool
    rollback: str | None = None  # given: linted as a change with this rollback
    dialect: str | None = None  # defaults to the rule's example dialect
    note: str = ""
    version: tuple[int, ...] | None = None  # the server version; defaults to the rule's example version
    measured: tuple[Measured, ...] = ()  # rehearsal rules: what the lock rehearsal measured
    measurement: Measurement | None = None  # measured rules: what the shadow showed (None: no --url)
    schema: Schema | None = None  # the server's current schema, as --url reads it (None: no server)


class Rule:
    """One hazard. Subclasses set the metadata and implement ``check``."""

    id: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    engines: ClassVar[tuple[str, ...]] = ALL_ENGINES
    why: ClassVar[str]
    alternative: ClassVar[str]  # the safe way, in words
    fix: ClassVar[str] = ""  # one line shown under a finding
    bad: ClassVar[str]  # SQL the rule reports
    good: ClassVar[str]  # the safe form, which it does not report
    # for rules about the whole change: the rollback of the examples (None: no rollback at all)
    bad_rollback: ClassVar[str | None] = None
    good_rollback: ClassVar[str | None] = None
    scope: ClassVar[str] = "statement"  # or "change", or "rehearsal" (reported from a measured lock rehearsal)
    example_version: ClassVar[tuple[int, ...] | None] = None
    example_dialect: ClassVar[str | None] = None  # defaults to engines[0]
    cases: ClassVar[tuple[Case, ...]] = ()  # edge cases, run by the tests and listed in the docs

    def check(self, ctx: Context) -> Iterable[Finding]:
        raise NotImplementedError

    def check_measured(self, measured: Iterable[Measured]) -> Iterable[Finding]:
        """A rehearsal-scope rule's findings from a lock rehearsal alone, without a Context."""
        return ()


class OpRule(Rule):
    """A rule about operations of some kinds: override ``applies`` and ``message``."""

    kinds: ClassVar[tuple[str, ...]] = ()
    # the rule judges what the operation costs: when that depends on the current schema (no --url),
    # its findings say so (the operation's attrs["depends"], set by risk/judge.py)
    judges_cost: ClassVar[bool] = False

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, effect in ctx.effects(*self.kinds):
            if self.applies(ctx, item, effect):
                depends = str(effect.op.get("depends", "")) if self.judges_cost and effect.op else ""
                yield ctx.finding(self, item, self.message(ctx, effect), table=effect.table,
                                  severity=self.level(ctx, item, effect), depends=depends)

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return True

    def level(self, ctx: Context, item: Item, effect: Effect) -> Severity | None:
        """The severity of this finding, when it differs from the rule's."""
        return None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{self.title}: {describe(effect)}"


def describe(effect: Effect) -> str:
    """e.g. "takes ACCESS EXCLUSIVE on orders (blocks reads and writes) and rewrites the table"."""
    work = {"rewrite": " and rewrites the table", "scan": " and scans the whole table",
            "build": " while it builds the index"}.get(effect.cost, "")
    lock = f"{effect.lock} lock" if effect.algorithm is None else f"ALGORITHM={effect.algorithm}, LOCK={effect.lock}"
    target = f" on {effect.table}" if effect.table else ""
    blocked = f" (blocks {effect.blocks})" if effect.blocking else ""
    notes = f"; {effect.notes}" if effect.notes else ""
    return f"takes {lock}{target}{blocked}{work}{notes}"
