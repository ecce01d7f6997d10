"""Changes + target state + throughput → Plan: ordered steps with locks, estimates, rollbacks and gates.

Locks and rewrites come from the risk engine's catalogue (``risk.check.build_context``), sizes from
the live target, speeds from ``dualpath calibrate``. Nothing here knows a dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from dualpath.changes import Change
from dualpath.config import Settings
from dualpath.engines.base import Engine
from dualpath.engines.probes import ExplainsStatements, TableStats
from dualpath.estimates import DML_KINDS, Estimate, Throughput, estimate_effect, human_bytes
from dualpath.rehearse import Measured
from dualpath.risk.catalogue import Catalogue, catalogue_for
from dualpath.risk.check import build_context, check_change
from dualpath.risk.context import Item, same_name
from dualpath.risk.live import TableSize, known_schema
from dualpath.risk.measure.observation import Measurement
from dualpath.risk.model import Effect, Finding, severity_rank
from dualpath.risk.schema import Schema

DESTRUCTIVE = frozenset({"drop_table", "drop_column", "truncate", "drop_database"})
INDEX_KINDS = frozenset({"create_index", "drop_index", "reindex"})
PERMISSION_WORDS = ("GRANT", "REVOKE")


@dataclass(frozen=True)
class TargetState:
    """What the plan knows about the target: engine, version, table sizes."""

    label: str
    flavor: str
    version: tuple[int, ...]
    transactional_ddl: bool
    sizes: dict[str, TableStats] = field(default_factory=dict)
    lock_timeout_ms: int = 2000
    queries: dict[str, str] = field(default_factory=dict)  # label → SQL to check the server by hand
    statement_rows: dict[str, int] = field(default_factory=dict)  # UPDATE/DELETE ... WHERE → planner's rows
    schema: Schema | None = None  # the current schema, with the planner's estimates for the changes' DML

    def size_of(self, table: str | None) -> TableStats | None:
        if table is None:
            return None
        return next((s for name, s in self.sizes.items() if same_name(name, table)), None)


@dataclass
class Step:
    id: str  # "2.1": change 2, statement 1; rollback steps "R2.1"
    version: str
    direction: str  # up | down
    where: str
    sql: str
    operations: list[str]
    tables: list[str]
    lock: str
    blocks: str  # none | writes | reads and writes
    rewrite: bool
    cost: str
    algorithm: str | None
    transaction: str
    rows: int
    seconds: float
    wal_bytes: int
    disk_bytes: int
    gates: list[str] = field(default_factory=list)
    irreversible: bool = False
    rollback: list[str] = field(default_factory=list)  # ids of the steps that undo this one
    measured_lock: str | None = None
    measured_rewrite: bool | None = None


@dataclass
class PlannedChange:
    version: str
    description: str
    where: str
    category: str  # DDL | DML | permissions | index tuning
    categories: list[str]
    ticket: str | None
    ticket_url: str | None
    irreversible: str | None  # the reason, when marked irreversible
    steps: list[str]
    rollback_steps: list[str]
    seconds: float


@dataclass
class Prerequisite:
    name: str  # backup | approval | verification | window
    required: bool
    reason: str
    who: list[str] = field(default_factory=list)
    environment: str | None = None


@dataclass
class Totals:
    changes: int
    steps: int
    seconds: float
    rollback_seconds: float
    blocking_seconds: float  # time other sessions wait on a blocking lock
    rewrite_bytes: int
    wal_bytes: int


@dataclass
class Plan:
    target: str
    engine: str
    version: str
    generated_at: str
    changes: list[PlannedChange]
    steps: list[Step]
    rollback_steps: list[Step]
    findings: list[Finding]
    prerequisites: list[Prerequisite]
    totals: Totals
    throughput: Throughput
    rehearsed: bool = False
    queries: dict[str, str] = field(default_factory=dict)
    measured: bool = False  # each pending statement ran on a shadow of the target (risk/measure)
    measure_notes: list[str] = field(default_factory=list)  # what could not be measured, and why

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps + self.rollback_steps if s.id == step_id)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.as_dict() | {"version": f.version, "title": f.title} for f in self.findings]
        return data


def read_target(engine: Engine, label: str, lock_timeout_ms: int = 2000,
                changes: Sequence[Change] = ()) -> TargetState:
    """Connect once: flavor, version, table sizes (planner statistics, no scans on servers), and the
    planner's row estimate for each UPDATE/DELETE with a WHERE in ``changes``."""
    with engine.connect() as conn:
        version = tuple(engine.server_version(conn))
        sizes = engine.table_sizes(conn)
        conn.rollback()
        rows = filtered_rows(engine, conn, changes, catalogue_for(engine.flavor, version))
        conn.rollback()
        schema = known_schema(conn, engine.name, engine.flavor, version, sizes, changes)
    return TargetState(label=label, flavor=engine.flavor, version=version, sizes=sizes,
                       transactional_ddl=engine.transactional_ddl, lock_timeout_ms=lock_timeout_ms,
                       queries=engine.check_queries, statement_rows=rows, schema=schema)


