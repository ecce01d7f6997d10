"""The rules of a multi-tenant rollout as plain functions: when to stop, whom to roll back, in which
order, what needs an approval, and the Markdown an approver and the report read.

The Prefect flow (flows/migrate.py) only sequences these; every decision is made here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from dualpath.changes import Change
from dualpath.validation.results import ValidationResult, to_markdown
from dualpath.windows import admit, describe_wait

TenantState = Literal["pending", "applied", "failed", "skipped", "rolled back", "rollback blocked", "rollback failed"]
PhaseKind = Literal["backup", "change", "batch", "validation", "rollback"]
PhaseOutcome = Literal["ok", "failed", "rolled back", "skipped"]


@dataclass(frozen=True)
class Phase:
    """One timed stretch of a tenant's run, for the report's timeline. Times are epoch seconds (time.time()):
    tasks may run on other workers, so a monotonic clock would not share one axis."""

    kind: PhaseKind
    label: str  # "backup", a change's version, "validation", "rollback"
    start: float
    end: float
    outcome: PhaseOutcome = "ok"


def apply_phases(done: Sequence[tuple[str, int]], applied_at: float, validated_at: float | None,
                 batches: Sequence[tuple[str, float, float, int, bool]] = ()) -> list[Phase]:
    """Bars for an apply: each change ``(version, ms)`` as the runner measured it, laid back to back so the last
    ends at ``applied_at`` (the baseline before them is not the change's time), each batched statement
    ``(label, start, end, rows, complete)`` where the clock saw it (inside its change), then the validation."""
    start = applied_at - sum(ms for _, ms in done) / 1000
    phases = []
    for version, ms in done:
        phases.append(Phase("change", version, start, start + ms / 1000))
        start += ms / 1000
    for label, began, ended, rows, complete in batches:
        phases.append(Phase("batch", f"batch {label}: {rows} rows", began, ended, "ok" if complete else "failed"))
    if validated_at is not None:
        phases.append(Phase("validation", "validation", applied_at, validated_at))
    return phases


@dataclass
class TenantOutcome:
    """One tenant's story in one run, in the order tenants finished."""

    name: str
    wave: int
    state: TenantState = "pending"
    start_version: str | None = None
    applied: list[str] = field(default_factory=list)
    error: str = ""
    where: str = ""  # file:line of the statement that failed, when known
    fingerprint_before: str = ""
    fingerprint_after: str = ""
    validation: str = ""  # "passed (n expectations)", "failed (...)", "not needed"
    validation_result: ValidationResult | None = None  # every expectation that ran, observed vs expected
    phases: list[Phase] = field(default_factory=list)  # backup, each change, validation, rollback: the timeline

    @property
    def restored(self) -> bool | None:
        """After a rollback: does the schema equal the one taken before the run?"""
        if self.state != "rolled back" or not self.fingerprint_after:
            return None
        return self.fingerprint_after == self.fingerprint_before


def failed_count(outcomes: Sequence[TenantOutcome]) -> int:
    return sum(o.state == "failed" for o in outcomes)


def should_halt(outcomes: Sequence[TenantOutcome], threshold: int) -> bool:
    """The rollout stops once ``threshold`` tenants have failed."""
    return failed_count(outcomes) >= threshold


def rollback_order(outcomes: Sequence[TenantOutcome], policy: str) -> list[str]:
    """Whom to roll back, in order: failed tenants first, then (policy "run") every tenant this
    run migrated, newest first — the reverse of how the change spread."""
    failed = [o.name for o in reversed(outcomes) if o.state == "failed"]
    if policy == "failed":
        return failed
    migrated = [o.name for o in reversed(outcomes) if o.state == "applied"]
    return failed + migrated


def split_at_irreversible(newest_first: Sequence[Change]) -> tuple[list[Change], Change | None]:
    """The changes a rollback can undo before it meets an irreversible one, and that one."""
    undoable: list[Change] = []
    for change in newest_first:
        if change.irreversible is not None:
            return undoable, change
        undoable.append(change)
    return undoable, None


def approval_reasons(changes: Sequence[Change], policy: str) -> list[str]:
    """Why this run needs a human "go": irreversible changes always do; "always" asks every time."""
    reasons = [f"{c.version} {c.description} is irreversible: {c.irreversible.args.get('reason', 'no reason given')}"
               for c in changes if c.irreversible is not None]
    if policy == "always" and not reasons:
        reasons.append("the environment requires an approval for every run")
    return reasons


@dataclass(frozen=True)
class Decision:
    """An approver's answer to a paused run (or ``--approve``): who, under which ticket, why."""

    approved: bool
    approver: str
    ticket: str = ""
    comment: str = ""
    reason: str = ""  # why this is no approval: "rejected by ...", "'x' may not approve ...", "no decision ..."
    rejected: bool = False  # the approver said no (rather than: not an approver, no answer in time)

    @property
    def headline(self) -> str:
        """One line for Slack, the log and the report."""
        if not self.approved:
            return self.reason
        extra = [f"ticket {self.ticket}"] * bool(self.ticket) + [f"“{self.comment}”"] * bool(self.comment)
        return f"approved by {self.approver}" + (f" ({', '.join(extra)})" if extra else "")

    def audit_detail(self) -> dict[str, str]:
        """What the tenants' audit rows keep of it (empty fields left out)."""
        fields = {"approver": self.approver, "ticket": self.ticket, "comment": self.comment,
                  "reason": "" if self.approved else self.reason}
        return {k: v for k, v in fields.items() if v}


def decide(approve: bool, approver: str, ticket: str, comment: str, approvers: Sequence[str]) -> Decision:
    """The form's answer as a decision: a rejection, an approver not on the list, or an approval."""
    who, ticket, comment = approver.strip(), ticket.strip(), comment.strip()
    named = who or "an unnamed approver"
    if not approve:
        return Decision(False, who, ticket, comment, f"rejected by {named}" + (f": {comment}" if comment else ""),
                        rejected=True)
    if approvers and who not in approvers:
        return Decision(False, who, ticket, comment,
                        f"'{named}' may not approve this environment (approvers: {', '.join(approvers)})")
    return Decision(True, who, ticket, comment)


def no_decision(timeout_s: int) -> Decision:
    """Nobody answered the pause in time."""
    return Decision(False, "", reason=f"no decision within {timeout_s} s")


def window_stop(window: str | None, now: datetime, before: str) -> str | None:
    """Why the rollout must stop ``before`` a phase ("wave 2 of 3"): the window is closed at ``now``; None
    when it may go on. A wave already running always finishes: this is asked only between phases."""
    admission = admit(window, now)
    if admission.verdict == "open":
        return None
    if admission.opens is None:
        return f"the maintenance window '{window}' is closed {before}"
    return (f"the maintenance window '{window}' is closed {before}; it next opens {admission.opens.isoformat()} "
            f"({describe_wait(timedelta(seconds=admission.wait_s))} from now)")


def skip_remaining(outcomes: list[TenantOutcome], waves: Sequence[Sequence[str]], from_wave: int) -> None:
    """Tenants of the waves that never started are recorded as skipped."""
    for index, wave in enumerate(waves[from_wave:], start=from_wave + 1):
        outcomes.extend(TenantOutcome(name, index, "skipped") for name in wave)


@dataclass(frozen=True)
class PlanFacts:
    """What the approver needs to decide, independent of how it was computed."""

    env: str
    changes: Sequence[Change]
    waves: Sequence[Sequence[str]]
    findings: Sequence[tuple[str, str, str]]  # (severity, rule, "file:line message")
    backup: str  # "required: ..." or "not needed"
    rollback_policy: str
    approvals: Sequence[str]
    window: str | None = None
    rollback_notes: int = 0  # lint findings on the rollback scripts: not risks of the change


def plan_markdown(facts: PlanFacts) -> str:
    """The plan summary: changes, risks, waves and the rollback plan, for the pause and the report."""
    lines = [f"## dualpath: {len(facts.changes)} change(s) for environment **{facts.env}**", ""]
    lines += ["| version | description | irreversible |", "| --- | --- | --- |"]
    lines += [f"| {c.version} | {c.description} | {'**yes**' if c.irreversible is not None else 'no'} |"
              for c in facts.changes]
    lines += ["", "### Risks"]
    lines += [f"- **{sev}** {rule}: {text}" for sev, rule, text in facts.findings[:20]] or ["- no lint findings"]
    if len(facts.findings) > 20:
        lines.append(f"- … and {len(facts.findings) - 20} more")
    if facts.rollback_notes:
        lines.append(f"- {facts.rollback_notes} note(s) on the rollback scripts, not risks of the change "
                     "(see Findings below)")
    lines += ["", "### Waves"]
    lines += [f"{i}. {', '.join(w)}" + (" (canary)" if i == 1 and len(facts.waves) > 1 else "")
              for i, w in enumerate(facts.waves, start=1)]
    lines += ["", "### Rollback plan", rollback_plan(facts), "", f"**Backup:** {facts.backup}"]
    if facts.window:
        lines.append(f"**Window:** {facts.window}")
    if facts.approvals:
        lines += ["", "### Why an approval is needed"] + [f"- {r}" for r in facts.approvals]
    return "\n".join(lines)


def demote(markdown: str, levels: int = 2) -> str:
    """Headings pushed ``levels`` down, so a whole document nests under a section of another."""
    prefix, lines, fenced = "#" * levels, [], False
    for line in markdown.splitlines():
        fenced ^= line.startswith("```")
        lines.append(prefix + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def rollback_plan(facts: PlanFacts) -> str:
    """What a failure undoes, on which tenants, and where an irreversible change stops the way back."""
    who = ("the failed tenant only" if facts.rollback_policy == "failed"
           else "the failed tenant, then every tenant migrated in this run, newest first")
    newest_first = sorted(facts.changes, key=lambda c: c.sort_key, reverse=True)
    undoable, blocker = split_at_irreversible(newest_first)
    if blocker is None:
        steps = " → ".join(c.version for c in undoable)
        return f"On failure, roll back {who}: undo {steps}; then compare each schema fingerprint with the one before."
    text = f"On failure, roll back {who}, newest change first."
    if undoable:
        text += f" {' → '.join(c.version for c in undoable)} are undone;"
    return (text + f" {blocker.version} is irreversible: a tenant that got it stays there, the rollback pauses "
            "for an acknowledgement, and its data comes back only from the backup taken before it.")


def report_markdown(env: str, run_id: str, outcome: str, outcomes: Sequence[TenantOutcome],
                    notes: Sequence[str] = (), decision: Decision | None = None) -> str:
    """The post-run report: the outcome, who decided, each tenant's result, and what to do next."""
    lines = [f"# dualpath run {run_id}: {outcome}", "", f"Environment **{env}**, {len(outcomes)} tenant(s).", ""]
    lines += approval_lines(decision) + [""]
    lines += ["| tenant | wave | state | from | applied | schema restored | validation | error |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for o in outcomes:
        restored = {None: "", True: "yes", False: "**NO**"}[o.restored]
        lines.append(f"| {o.name} | {o.wave} | {o.state} | {o.start_version or '-'} | {', '.join(o.applied) or '-'} "
                     f"| {restored} | {o.validation} | {o.error.replace('|', '/')[:200]} |")
    if notes:
        lines += ["", "## Notes"] + [f"- {n}" for n in notes]
    results = [o.validation_result for o in outcomes if o.validation_result is not None]
    if results:
        lines += ["", "## Validation", "",
                  "Each tenant's expectations after its apply: observed on the tenant against what was expected "
                  "(the baseline taken before the change, or the rule)."]
        for result in results:
            lines += ["", to_markdown(result).rstrip()]
    return "\n".join(lines)


def approval_lines(decision: Decision | None) -> list[str]:
    """The report's approval block: the decision, the approver, the ticket and the comment."""
    if decision is None:
        return ["**Approval:** not needed for this run"]
    verdict = "approved" if decision.approved else f"**not approved**: {decision.reason}"
    return [f"**Approval:** {verdict}", "",
            f"- Approver: {decision.approver or '—'}", f"- Ticket: {decision.ticket or '—'}",
            f"- Comment: {decision.comment or '—'}"]


def tenant_rows(outcomes: Sequence[TenantOutcome]) -> list[dict[str, str]]:
    """The tenants table of the report, one dict per tenant (a Prefect table artifact)."""
    return [{"tenant": o.name, "wave": str(o.wave), "state": o.state, "from": o.start_version or "-",
             "applied": ", ".join(o.applied) or "-", "fingerprint before": o.fingerprint_before[:12],
             "fingerprint after rollback": o.fingerprint_after[:12], "validation": o.validation,
             "error": o.error[:200]} for o in outcomes]


@dataclass
class TenantRollback:
    """One tenant in a rollback run: what it was at, what was undone, where it stopped."""

    name: str
    from_version: str | None
    undone: list[str] = field(default_factory=list)
    blocked_at: str | None = None  # an irreversible version the rollback cannot pass
    error: str = ""
    version_after: str | None = None

    @property
    def state(self) -> str:
        if self.error:
            return "rollback failed"
        if self.blocked_at:
            return "rollback blocked"
        return "rolled back" if self.undone else "already there"


def rollback_report_markdown(env: str, run_id: str, outcome: str, to_version: str,
                             tenants: Sequence[TenantRollback], notes: Sequence[str] = ()) -> str:
    """The report of a rollback to a version: each tenant's versions undone and where it ended."""
    lines = [f"# dualpath rollback {run_id}: {outcome}", "",
             f"Environment **{env}**, {len(tenants)} tenant(s), back to version **{to_version}**.", "",
             "| tenant | state | from | undone (newest first) | now at | note |",
             "| --- | --- | --- | --- | --- | --- |"]
    for t in tenants:
        note = (f"{t.blocked_at} is irreversible: restore from its backup" if t.blocked_at else "") + t.error
        lines.append(f"| {t.name} | {t.state} | {t.from_version or '-'} | {', '.join(t.undone) or '-'} "
                     f"| {t.version_after or '-'} | {note.replace('|', '/')[:200]} |")
    if notes:
        lines += ["", "## Notes"] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def verification_markdown(tenant: str, report: dict[str, Any]) -> str:
    """A shadow round trip (``Verification.as_dict()``) as a report section: each change and what differed."""
    verdict = "round trip ok" if report["ok"] else "**round trip FAILED**"
    lines = [f"### {tenant}: {verdict}", "", f"Shadow of {report['target']} ({report['engine']}).", "",
             "| version | description | result | problems |", "| --- | --- | --- | --- |"]
    for c in report["changes"]:
        result = "ok" if c["ok"] else "**FAILED**"
        if c.get("skipped_down"):
            result += f" (up only: {c['skipped_down']})"
        elif c.get("no_rollback"):
            leaves = f": leaves {', '.join(c['leaves'])}" if c.get("leaves") else ""
            result += f" (no rollback: {c['no_rollback']}{leaves})"
        problems = "; ".join(c["problems"]).replace("|", "/").replace("\n", " ")
        lines.append(f"| {c['version']} | {c['description']} | {result} | {problems[:300] or '-'} |")
    if not report["changes"]:
        lines.append("| - | nothing pending | - | - |")
    lines += [f"- note: the shadow differs from the tenant before any change: {d}" for d in report["shadow_drift"]]
    return "\n".join(lines)
