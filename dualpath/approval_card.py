"""The decision card: what an approver reads above the approval form of a paused run.

One screen, no scrolling through tables: what changes, on how many tenants, the strongest lock
(on which table, for how long it blocks), the expected duration, what is irreversible and which
backup covers it, the rollback plan, the window and this environment's prerequisites. The full plan
(every step, lock and estimate) is a separate Prefect artifact the card links to.

Pure functions over plain data: the flow gathers the facts, this module only writes them down.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dualpath.estimates import human_seconds
from dualpath.plan import Plan, Step
from dualpath.render.document import Document, Table
from dualpath.risk.model import Finding

_CHANGES_SHOWN = 5
# what other sessions wait for while a step runs: the worse, the higher
_BLOCKING = {"none": 0, "writes": 1, "reads and writes": 2}

IDENTITY_NOTE = ("Prefect's open-source server has no user accounts: the approver below is a typed name that "
                 "nobody verifies. ")


@dataclass(frozen=True)
class CardFacts:
    """What the approver decides on. ``plan`` is the full plan of the tenant with the most to do."""

    env: str
    tenants: int
    waves: Sequence[Sequence[str]]
    plan: Plan
    backup: str  # "policy 'destructive', to s3://backups/prod"
    rollback_plan: str
    window: str | None = None
    approvals: Sequence[str] = ()  # why an approval is needed
    approvers: Sequence[str] = ()
    rollback_files: frozenset[str] = frozenset()  # findings on these are about the way back, not the change
    plan_url: str | None = None  # the full plan artifact in the Prefect UI
    slack_buttons: bool = False  # Slack carries approve/reject buttons with a verified identity
    timeout_s: int | None = None


@dataclass(frozen=True)
class Strongest:
    """The step that blocks other sessions the most, and for how long."""

    step: Step
    blocking_s: float = field(default=0.0)


def strongest_lock(steps: Sequence[Step]) -> Strongest | None:
    """The step whose lock blocks the most (reads and writes > writes > none), the longest one on a tie, then
    an irreversible one."""
    if not steps:
        return None
    step = max(steps, key=lambda s: (_BLOCKING.get(s.blocks, 1), s.seconds, s.irreversible))
    return Strongest(step, step.seconds if step.blocks != "none" else 0.0)


def relative_to(path: str, folder: Path) -> str:
    """``path`` (maybe with a ``:line``) relative to ``folder`` when inside it; as given otherwise."""
    file, sep, line = path.rpartition(":") if path.rpartition(":")[2].isdigit() else (path, "", "")
    try:
        rel = os.path.relpath(file, folder)
    except ValueError:  # another drive
        return path
    if rel.startswith(".."):
        return path
    return rel + sep + line


def readable_plan(plan: Plan, migrations: Path, env: str) -> Plan:
    """The plan as the approver should see it: file paths relative to the migrations folder (the Steps
    table then fits the screen) and only the prerequisites of ``env``."""
    def steps(items: list[Step]) -> list[Step]:
        return [replace(s, where=relative_to(s.where, migrations)) for s in items]

    return replace(plan, steps=steps(plan.steps), rollback_steps=steps(plan.rollback_steps),
                   changes=[replace(c, where=relative_to(c.where, migrations)) for c in plan.changes],
                   findings=[replace(f, file=relative_to(f.file, migrations)) for f in plan.findings],
                   prerequisites=[p for p in plan.prerequisites if p.environment in (None, env)])


# what an approver reads in a steps table, first: the classic Prefect UI shows ~850 px of a table and
# scrolls the rest sideways, so the statement's file and the operations go after the lock and rollback
_STEP_COLUMNS_FIRST = ("Step", "Lock (predicted)", "Blocks", "Estimate", "Rollback", "Statement")
_CHANGE_COLUMNS_FIRST = ("Version", "Description", "Irreversible", "Estimate")


def approver_columns(document: Document) -> Document:
    """The plan document with the columns of its steps and changes tables in the approver's order (nothing
    dropped)."""
    for section in document.sections:
        table = section.table
        if table is None:
            continue
        first = _STEP_COLUMNS_FIRST if "Lock (predicted)" in table.headers else \
            _CHANGE_COLUMNS_FIRST if "Irreversible" in table.headers else ()
        if not first:
            continue
        order = [table.headers.index(h) for h in first if h in table.headers]
        order += [i for i in range(len(table.headers)) if i not in order]
        section.table = Table([table.headers[i] for i in order], [[row[i] for i in order] for row in table.rows])
    return document


def split_findings(findings: Sequence[Finding], rollback_files: frozenset[str]) -> tuple[list[Finding],
                                                                                          list[Finding]]:
    """(findings on the change, findings on its rollback scripts)."""
    change = [f for f in findings if f.file not in rollback_files]
    return change, [f for f in findings if f.file in rollback_files]


def approval_card(facts: CardFacts) -> str:
    """The card in Markdown (the Prefect UI renders it above the form). The decision's facts come first, in
    one list: the classic UI shows the description in a short scroll box above the form."""
    plan = facts.plan
    lines = [f"### Approve {len(plan.changes)} change(s) on {facts.tenants} tenant(s) of {facts.env}?", ""]
    # a list, not a table: the classic UI does not wrap table cells, so a long cell runs off the dialog
    lines += [f"- **{k}:** {_line(v)}" for k, v in _facts(facts)]
    if facts.plan_url:
        lines += ["", f"[Full plan]({facts.plan_url}): every step with its lock, estimate and rollback step."]
    lines += ["", "**Findings**", ""] + _findings(facts)
    prereqs = [p for p in plan.prerequisites if p.environment in (None, facts.env)]
    if prereqs:
        lines += ["", f"**Prerequisites in {facts.env}**", ""]
        lines += [f"- {p.name}{'' if p.required else ' (optional)'}: {p.reason}" for p in prereqs]
    if facts.approvals:
        lines += ["", "**Why an approval is needed**", ""] + [f"- {r}" for r in facts.approvals]
    lines += ["", "**Who may decide**", "", _identity(facts)]
    return "\n".join(lines)


def _facts(facts: CardFacts) -> list[tuple[str, str]]:
    plan, waves = facts.plan, facts.waves
    # at most a few named, irreversible ones always: a long list would push the lock and rollback out of view
    shown = [c for i, c in enumerate(plan.changes) if i < _CHANGES_SHOWN or c.irreversible]
    changes = " · ".join(f"{c.version} {c.description}" + (" (**irreversible**)" if c.irreversible else "")
                         for c in shown)
    if len(shown) < len(plan.changes):
        changes += f" · and {len(plan.changes) - len(shown)} more in the full plan"
    canary = ", the first is the canary" if len(waves) > 1 else ""
    per_tenant = plan.totals.seconds
    rollout = per_tenant * max(1, len(waves))  # waves one after another, the tenants of a wave side by side
    calibrated = "calibrated" if plan.throughput.source == "measured" else "not calibrated"
    # the facts that decide come first: the classic UI shows only the top of the card without scrolling
    rows = [("Tenants", f"{facts.tenants} in {len(waves)} wave(s){canary}"),
            ("Strongest lock", _lock(plan)),
            ("Irreversible", _irreversible(facts)),
            ("Expected duration", f"about {human_seconds(per_tenant)} per tenant, {human_seconds(rollout)} for the "
                                  f"rollout; blocking {human_seconds(plan.totals.blocking_seconds)} per tenant in all "
                                  f"(estimates, {calibrated})"),
            ("Window", facts.window or "none: any time")]
    if facts.timeout_s:
        rows.append(("Decide within", human_seconds(facts.timeout_s)))
    return rows + [("If it fails", facts.rollback_plan), ("Changes", changes)]


def _lock(plan: Plan) -> str:
    strongest = strongest_lock(plan.steps)
    if strongest is None or strongest.step.blocks == "none":
        return "no step blocks reads or writes"
    step = strongest.step
    table = ", ".join(f"`{t}`" for t in step.tables) or "the database"
    return (f"**{step.lock}** on {table} (step {step.id}): blocks {step.blocks} for about "
            f"**{human_seconds(strongest.blocking_s)}** per tenant")


def _irreversible(facts: CardFacts) -> str:
    gone = [c for c in facts.plan.changes if c.irreversible]
    if not gone:
        return f"nothing: every change has a rollback step (backup: {facts.backup})"
    what = "; ".join(f"**{c.version}** {c.description}: {c.irreversible}" for c in gone)
    return f"{what}. Covered by the backup taken right before the first wave ({facts.backup})"


def _findings(facts: CardFacts) -> list[str]:
    change, rollback = split_findings(facts.plan.findings, facts.rollback_files)
    shown = [f for f in change if f.severity != "info"]
    lines = [f"- **{f.severity}** {f.rule} `{f.file}:{f.line}`: {f.message}" for f in shown[:8]]
    if len(shown) > 8:
        lines.append(f"- … and {len(shown) - 8} more in the full plan")
    infos = len(change) - len(shown)
    if not lines:
        lines.append("- no warnings or errors on the change")
    if infos:
        lines.append(f"- {infos} informational note(s) on the change: see the full plan")
    if rollback:
        lines.append(f"- {len(rollback)} note(s) on the rollback scripts (not risks of the change): "
                     "see the full plan")
    return lines


def _identity(facts: CardFacts) -> str:
    who = ", ".join(facts.approvers) if facts.approvers else "anyone (no approvers are configured)"
    text = f"Approvers of {facts.env}: {who}. " + IDENTITY_NOTE
    if facts.slack_buttons:
        return text + ("For an approval with a verified identity use the **Approve** button in Slack: the "
                       "Slack user is checked against the approvers.")
    return text + "A verified approval needs the Slack approval buttons (see docs/approvals.md)."


def _line(text: str) -> str:
    return " ".join(text.split())