def filtered_rows(engine: Engine, conn: Connection, changes: Sequence[Change], catalogue: Catalogue
                  ) -> dict[str, int]:
    """Statement text → rows the planner expects an UPDATE/DELETE with a WHERE to touch (EXPLAIN, not run)."""
    if not isinstance(engine, ExplainsStatements):
        return {}
    rows: dict[str, int] = {}
    for change in changes:
        context = build_context(change, catalogue, knows_rollback=True)
        for item in context.forward + context.rollback:
            if any(op.kind in DML_KINDS and op.get("has_where") for op in item.ops):
                estimate = engine.explain_rows(conn, item.statement.text)
                if estimate is not None:
                    rows[item.statement.text] = estimate
    return rows


def build_plan(changes: Sequence[Change], target: TargetState, *, settings: Settings | None = None,
               throughput: Throughput | None = None, measured: Sequence[Measured] = (),
               measurement: Measurement | None = None) -> Plan:
    """The plan for running ``changes`` (pending, in order) on ``target``; ``measured`` is a lock rehearsal,
    ``measurement`` the changes run on a shadow (their findings and each step's measured lock and rewrite)."""
    settings = settings or Settings()
    speed = throughput or Throughput(engine=target.flavor)
    catalogue = catalogue_for(target.flavor, target.version)
    risk_sizes = {name: TableSize(s.rows, s.bytes) for name, s in target.sizes.items()}
    planned, steps, rollback_steps, findings = [], [], [], []
    for change in changes:
        context = build_context(change, catalogue, knows_rollback=True, sizes=risk_sizes, schema=target.schema)
        created = {t for item in context.forward for t in item.new_tables} | _created_here(context.forward)
        scope = _transaction_scope(change, target.transactional_ddl)
        ups = [_step(f"{change.version}.{n}", change, item, "up", scope, target, speed, created=set(),
                     measured=measured) for n, item in enumerate(context.forward, 1)]
        for up in ups:
            _add_measurement(up, measurement, catalogue)
        downs = [_step(f"R{change.version}.{n}", change, item, "down", scope, target, speed, created=created,
                       measured=()) for n, item in enumerate(context.rollback, 1)]
        for up in ups:
            up.rollback = [d.id for d in downs]
        steps += ups
        rollback_steps += downs
        findings += check_change(change, catalogue, knows_rollback=True, sizes=risk_sizes,
                                 measured=[m for m in measured if m.version == change.version],
                                 measurement=measurement, schema=target.schema)
        planned.append(_planned_change(change, ups, downs, context.forward, settings))
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.file, f.line, f.rule))
    return Plan(target=target.label, engine=target.flavor, version=".".join(map(str, target.version)),
                generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), changes=planned, steps=steps,
                rollback_steps=rollback_steps, findings=findings,
                prerequisites=prerequisites(planned, steps, settings), totals=_totals(planned, steps, rollback_steps),
                throughput=speed, rehearsed=bool(measured), queries=dict(target.queries),
                measured=bool(measurement and measurement.observations),
                measure_notes=list(measurement.notes) if measurement else [])


def _created_here(items: list[Item]) -> set[str]:
    return {e.table for item in items for e in item.effects
            if e.table and e.operation in ("create_table", "create_table_as")}


