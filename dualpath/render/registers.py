"""Risk register, stakeholder briefing and contingency questions, from the plan and the config."""

from __future__ import annotations

from dualpath.config import Settings
from dualpath.estimates import human_seconds
from dualpath.plan import DESTRUCTIVE, Plan, Step
from dualpath.render.document import Document, Section, Table
from dualpath.render.plan_doc import headline
from dualpath.render.runbook import environments
from dualpath.risk.model import Finding

LIKELIHOOD = {"error": "high", "warning": "medium", "info": "low"}


def owner_of(settings: Settings) -> str:
    for role in ("dba", "database", "service", "on-call"):
        if role in settings.owners:
            return settings.owners[role]
    return next(iter(settings.owners.values()), "unassigned")


def step_at(plan: Plan, finding: Finding) -> Step | None:
    return next((s for s in plan.steps + plan.rollback_steps if s.where == f"{finding.file}:{finding.line}"), None)


def impact_of(step: Step | None, settings: Settings) -> str:
    if step is None:
        return "no lock or rewrite on an existing table"
    if step.blocks == "none":
        return f"{step.lock} on {', '.join(step.tables) or 'no table'}: other sessions continue"
    notes = [settings.impact[t] for t in step.tables if t in settings.impact]
    return (f"{step.blocks} blocked on {', '.join(step.tables)} for ~{human_seconds(step.seconds)}"
            + (f" ({'; '.join(notes)})" if notes else ""))


def risk_register(plan: Plan, settings: Settings) -> Document:
    owner = owner_of(settings)
    rows = []
    for n, f in enumerate(plan.findings, 1):
        step = step_at(plan, f)
        trigger = (f"step {step.id} waits on a lock past {human_seconds(step.seconds * 3)} or fails"
                   if step else "the finding shows up in verify or on staging")
        rows.append([f"R{n}", f"{f.rule}: {f.title or f.message}", f"{f.file}:{f.line}",
                     LIKELIHOOD[f.severity], impact_of(step, settings), f.fix or "—", trigger, owner])
    counts = {s: sum(1 for f in plan.findings if f.severity == s) for s in ("error", "warning", "info")}
    facts = [("Risks", str(len(rows)))] + [(s, str(n)) for s, n in counts.items()] + [("Owner", owner)]
    section = Section("Register", table=Table(
        ["ID", "Risk", "Where", "Likelihood", "Impact", "Mitigation", "Contingency trigger", "Owner"], rows),
        text=[] if rows else ["No finding: the risk engine flagged nothing for these changes."])
    return Document("risk-register", "Risk register", headline(plan), facts, [section])


def briefing(plan: Plan, settings: Settings) -> Document:
    blocking = [s for s in plan.steps if s.blocks != "none" and s.tables]
    impact = Table(["Table", "Blocked", "For about", "What users notice"], [
        [", ".join(s.tables), s.blocks, human_seconds(s.seconds),
         "; ".join(settings.impact[t] for t in s.tables if t in settings.impact) or "not described in config"]
        for s in blocking])
    schedule = Table(["Environment", "Window", "Tenants", "Approval", "Approvers"], [
        [name, env.window or "any time", str(len(env.tenant_list())), env.approval,
         ", ".join(env.approvers) or "—"] if env else [name, "—", "1", "—", "—"]
        for name, env in environments(settings)])
    approvers = sorted({w for p in plan.prerequisites if p.name == "approval" and p.required for w in p.who})
    sections = [
        Section("What changes", items=[f"{c.version} {c.description} ({c.category})"
                                       + (f" — {c.ticket_url or c.ticket}" if c.ticket else "")
                                       for c in plan.changes] or ["nothing pending"]),
        Section("Expected user impact", tone="warn" if blocking else "ok", table=impact if blocking else None,
                text=[] if blocking else ["No step blocks reads or writes on an existing table."]),
        Section("Schedule", table=schedule),
        Section("Approvals", items=approvers or ["no approval required by policy"]),
        Section("Escalation path", items=[f"{n}. {who}" for n, who in enumerate(settings.escalation, 1)]
                or ["not configured: add `escalation = [...]` to dualpath.toml"],
                table=Table(["Role", "Owner"], [[k, v] for k, v in settings.owners.items()]) if settings.owners
                else None),
    ]
    if settings.sla:
        sections.append(Section("Service level", text=[settings.sla]))
    windows = ", ".join(f"{n}: {e.window}" for n, e in environments(settings) if e and e.window) or "any time"
    facts = [("Window", windows), ("Expected duration", human_seconds(plan.totals.seconds)),
             ("Blocking time", human_seconds(plan.totals.blocking_seconds)),
             ("Approvers", ", ".join(approvers) or "none required"),
             ("Tickets", ", ".join(c.ticket for c in plan.changes if c.ticket) or "—")]
    return Document("briefing", "Stakeholder briefing", headline(plan), facts, sections)


def contingency_questions(plan: Plan, settings: Settings) -> list[tuple[str, str, str]]:
    """(question, why it matters, who should answer): what the plan cannot know."""
    owner = owner_of(settings)
    questions = []
    for step in plan.steps:
        dropped = [op for op in step.operations if op in DESTRUCTIVE]
        if dropped:
            questions.append((f"How long must the data removed by step {step.id} ({', '.join(dropped)} on "
                              f"{', '.join(step.tables)}) be retained, and where?",
                              "after the run it exists only in the backup", owner))
    questions.append(("Which replicas, CDC or logical-replication consumers read the changed tables?",
                      "dualpath does not detect replication topology from the target", owner))
    if not settings.sla:
        questions.append(("What is the SLA for the affected service, and is the blocking time "
                          f"({human_seconds(plan.totals.blocking_seconds)}) within it?",
                          "no `sla` in dualpath.toml", owner))
    for name, env in environments(settings):
        if env is not None and env.tenant_list():
            questions.append((f"Are any of the {len(env.tenant_list())} tenants of {name} to be excluded or "
                              "migrated separately?", "the waves take every listed tenant", owner))
    for change in plan.changes:
        if change.irreversible:
            questions.append((f"Who signs off that {change.version} ({change.irreversible}) can only be undone "
                              "from the backup?", "its rollback is a restore", owner))
    missing = sorted({t for s in plan.steps if s.blocks != "none" for t in s.tables} - set(settings.impact))
    if missing:
        questions.append((f"What do users notice while {', '.join(missing)} is locked?",
                          "no `impact` entry in dualpath.toml for these tables", owner))
    if plan.throughput.source != "measured":
        questions.append(("May `dualpath calibrate` run on the production server to replace default estimates?",
                          "durations use default throughput", owner))
    if not plan.rehearsed:
        questions.append(("Were the locks rehearsed (`dualpath plan --rehearse`)?",
                          "locks are predicted from the catalogue only", owner))
    return questions


def contingency(plan: Plan, settings: Settings) -> Document:
    questions = contingency_questions(plan, settings)
    table = Table(["#", "Question", "Why it matters", "Who answers", "Answer"],
                  [[str(n), q, why, who, ""] for n, (q, why, who) in enumerate(questions, 1)])
    return Document("contingency", "Contingency questions", headline(plan),
                    [("Open questions", str(len(questions)))], [Section("Questions", table=table)])
