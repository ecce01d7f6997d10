"""The risks of a release as data: one entry per hazard of the plan on the live target (data loss, blocking
locks, heavy data changes, breaking running code, rollback limits), each with likelihood and impact from the
live sizes, a mitigation for that statement, a trigger the run itself watches, and an owner.

Lint findings are evidence attached to a risk; info and style findings, and findings on a rollback file
about a hazard already listed, are never risks of their own (registers.py puts them in an appendix)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dualpath.plan import Step
from dualpath.render.display import duration
from dualpath.render.impact import DATA_OPS, batch_size, step_impact
from dualpath.render.inputs import DocInputs
from dualpath.render.owners import owner_for
from dualpath.risk.model import Finding

LOSS_OPS = frozenset({"drop_column", "drop_table", "truncate", "delete"})
BREAKING_OPS = frozenset({"drop_column", "drop_table", "rename_column", "rename_table"})
OVERRUN = 3  # a step running this many times its estimate is a trigger (as in the runbook)
HEAVY_ROWS = 10_000


@dataclass
class Risk:
    id: str
    kind: str  # data loss | blocking lock | heavy data change | breaks running code | rollback limits | finding
    title: str
    where: str  # file:line of the first step
    steps: list[str]
    what: str  # what happens, how much
    likelihood: str  # low | medium | high | certain
    impact: str  # low | medium | high
    mitigation: str
    trigger: str
    owner: str
    evidence: list[str] = field(default_factory=list)  # "DP012 V7.sql:5" findings that speak of it


def size_level(rows: int | None) -> str:
    """How much harm a table's size alone suggests."""
    if rows is None:
        return "medium"  # unknown size: neither reassure nor alarm
    return "low" if rows < HEAVY_ROWS else "medium" if rows < 1_000_000 else "high"


def _raise(level: str) -> str:
    return {"low": "medium", "medium": "high"}.get(level, "high")


def derive_risks(inputs: DocInputs) -> list[Risk]:
    risks = (_data_loss(inputs) + _breaking(inputs) + _locks(inputs) + _heavy(inputs) + _rollback_limits(inputs))
    risks += _unexplained_findings(inputs, risks)
    for n, risk in enumerate(risks, 1):
        risk.id = f"R{n}"
    return risks


def appendix_findings(inputs: DocInputs, risks: list[Risk]) -> list[Finding]:
    """Findings that are no entry of the register: info and style, and those already evidence of a risk."""
    cited = {e for r in risks for e in r.evidence}
    return [f for f in inputs.plan.findings if f.severity == "info" or _cite(f) in cited]


def _cite(finding: Finding) -> str:
    return f"{finding.rule} {finding.file}:{finding.line}"


def _existing(inputs: DocInputs, step: Step) -> bool:
    return inputs.target is None or any(inputs.rows_of(t) is not None for t in step.tables)


def _evidence(inputs: DocInputs, steps: list[Step], rules: tuple[str, ...] = ()) -> list[str]:
    """Findings on these steps, or on their rollback steps for the same tables (one hazard, two files)."""
    wheres = {s.where for s in steps}
    tables = {t for s in steps for t in s.tables}
    rollback = {r.where for s in steps for r in inputs.plan.rollback_steps if r.version == s.version
                and set(r.tables) & tables}
    found = [f for f in inputs.plan.findings if f.severity != "info" and (
        f"{f.file}:{f.line}" in wheres or (f"{f.file}:{f.line}" in rollback and (not rules or f.rule in rules)))]
    return [_cite(f) for f in found]


def _trigger_failure(inputs: DocInputs) -> str:
    env = inputs.environment()
    threshold = env.failure_threshold if env else 1
    whom = "the failed tenant" if env and env.rollback_policy == "failed" else "every tenant of the run"
    failed = "a failed tenant halts" if threshold == 1 else f"{threshold} failed tenants halt"
    return f"{failed} the waves and rolls back {whom}" if threshold == 1 else f"{failed} the waves and roll back {whom}"


def _column(inputs: DocInputs, step: Step, op: str) -> str:
    """``customers.name`` for a dropped column, ``customers`` for a table."""
    from dualpath.risk.catalogue import family_of
    from dualpath.risk.ops import SqlSyntaxError, extract_ops

    try:
        ops = extract_ops(step.sql, family_of(inputs.plan.engine))
    except (SqlSyntaxError, ValueError):
        ops = []
    for found in ops:
        if found.kind == op and op.endswith("column"):
            return f"{found.table}.{found.attrs.get('column') or found.name}"
    return ", ".join(step.tables)