def _transaction_scope(change: Change, transactional_ddl: bool) -> str:
    if change.directive("no-transaction") is not None or any(s.no_transaction for s in change.forward):
        return "outside a transaction (no-transaction)"
    if transactional_ddl:
        return "one transaction for the whole change"
    return "each statement commits on its own (DDL is not transactional here)"


def _step(step_id: str, change: Change, item: Item, direction: str, scope: str, target: TargetState,
          speed: Throughput, created: set[str], measured: Sequence[Measured]) -> Step:
    effects = [e for e in item.effects if e.operation not in ("transaction", "set", "set_timeout")]
    estimates: list[Estimate] = []
    existing = []  # effects on tables that exist before the change: only those block anybody
    for effect in effects:
        new = item.is_new(effect.table) or any(effect.table and same_name(effect.table, t) for t in created)
        size = None if new else _touched(target, item, effect)
        estimates.append(estimate_effect(effect, size, speed))
        if not new:
            existing.append(effect)
    strongest = max(existing, key=lambda e: _BLOCKS.index(e.blocks) if e.blocks in _BLOCKS else 0, default=None)
    tables = sorted({e.table for e in effects if e.table})
    mine = [m for m in measured if m.where == item.statement.where]
    step = Step(
        id=step_id, version=change.version, direction=direction, where=item.statement.where,
        sql=item.statement.text, operations=[e.operation for e in effects] or ["other"], tables=tables,
        lock=strongest.lock if strongest else (effects[0].lock if effects else "unknown"),
        blocks=strongest.blocks if strongest else "none",
        rewrite=any(e.cost == "rewrite" for e in effects),
        cost=max((e.cost for e in effects), key=_COST_ORDER.index, default="none"),
        algorithm=next((e.algorithm for e in effects if e.algorithm), None), transaction=scope,
        rows=max((e.rows for e in estimates), default=0),
        seconds=speed.metadata_s + sum(e.seconds for e in estimates),
        wal_bytes=sum(e.wal_bytes for e in estimates), disk_bytes=sum(e.disk_bytes for e in estimates),
        irreversible=change.irreversible is not None or any(e.operation in DESTRUCTIVE for e in effects),
        measured_lock=_strongest_measured(mine), measured_rewrite=any(m.rewritten for m in mine) if mine else None)
    step.gates = _gates(step, target)
    return step


def _touched(target: TargetState, item: Item, effect: Effect) -> TableStats | None:
    """The table's size, or for an UPDATE/DELETE with a WHERE the share of it the planner expects to touch."""
    size = target.size_of(effect.table)
    rows = target.statement_rows.get(item.statement.text)
    if effect.operation not in DML_KINDS or rows is None or size is None:
        return size
    rows = min(rows, size.rows) if size.rows else rows
    return TableStats(rows, int(size.bytes * rows / size.rows) if size.rows else 0)


_BLOCKS = ("none", "writes", "reads and writes")
_COST_ORDER = ["none", "metadata", "scan", "build", "rewrite", "unsupported"]


def _add_measurement(step: Step, measurement: Measurement | None, catalogue: Catalogue) -> None:
    """The lock and rewrite the shadow measured for this step, where no rehearsal measured them."""
    observation = measurement.observed(step.where) if measurement else None
    if observation is None or observation.refused is not None:
        return
    works = [w for w in observation.tables if w.existed and (w.lock_clause or w.lock)]
    if step.measured_lock is None and works:
        top = max(works, key=lambda w: _BLOCKS.index(catalogue.blocks.get(w.lock_clause or w.lock or "", "none")))
        step.measured_lock = f"{top.lock_clause or top.lock} on {top.table}"
    if step.measured_rewrite is None:
        step.measured_rewrite = any(w.rewritten or w.algorithm == "COPY" for w in observation.tables if w.existed)


def _strongest_measured(mine: list[Measured]) -> str | None:
    known = [m for m in mine if m.measured_lock]
    if not known:
        return None
    top = next((m for m in known if m.stronger), known[0])
    return f"{top.measured_lock} on {top.table}"


