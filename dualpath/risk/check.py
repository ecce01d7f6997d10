"""Run the rules over one change; drop findings that an inline ignore accepts."""

from __future__ import annotations

from collections.abc import Sequence

from dualpath.changes import Change
from dualpath.risk.catalogue import Catalogue, family_of
from dualpath.risk.context import Context, Item, read_part
from dualpath.risk.live import TableSize
from dualpath.risk.measure.observation import Measurement
from dualpath.risk.measure.verdict import MEASURED_RULE, settle
from dualpath.risk.model import Finding, Measured
from dualpath.risk.registry import all_rules, rules_for
from dualpath.risk.schema import Schema

SYNTAX_RULE = "DP000"


def build_context(change: Change, catalogue: Catalogue, *, knows_rollback: bool,
                  sizes: dict[str, TableSize] | None = None, measured: Sequence[Measured] = (),
                  runner: str = "dualpath", measurement: Measurement | None = None,
                  schema: Schema | None = None) -> Context:
    family = family_of(catalogue.dialect)
    return Context(change=change, family=family, catalogue=catalogue,
                   forward=read_part(change.forward, "forward", family, catalogue, schema),
                   rollback=read_part(change.rollback or (), "rollback", family, catalogue, schema),
                   knows_rollback=knows_rollback, sizes=sizes or {}, measured=tuple(measured), runner=runner,
                   measurement=measurement, schema=schema)


def check_change(change: Change, catalogue: Catalogue, *, knows_rollback: bool = True,
                 disabled: set[str] | frozenset[str] = frozenset(),
                 sizes: dict[str, TableSize] | None = None, measured: Sequence[Measured] = (),
                 runner: str = "dualpath", measurement: Measurement | None = None,
                 schema: Schema | None = None) -> list[Finding]:
    """Findings of every rule; ``measured`` (a lock rehearsal of this change) feeds DP062, ``measurement``
    (the change run on a shadow, risk/measure) DP080 and DP081, and settles the static guesses it measured;
    ``schema`` (the server's, with ``--url``) settles what the SQL alone cannot."""
    ctx = build_context(change, catalogue, knows_rollback=knows_rollback, sizes=sizes, measured=measured,
                        runner=runner, measurement=measurement, schema=schema)
    findings = [syntax_finding(ctx, item) for item in ctx.items if item.error is not None]
    for rule in rules_for(ctx.family, disabled):
        if rule.scope == "change" and not knows_rollback:
            continue
        findings.extend(f for f in rule.check(ctx) if not ignored(f, ctx))
    if measurement is not None and MEASURED_RULE not in {d.upper() for d in disabled}:
        findings = settle(findings, ctx)
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule))


def check_rehearsal(measured: Sequence[Measured]) -> list[Finding]:
    """Findings of the rehearsal-scope rules from what a lock rehearsal measured, without a change."""
    return [f for rule in all_rules() if rule.scope == "rehearsal" for f in rule.check_measured(measured)]


def syntax_finding(ctx: Context, item: Item) -> Finding:
    """Unreadable SQL: the parser's message at the parser's line, never a crash."""
    assert item.error is not None
    text, offset = item.statement.text, item.error.offset
    line, column = item.statement.line, 1
    if offset is not None and 0 <= offset <= len(text):
        before = text[:offset]
        line += before.count("\n")
        column = offset - (before.rfind("\n") + 1) + 1
    return Finding(rule=SYNTAX_RULE, severity="error", file=item.statement.file, line=line, column=column,
                   message=f"cannot parse this statement: {item.error.message}",
                   fix="correct the SQL, or check --dialect", version=ctx.change.version,
                   title="SQL does not parse")


def ignored(finding: Finding, ctx: Context) -> bool:
    """``-- dualpath:ignore DP012 reason="..."`` above the statement accepts that finding."""
    for item in ctx.items:
        stmt = item.statement
        if stmt.file == finding.file and stmt.line == finding.line:
            for directive in stmt.directives:
                if directive.name == "ignore" and finding.rule in ignore_ids(directive.args.get("rules", "")):
                    return True
    return False


def ignore_ids(text: str) -> set[str]:
    return {part.strip().upper() for part in text.replace(" ", ",").split(",") if part.strip()}