def _data_loss(inputs: DocInputs) -> list[Risk]:
    risks = []
    for step in inputs.plan.steps:
        ops = [op for op in step.operations if op in LOSS_OPS]
        if not ops or not _existing(inputs, step):
            continue
        what = _column(inputs, step, ops[0])
        rows = step.rows if ops[0] == "delete" else max((inputs.rows_of(t) or 0 for t in step.tables), default=0)
        backup = _backup_text(inputs, step)
        change = inputs.planned(step.version)
        verb = {"drop_column": "dropped", "drop_table": "dropped", "truncate": "emptied", "delete": "deleted"}[ops[0]]
        risks.append(Risk(
            "", "data loss", f"Irreversible loss of {what} ({rows:,} rows)", step.where, [step.id],
            f"{what} is {verb} by change {step.version}: the values of {rows:,} rows exist afterwards only in "
            f"the backup. {backup}" + (f" Marked irreversible: {change.irreversible}." if change and change.irreversible
                                       else ""),
            "certain once the step runs", _raise(size_level(rows)),
            _loss_mitigation(ops[0], what),
            f"validation of {', '.join(step.tables)} fails after {step.id}, or an error names {what} after it: "
            f"{_trigger_failure(inputs)}; the data comes back only by restoring the backup",
            owner_for(inputs, step), _evidence(inputs, [step])))
    return risks


def _backup_text(inputs: DocInputs, step: Step) -> str:
    existing = inputs.backup_for(step.version)
    where = inputs.backup_destination or ".dualpath/backups (beside dualpath.toml)"
    if existing is not None:
        tables = ", ".join(existing.tables) or "whole database"
        return (f"Backup {existing.backup_id} (taken {existing.created_at}, {tables}) "
                f"covers it; a new verified backup is taken at {where} before the step runs.")
    return (f"Covered by the verified backup of {', '.join(step.tables)} the run takes at {where} right before "
            f"change {step.version}; without it the change does not run.")


def _loss_mitigation(op: str, what: str) -> str:
    if op == "drop_column":
        return (f"expand/contract: the application stops reading and writing {what} in one release, the column is "
                "dropped in a later one; keep the pre-change backup until that release is accepted")
    if op == "drop_table":
        return (f"rename {what} aside (e.g. {what}_retired) in this release and drop it in a later one, once nothing "
                "reads it; keep the pre-change backup until then")
    if op == "truncate":
        return f"copy {what} to an archive table first; keep the pre-change backup until the result is accepted"
    return (f"copy the rows to be deleted from {what} to an archive table first, and delete in batches "
            "(-- dualpath:batch) so each chunk commits on its own")


def _breaking(inputs: DocInputs) -> list[Risk]:
    risks = []
    for step in inputs.plan.steps:
        ops = [op for op in step.operations if op in BREAKING_OPS]
        if not ops or not _existing(inputs, step):
            continue
        what = _column(inputs, step, ops[0])
        later = [s.id for s in inputs.plan.steps if s.version != step.version and what.split(".")[-1] in s.sql
                 and step.version in _before(inputs, s.version)]
        expanded = _expand_in_release(inputs, step)
        dependents = _dependents(inputs, what)
        likelihood = "high" if expanded else "medium"
        why = (f" The expand ({', '.join(expanded)}) ships in the same release, so application code deployed "
               f"before this run still uses {what}." if expanded else "")
        risks.append(Risk(
            "", "breaks running code", f"Code still using {what} breaks", step.where, [step.id],
            f"After {step.id} ({', '.join(ops)}), any query naming {what} fails.{why}"
            + (f" Dependents: {'; '.join(dependents)}." if dependents else "")
            + (f" Later steps of this release still name it: {', '.join(later)}." if later else ""),
            likelihood, _raise(size_level(max((inputs.rows_of(t) or 0 for t in step.tables), default=0))),
            f"ship change {step.version} in a later release than the one that stops using {what}; until then "
            "deploy the application reading the new name only, and check no query names the old one "
            "(pg_stat_statements, slow log)",
            f"application errors naming {what} after {step.id}, or validation fails: {_trigger_failure(inputs)}",
            owner_for(inputs, step), _evidence(inputs, [step])))
    return risks


def _before(inputs: DocInputs, version: str) -> list[str]:
    versions = [c.version for c in inputs.plan.changes]
    return versions[:versions.index(version)] if version in versions else []


def _expand_in_release(inputs: DocInputs, step: Step) -> list[str]:
    """Earlier changes of this release on the same table that add a column or copy data: the expand half."""
    return [s.version for s in inputs.plan.steps
            if s.version in _before(inputs, step.version) and set(s.tables) & set(step.tables)
            and set(s.operations) & {"add_column", "update", "insert_select"}]