def _gates(step: Step, target: TargetState) -> list[str]:
    """Checks that must hold right before the step runs."""
    gates = []
    if step.blocks != "none" and step.rows:
        gates.append(f"no session holds a transaction open on {', '.join(step.tables)} for longer than "
                     f"the lock timeout ({target.lock_timeout_ms} ms)")
    if step.disk_bytes:
        gates.append(f"free space on the data volume ≥ {human_bytes(step.disk_bytes * 1.2)} (new copy + 20%)")
    if step.irreversible and step.direction == "up":
        gates.append(f"a verified backup of {', '.join(step.tables) or 'the database'} exists")
    if step.wal_bytes >= 256 * 1024 * 1024:
        gates.append(f"replicas keep up: lag below the threshold, {human_bytes(step.wal_bytes)} of WAL/binlog")
    return gates


def _planned_change(change: Change, ups: list[Step], downs: list[Step], items: list[Item],
                    settings: Settings) -> PlannedChange:
    ticket = change.ticket_by(settings.ticket_pattern)
    url = settings.ticket_link.replace("{ticket}", ticket) if ticket and settings.ticket_link else None
    reason = change.irreversible.args.get("reason", "irreversible") if change.irreversible else None
    categories = categorise(items)
    return PlannedChange(version=change.version, description=change.description, where=change.where,
                         category=categories[0], categories=categories, ticket=ticket, ticket_url=url,
                         irreversible=reason, steps=[s.id for s in ups], rollback_steps=[s.id for s in downs],
                         seconds=sum(s.seconds for s in ups))


def categorise(items: list[Item]) -> list[str]:
    """DDL, DML, permissions, index tuning: the change's main category first."""
    found: list[str] = []
    for item in items:
        words = item.statement.text.lstrip().split(None, 1)
        kinds = {op.kind for op in item.ops}
        if words and words[0].upper() in PERMISSION_WORDS:
            label = "permissions"
        elif kinds and kinds <= INDEX_KINDS:
            label = "index tuning"
        elif kinds & (DML_KINDS | {"insert", "insert_select"}):
            label = "DML"
        else:
            label = "DDL"
        if label not in found:
            found.append(label)
    order = ["DDL", "DML", "index tuning", "permissions"]
    return sorted(found, key=order.index) or ["DDL"]


def prerequisites(changes: list[PlannedChange], steps: list[Step], settings: Settings) -> list[Prerequisite]:
    """Backup, approval (by whom, per environment), verification and windows."""
    irreversible = [c.version for c in changes if c.irreversible]
    destructive = sorted({s.version for s in steps if s.irreversible})
    dba = [settings.owners[k] for k in ("dba", "database") if k in settings.owners]
    needs: list[Prerequisite] = [
        Prerequisite("verification", True, "`dualpath verify` round-trips every change on a shadow"),
        Prerequisite("backup", bool(destructive),
                     f"destructive or irreversible changes: {', '.join(destructive)}" if destructive
                     else "no destructive change", who=dba)]
    for name, env in settings.environments.items():
        if env.backup == "always":
            needs.append(Prerequisite("backup", True, "the environment backs up before every run",
                                      who=dba, environment=name))
        required = env.approval == "always" or (env.approval == "irreversible" and bool(irreversible))
        reason = {"always": "every run in this environment is approved",
                  "irreversible": f"irreversible changes: {', '.join(irreversible) or 'none'}",
                  "never": "no approval in this environment"}[env.approval]
        needs.append(Prerequisite("approval", required, reason, who=list(env.approvers), environment=name))
        if env.window:
            needs.append(Prerequisite("window", True, f"runs only within {env.window}", environment=name))
    if not settings.environments:
        needs.append(Prerequisite("approval", bool(irreversible),
                                  f"irreversible changes: {', '.join(irreversible)}" if irreversible
                                  else "no irreversible change", who=dba))
    return needs


def _totals(changes: list[PlannedChange], steps: list[Step], rollback_steps: list[Step]) -> Totals:
    return Totals(changes=len(changes), steps=len(steps), seconds=sum(s.seconds for s in steps),
                  rollback_seconds=sum(s.seconds for s in rollback_steps),
                  blocking_seconds=sum(s.seconds for s in steps if s.blocks != "none"),
                  rewrite_bytes=sum(s.disk_bytes for s in steps if s.rewrite),
                  wal_bytes=sum(s.wal_bytes for s in steps))


