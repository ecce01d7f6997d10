"""The verdict: what a statement was measured doing on the shadow → findings, scaled by the live table.

A measured statement is a hazard when, on a table that exists before its change, it does work that grows
with the table (a rewrite or copy, an index build or rebuild, a scan that validates rows) while holding
a lock that blocks reads or writes; or when it changes at least half of the table's sampled rows in one
unbatched statement. The finding says what was measured and, from the live target, how big the table is;
a big table (a million rows, a GiB) makes it an error. Where a statement was measured, the static rules
that guess the same thing (``SETTLED``) give way to the measurement; the others (data loss, running code,
transactions, rollbacks, style) stand.
"""

from __future__ import annotations

from collections.abc import Iterator

from dualpath.risk.context import Context, Item, same_name
from dualpath.risk.measure.observation import Observation, TableWork
from dualpath.risk.model import Finding

# static rules whose claim (rewrite, scan, index build, the lock it is done under, ALGORITHM/LOCK, mass
# DML) the measurement of the same statement settles
SETTLED = frozenset({
    "DP001", "DP003", "DP004", "DP005", "DP006", "DP008", "DP009", "DP015", "DP016", "DP031", "DP036", "DP037",
    "DP038", "DP039", "DP059", "DP060",  # PostgreSQL (DML sizes: the planner's estimate on the live table, DP043)
    "DP051", "DP052", "DP053", "DP054", "DP055",  # MySQL/MariaDB
})
MEASURED_RULE = "DP080"
_DML = frozenset({"insert", "insert_select", "update", "delete"})


def measured_findings(rule: object, ctx: Context) -> Iterator[Finding]:
    """One finding of the measured rule for each forward statement the shadow shows to be a hazard."""
    if ctx.measurement is None:
        return
    for item in ctx.forward:
        observation = ctx.measurement.observed(item.statement.where)
        if observation is None:
            continue
        if observation.refused is not None:
            yield from _refused(rule, ctx, item, observation)
            continue
        verdicts = [(w.table, *v) for w in observation.tables if w.existed and (v := _judge(ctx, item, w))]
        if not verdicts:
            continue
        blocking = [text for _, text, mass in verdicts if not mass]
        fix = None if blocking else "batch it: -- dualpath:batch table=... key=... (docs/batches.md)"
        worst = max((table for table, _, _ in verdicts), key=lambda table: _live(ctx, table))
        yield ctx.finding(rule, item, "measured on a shadow: " + "; ".join(blocking or [t for _, t, _ in verdicts]),
                          table=worst, fix=fix)


def _live(ctx: Context, table: str) -> tuple[int, int]:
    size = ctx.size_of(table)
    return (size.rows, size.bytes) if size else (0, 0)


def _judge(ctx: Context, item: Item, work: TableWork) -> tuple[str, bool] | None:
    """What makes the statement a hazard on this table, in words, and whether it is (only) mass DML."""
    dml = bool(item.ops) and all(op.kind in _DML for op in item.ops)
    if any(op.kind == "truncate" for op in item.ops):  # new, empty storage: quick whatever the size (DP021's)
        return None
    done = grows(work, dml)
    # with the live schema the planner's estimate on the real table judges how many rows (DP042-DP044);
    # a 10-row sample (a LIMIT 5 is half of it) only stands in when there is none
    mass = dml and ctx.schema is None and _mass(work, ctx.measurement.sample_rows if ctx.measurement else 0)
    if mass:
        done.append(f"{work.rows_written} of the {work.sample_rows or 'sampled'} sampled rows changed")
    lock, source = work.lock_clause or work.lock, ""
    if lock is None and work.algorithm == "COPY":  # the statement cannot be asked for a LOCK; a copy blocks writes
        lock, source = "SHARED", " (a copy holds at least LOCK=SHARED)"
    elif lock is None:
        lock, source = _predicted(item, work.table), " (lock from the catalogue: not readable here)"
    blocked = ctx.catalogue.blocks.get(lock, "none")
    if work.kind == "materialized view" and blocked == "writes":
        blocked = "none"  # nothing but REFRESH writes to it: readers go on
    if done and blocked != "none":
        held = f"ALGORITHM={work.algorithm}, LOCK={lock}" if work.algorithm else f"{lock} held" + (
            " (taken by an earlier statement of this transaction)" if work.held_before else "")
        until = " until COMMIT" if ctx.family == "postgresql" and not source else ""
        return (f"{', '.join(done)} on {work.table}; {held}{until}, blocking {blocked} on {work.table} "
                f"meanwhile{source}"), False
    if mass and not ctx.change.directive("batch") and _has_where(item):
        return (f"{work.rows_written} of the {work.sample_rows} sampled rows of {work.table} changed in one "
                "statement: on the live table that is most of its rows in one transaction, holding their row "
                "locks until it ends"), True
    return None