def _dependents(inputs: DocInputs, what: str) -> list[str]:
    schema = inputs.target.schema if inputs.target else None
    if schema is None or "." not in what:
        return []
    table, column = what.rsplit(".", 1)
    found = []
    for name, columns in schema.columns.items():
        if name.split(".")[-1] == table.split(".")[-1] and column in columns and columns[column].indexed:
            found.append(f"an index on {what} goes with it")
    return found


def _locks(inputs: DocInputs) -> list[Risk]:
    by_table: dict[str, list[Step]] = {}
    for step in inputs.plan.steps:
        if step.blocks != "none" and _existing(inputs, step):
            for table in step.tables[:1]:
                by_table.setdefault(table, []).append(step)
    safety = inputs.settings.safety
    lock_timeout = duration(safety.lock_timeout_ms / 1000)
    risks = []
    for table, steps in by_table.items():
        rows = inputs.rows_of(table)
        longest = max(steps, key=lambda s: s.seconds)
        measured = [f"{s.id}: {s.measured_lock}" for s in steps if s.measured_lock]
        predicted = "; ".join(f"{s.id} {s.lock} for about {duration(s.seconds)}" for s in steps)
        blocks = "reads and writes" if any(s.blocks == "reads and writes" for s in steps) else "writes"
        gate = _gate_max(inputs, "lock_waits")
        risks.append(Risk(
            "", "blocking lock", f"{blocks.capitalize()} on {table} blocked", steps[0].where, [s.id for s in steps],
            f"{blocks.capitalize()} on {table} ({_rows(rows)}) wait while each step holds its lock: "
            f"predicted {predicted}"
            + (f"; measured {', '.join(measured)}" if measured else "; not rehearsed (`dualpath plan --rehearse`)")
            + f". Behind a long transaction every session queues for up to the lock timeout ({lock_timeout}).",
            "medium" if (rows or 0) >= HEAVY_ROWS else "low",
            "high" if longest.seconds >= 10 else _raise(size_level(rows)) if longest.seconds >= 1 else "low",
            _lock_mitigations(steps, lock_timeout, safety.lock_retries),
            f"a lock wait on {table} longer than {lock_timeout}: the statement is retried "
            f"{_times(safety.lock_retries)} with backoff, then the change fails and the run stops"
            + (f"; the lock_waits gate allows {gate:g} waiting sessions between waves" if gate is not None else "")
            + f"; a step running past {OVERRUN}× its estimate ({duration(longest.seconds * OVERRUN)})",
            owner_for(inputs, steps[0]), _evidence(inputs, steps, ("DP023",))))
    return risks


def _times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def _lock_mitigations(steps: list[Step], lock_timeout: str, retries: int) -> str:
    """One mitigation per kind of statement; the catalog-only ones said once together."""
    specific = [m for m in (_lock_mitigation(s) for s in steps) if m]
    quick = list(dict.fromkeys(op for s in steps if not _lock_mitigation(s) for op in s.operations))
    if quick:
        verb = "is" if len(quick) == 1 else "are"
        specific.append(f"{', '.join(quick)} {verb} catalog-only: run under a lock timeout of {lock_timeout}"
                        f" and retried {_times(retries)}, so a long transaction makes the step give up "
                        "instead of queueing everyone behind it")
    return "; ".join(dict.fromkeys(specific))


def _lock_mitigation(step: Step) -> str:
    ops = set(step.operations)
    if "create_index" in ops:
        return "build the index with CREATE INDEX CONCURRENTLY (-- dualpath:no-transaction) so writes continue"
    if "add_constraint" in ops:
        return "add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later step (no write lock while it checks)"
    if "set_not_null" in ops:
        return "add CHECK (col IS NOT NULL) NOT VALID, validate it, then SET NOT NULL (no full scan under the lock)"
    if step.rewrite or "alter_column_type" in ops:
        return "expand/contract: add a new column, backfill it in batches, switch readers, drop the old one later"
    return ""


def _gate_max(inputs: DocInputs, kind: str) -> float | None:
    env = inputs.environment()
    return next((g.max for g in env.gates if g.kind == kind and g.max is not None), None) if env else None


def _rows(rows: int | None) -> str:
    return "size unknown" if rows is None else f"{rows:,} rows"


