"""Risk register (entries from risks.py, formatted here) and contingency questions."""

from __future__ import annotations

from dualpath.config import Settings
from dualpath.estimates import human_seconds
from dualpath.plan import DESTRUCTIVE, Plan
from dualpath.render.display import shown_target
from dualpath.render.document import Document, Section, Table
from dualpath.render.inputs import DocInputs
from dualpath.render.plan_doc import headline
from dualpath.render.risks import Risk, appendix_findings, derive_risks
from dualpath.render.runbook import environments
from dualpath.risk.model import Finding


def owner_of(settings: Settings) -> str:
    for role in ("dba", "database", "service", "on-call"):
        if role in settings.owners:
            return settings.owners[role]
    return next(iter(settings.owners.values()), "unassigned")


def risk_register(inputs: DocInputs) -> Document:
    """A summary of the risks of the release, then one section per risk; info and style findings, and findings
    already cited as evidence, in an appendix."""
    plan = inputs.plan
    risks = derive_risks(inputs)
    summary = Section("Register", table=Table(["ID", "Risk", "Kind", "Likelihood", "Impact", "Owner"], [
        [r.id, r.title, r.kind, r.likelihood, r.impact, r.owner] for r in risks]) if risks else None,
        tone="danger" if any(r.impact == "high" for r in risks) else "warn" if risks else "ok",
        text=[] if risks else ["No risk: nothing in this release destroys data, blocks a table that holds rows, "
                               "changes many rows or limits the way back."])
    sections = [summary] + [risk_section(r) for r in risks]
    appendix = appendix_findings(inputs, risks)
    if appendix:
        sections.append(Section("Appendix: lint findings that are not risks of their own", text=[
            "Info and style findings, and findings a risk above already covers (its evidence)."],
            table=Table(["Rule", "Severity", "Where", "Finding", "Covered by"], [
                [f.rule, f.severity, f"{f.file}:{f.line}", f.message, _covering(risks, f)] for f in appendix])))
    facts = [("Target", shown_target(plan.target)), ("Risks", str(len(risks))),
             ("High impact", str(sum(r.impact == "high" for r in risks))),
             ("Data loss", str(sum(r.kind == "data loss" for r in risks))),
             ("Owners", ", ".join(dict.fromkeys(r.owner for r in risks)) or "—"),
             ("Appendix findings", str(len(appendix)))]
    return Document("risk-register", "Risk register", headline(plan), facts, sections)


def risk_section(risk: Risk) -> Section:
    """One risk: what happens, its ratings and owner, what reduces it and what, measured, makes us act."""
    return Section(f"{risk.id} · {risk.title}", tone={"high": "danger", "medium": "warn"}.get(risk.impact, ""),
                   text=[risk.what],
                   table=Table(["Where", "Steps", "Likelihood", "Impact", "Owner"],
                               [[risk.where, ", ".join(risk.steps) or "—", risk.likelihood, risk.impact, risk.owner]]),
                   notes=[f"Mitigation: {risk.mitigation}", f"Contingency trigger: {risk.trigger}"]
                   + ([f"Evidence: {', '.join(risk.evidence)}"] if risk.evidence else []))


def _covering(risks: list[Risk], finding: Finding) -> str:
    cite = f"{finding.rule} {finding.file}:{finding.line}"
    return ", ".join(r.id for r in risks if cite in r.evidence) or "—"


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