def grows(work: TableWork, dml: bool) -> list[str]:
    """The work a statement did on ``work.table`` that takes longer the bigger the table, in words."""
    done = []
    if work.algorithm == "COPY":
        copied = f", {work.rows_written} sampled rows" if work.rows_written else ""
        done.append(f"table copied (ALGORITHM=COPY{copied})")
    elif work.rewritten:
        done.append("table rewritten" if work.algorithm is None else "table rebuilt in place")
    if work.indexes_rebuilt:
        count = len(work.indexes_rebuilt)
        done.append(f"{count} {'index' if count == 1 else 'indexes'} rebuilt ({', '.join(work.indexes_rebuilt)})")
    if work.indexes_built and not work.rewritten:
        done.append(f"index {', '.join(work.indexes_built)} built")
    if work.validated and work.scans:
        done.append(f"{', '.join(work.validated)} validated against every row")
    elif work.scans and not dml and not done and work.algorithm is None:
        done.append(f"every row scanned ({work.scans} sequential scan{'s' if work.scans > 1 else ''})")
    return done


def _mass(work: TableWork, sample_limit: int) -> bool:
    """Changed at least half of the table's sampled rows (an insert: half a sample's worth)."""
    if work.sample_rows > 0:
        return work.rows_written * 2 >= work.sample_rows
    return sample_limit > 0 and work.rows_written * 2 >= sample_limit


def _has_where(item: Item) -> bool:
    """UPDATE/DELETE without WHERE are DP042's: the measurement adds nothing there."""
    return all(op.get("has_where", True) for op in item.ops if op.kind in ("update", "delete"))


def _predicted(item: Item, table: str) -> str:
    effects = [e for e in item.effects if e.table and same_name(e.table, table)]
    return effects[0].lock if effects else "unknown"


def _refused(rule: object, ctx: Context, item: Item, observation: Observation) -> Iterator[Finding]:
    """A statement the shadow refused fails on the target too, unless the object is there already or the
    sample misled; a refusal the dependents explain is theirs to report."""
    if observation.refusal or ctx.measurement is None:
        return
    if any(d.severity == "error" for d in ctx.measurement.dependents.get(item.statement.where, ())):
        return
    if item.ops and all(op.kind in _DML for op in item.ops):
        return  # a data change refused on sampled rows (a key taken, a row missing) says nothing of the target's
    yield ctx.finding(rule, item, f"the server refused it on a shadow of the target: {observation.refused}",
                      fix="fix the statement (or what it needs first); static rules judge it meanwhile")


def dependent_findings(rule: object, ctx: Context) -> Iterator[Finding]:
    """One finding per dependent of what a forward statement drops, renames or retypes."""
    if ctx.measurement is None:
        return
    for item in ctx.forward:
        for d in ctx.measurement.dependents.get(item.statement.where, ()):
            yield ctx.finding(rule, item, f"{d.kind} {d.name} uses {d.used}: {d.outcome}",
                              severity=d.severity)  # type: ignore[arg-type]


def settle(findings: list[Finding], ctx: Context) -> list[Finding]:
    """Drop the static findings a measurement of the same statement settles (see SETTLED)."""
    if ctx.measurement is None:
        return findings
    measured = set()
    for item in ctx.forward:
        observation = ctx.measurement.observed(item.statement.where)
        if observation is not None and observation.refused is None:
            measured.add((item.statement.file, item.statement.line))
    return [f for f in findings if not (f.rule in SETTLED and (f.file, f.line) in measured)]
