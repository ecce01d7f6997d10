"""The plan as a document (`dualpath plan --format md|html`), and the facts every document shares."""

from __future__ import annotations

from dualpath.estimates import human_bytes, human_seconds
from dualpath.plan import Plan, Step
from dualpath.render.document import Document, Section, Table
from dualpath.render.svg_locks import locks_svg


def headline(plan: Plan) -> str:
    return f"{plan.totals.changes} change(s) on {plan.target} ({plan.engine} {plan.version})"


def estimate_source(plan: Plan) -> str:
    t = plan.throughput
    return f"calibrated {t.measured_at}" if t.source == "measured" else "default throughput (not calibrated)"


def plan_facts(plan: Plan) -> list[tuple[str, str]]:
    return [("Target", plan.target), ("Engine", f"{plan.engine} {plan.version}"),
            ("Changes", str(plan.totals.changes)), ("Steps", str(plan.totals.steps)),
            ("Expected duration", human_seconds(plan.totals.seconds)),
            ("Blocking time", human_seconds(plan.totals.blocking_seconds)),
            ("Rewrite size", human_bytes(plan.totals.rewrite_bytes)),
            ("WAL/binlog volume", human_bytes(plan.totals.wal_bytes)),
            ("Rollback duration", human_seconds(plan.totals.rollback_seconds)),
            ("Estimates", estimate_source(plan)),
            ("Locks rehearsed", "yes, on a shadow" if plan.rehearsed else "no"),
            ("Statements measured", "yes, on a shadow of the target" if plan.measured else "no")]


def step_row(step: Step) -> list[str]:
    measured = step.measured_lock or ("—" if step.measured_lock is None else "")
    return [step.id, step.where, ", ".join(step.operations), step.lock, step.blocks,
            "yes" if step.rewrite else "no", f"{step.rows:,}", human_seconds(step.seconds), measured,
            ", ".join(step.rollback) or ("irreversible" if step.direction == "up" else "—")]


STEP_HEADERS = ["Step", "Statement", "Operations", "Lock (predicted)", "Blocks", "Rewrite", "Rows",
                "Estimate", "Lock (measured)", "Rollback"]


def plan_document(plan: Plan) -> Document:
    changes = Table(["Version", "Description", "Category", "Ticket", "Steps", "Estimate", "Irreversible"], [
        [c.version, c.description, c.category, c.ticket_url or c.ticket or "—", ", ".join(c.steps),
         human_seconds(c.seconds), c.irreversible or "no"] for c in plan.changes])
    sections = [
        Section("Changes", table=changes),
        Section("Steps", text=[f"Transaction scope: {plan.steps[0].transaction}." if plan.steps else
                               "Nothing pending."], table=Table(STEP_HEADERS, [step_row(s) for s in plan.steps]),
                figure=locks_svg(plan.steps) if plan.steps else ""),
        Section("Rollback steps", table=Table(STEP_HEADERS, [step_row(s) for s in plan.rollback_steps])),
        Section("Gates before each step", items=[f"{s.id}: {g}" for s in plan.steps for g in s.gates]
                or ["no step needs a gate beyond the verification"]),
        Section("Prerequisites", table=Table(["Prerequisite", "Required", "Environment", "Why", "Who"], [
            [p.name, "yes" if p.required else "no", p.environment or "all", p.reason, ", ".join(p.who) or "—"]
            for p in plan.prerequisites])),
        Section("Findings", tone="warn" if plan.findings else "ok",
                table=Table(["Severity", "Rule", "Where", "Finding", "Fix"], [
                    [f.severity, f.rule, f"{f.file}:{f.line}", f.message, f.fix] for f in plan.findings])),
    ]
    return Document("plan", "Migration plan", headline(plan), plan_facts(plan), sections)