def _heavy(inputs: DocInputs) -> list[Risk]:
    risks = []
    for step in inputs.plan.steps:
        data = bool(set(step.operations) & DATA_OPS)
        if not (data or step.rewrite) or step.rows < HEAVY_ROWS and step.seconds < 1:
            continue
        size = batch_size(inputs, step)
        lag = _lag_limit(inputs, step)
        what = (f"{step.rows:,} rows of {', '.join(step.tables)} {'rewritten' if step.rewrite else 'changed'} "
                f"in about {duration(step.seconds)}, writing about {_bytes(step.wal_bytes)} of WAL/binlog that "
                f"replicas must replay")
        mitigation = (f"batched: chunks of {size:,} rows, each committed with its checkpoint (resumable), sized to "
                      f"~200 ms each, waiting while a replica lags more than {lag}" if size else
                      "run it in batches: -- dualpath:batch table=... key=id size=1000, so no long transaction "
                      "holds the rows and replicas keep up")
        gate = _gate_max(inputs, "replication_lag")
        risks.append(Risk(
            "", "heavy data change", f"Heavy data change on {', '.join(step.tables)} ({step.rows:,} rows)",
            step.where, [step.id], what + ("; " + step_impact(inputs, step) if data else ""),
            "medium" if step.rows >= 100_000 else "low", size_level(step.rows), mitigation,
            f"replica lag above {lag} holds the batch" + (f"; the replication_lag gate stops the waves above {gate:g} s"
                                                            if gate is not None else "")
            + f"; the step running past {OVERRUN}× its estimate ({duration(step.seconds * OVERRUN)}): "
            "`dualpath batches pause` and check the load",
            owner_for(inputs, step), _evidence(inputs, [step])))
    return risks


def _lag_limit(inputs: DocInputs, step: Step) -> str:
    change = inputs.change(step.version)
    statement = next((s for s in change.forward if s.where == step.where), None) if change else None
    if statement is not None and statement.directive("batch") is not None:
        from dualpath.batching.spec import spec_of

        return duration(spec_of(statement).max_lag_ms / 1000)
    return duration(1.0)


def _bytes(n: int) -> str:
    from dualpath.estimates import human_bytes

    return human_bytes(n)


def _rollback_limits(inputs: DocInputs) -> list[Risk]:
    plan = inputs.plan
    irreversible = [c for c in plan.changes if c.irreversible]
    slow = [s for s in plan.rollback_steps if s.rows >= HEAVY_ROWS]
    if not irreversible and not slow:
        return []
    parts = []
    if irreversible:
        stops = ", ".join(f"{c.version} ({c.irreversible})" for c in irreversible)
        parts.append(f"`dualpath rollback` stops at {stops}"
                     + ": past it the only way back is restoring the backup")
    if slow:
        parts.append("Undoing takes time too: " + "; ".join(
            f"{s.id} changes {s.rows:,} rows of {', '.join(s.tables)} in about {duration(s.seconds)}" for s in slow))
    validation = inputs.settings.validation
    parts.append("Each tenant is validated after its apply" if validation
                 else "No validation suites are configured ([validation]): only the run's own checks decide success")
    first = next((plan.step(c.steps[0]) for c in irreversible if c.steps), None) or slow[0]
    return [Risk(
        "", "rollback limits", "A failed run cannot be fully undone", first.where,
        [s for c in irreversible for s in c.steps] + [s.id for s in slow], ". ".join(parts) + ".",
        "low", "high" if irreversible else "medium",
        "rehearse the way back (`dualpath verify`) and the restore (`dualpath backup restore` into a scratch "
        "database) before the window; roll out canary first",
        f"validation fails or a change errors on the canary: {_trigger_failure(inputs)}"
        + (f"; the rollback takes about {duration(plan.totals.rollback_seconds)}" if plan.rollback_steps else
           "; there is no rollback step to run: restore from the backup"),
        owner_for(inputs, first), [])]


def _size_of_step(inputs: DocInputs, step: Step | None) -> str:
    return size_level(max((inputs.rows_of(t) or 0 for t in step.tables), default=0)) if step else "medium"


def _unexplained_findings(inputs: DocInputs, risks: list[Risk]) -> list[Risk]:
    """A warning or error no risk above explains is a risk of its own, unless it is the rollback-file twin
    of a forward finding (same rule, same change)."""
    cited = {e for r in risks for e in r.evidence}
    seen: set[tuple[str, str]] = set()
    extra = []
    for f in inputs.plan.findings:
        if f.severity == "info" or _cite(f) in cited:
            continue
        version = f.version or ""
        if (f.rule, version) in seen:
            continue
        seen.add((f.rule, version))
        step = next((s for s in inputs.plan.steps + inputs.plan.rollback_steps
                     if s.where == f"{f.file}:{f.line}"), None)
        extra.append(Risk("", "finding", f"{f.rule}: {f.title or f.message}", f"{f.file}:{f.line}",
                          [step.id] if step else [], f.message, {"error": "high"}.get(f.severity, "medium"),
                          _size_of_step(inputs, step),
                          f.fix or "see the rule's page in docs/rules/",
                          f"the finding shows on staging, or {_trigger_failure(inputs)}",
                          owner_for(inputs, step) if step else owner_for(inputs, None), [_cite(f)]))
    return extra
