"""Slack Block Kit messages for a migration run, built by pure functions from plain data.

Nothing here talks to Slack; ``dualpath.slack.client`` sends what these functions build.
Every piece of text that comes from a run (targets, errors, file names) is redacted and
escaped here, and the sender scrubs the whole payload again against configured secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dualpath.slack.blocks import (
    Block,
    actions,
    bullets,
    button,
    clip,
    context,
    decision_button,
    escape,
    fields,
    format_duration,
    header,
    hide_secrets,
    redact_text,
    say,
    scrub,
    section,
    summarize_risks,
)
from dualpath.slack.events import (
    Approval,
    BreakGlass,
    Completion,
    Decided,
    Failure,
    PlanSummary,
    Rollback,
    RunInfo,
    State,
    Stopped,
    WaveProgress,
)

# the events and the blocks are their own modules; importers of messages keep finding them here
__all__ = [
    "APPROVE_ACTION", "Approval", "Block", "BreakGlass", "Completion", "Decided", "Failure", "Message",
    "PREFLIGHT_RUNNING", "PlanSummary", "REJECT_ACTION", "Rollback", "RunInfo", "State", "Stopped",
    "WaveProgress", "actions", "build_approval", "build_break_glass", "build_completion", "build_decision",
    "build_ended", "build_failure", "build_progress", "build_rollback", "build_run_started", "build_status",
    "build_stopped", "bullets", "button", "clip", "context", "decision_button", "describe_progress", "escape",
    "fields", "format_duration", "header", "hide_secrets", "redact_text", "say", "scrub", "section",
    "summarize_risks",
]

_STATE_EMOJI = {
    State.STARTED: ":rocket:",
    State.AWAITING_APPROVAL: ":raised_hand:",
    State.RUNNING: ":large_blue_circle:",
    State.FAILED: ":red_circle:",
    State.COMPLETED: ":white_check_mark:",
    State.ROLLED_BACK: ":leftwards_arrow_with_hook:",
    State.APPROVED: ":ballot_box_with_check:",
    State.REJECTED: ":no_entry:",
    State.STOPPED: ":double_vertical_bar:",
    State.UP_TO_DATE: ":white_check_mark:",
    State.DRY_RUN: ":mag:",
    State.REFUSED: ":no_entry_sign:",
}


PREFLIGHT_RUNNING = "pre-flight running…"  # what the status says of changes and risks before pre-flight has them


@dataclass(frozen=True)
class Message:
    text: str  # the notification fallback; Slack shows it where blocks cannot render
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def build_status(run: RunInfo, state: State, detail: str = "", run_url: str | None = None) -> Message:
    """The one status message of a run: posted at start, then updated in place."""
    line = f"{_STATE_EMOJI[state]} *{state.value}*" + (f" · {say(detail)}" if detail else "")
    blocks = [
        header(f"{_STATE_EMOJI[state]} Migration {state.value}: {_title(run)}"),
        section(f"*Status:* {line}"),
        fields(_run_fields(run)),
    ]
    if run.plan is not None and run.plan.irreversible:
        blocks.append(section("*Irreversible steps:*\n" + bullets(run.plan.irreversible)))
    blocks.append(context(_run_context(run, run_url)))
    return Message(f"Migration {state.value}: {_title(run)}", blocks)


def build_run_started(run: RunInfo, run_url: str | None = None) -> Message:
    return build_status(run, State.STARTED, PREFLIGHT_RUNNING if run.plan is None else "", run_url)


def build_ended(run: RunInfo, state: State, detail: str, run_url: str | None = None) -> Message:
    """The last word of a run that ended without changing anything (up to date, dry run, refused)."""
    blocks = [header(f"{_STATE_EMOJI[state]} Migration {state.value}: {_title(run)}"), section(say(detail)),
              _run_button(run, run_url, "Open run in Prefect")]
    return Message(f"Migration {state.value}: {_title(run)}: {redact_text(detail)}", blocks)


APPROVE_ACTION = "dualpath_approve"  # action ids of the approval buttons; the value is the flow run id


REJECT_ACTION = "dualpath_reject"


def build_approval(run: RunInfo, approval: Approval, run_url: str | None = None, *, buttons: bool = False) -> Message:
    """Asks the approvers to look at the paused run; the button opens it in the Prefect UI. With ``buttons``
    the message also carries Approve and Reject, answered by the Slack approval receiver as the Slack user."""
    plan = run.plan or PlanSummary()
    blocks = [
        header(f":raised_hand: Approval needed: {_title(run)}"),
        section(f"*What:* {say(approval.what)}\n*Why:* {say(approval.why)}"),
        fields([
            ("Risks", summarize_risks(plan.risks)),
            ("Irreversible steps", str(len(plan.irreversible))),
            ("Approvers", say(", ".join(run.approvers)) or "anyone allowed"),
            ("Ticket", _ticket(run)),
        ]),
    ]
    blocks.append(_run_button(run, run_url, "Review paused run in Prefect", primary=not buttons))
    if buttons:
        blocks.append(actions([decision_button("Approve", APPROVE_ACTION, run.run_id, "primary"),
                               decision_button("Reject", REJECT_ACTION, run.run_id, "danger")]))
        blocks.append(context("Approve or Reject here decides as your Slack user, checked against the approvers "
                              "(the Prefect form takes a typed name that nobody verifies)."))
    return Message(f"Approval needed: {_title(run)}: {redact_text(approval.what)}", blocks)


def build_decision(run: RunInfo, decided: Decided, run_url: str | None = None) -> Message:
    """Who decided on the paused run, with the ticket and comment: an approval, or why it is none."""
    if decided.approved:
        title, verdict = f":ballot_box_with_check: Approved: {_title(run)}", f"*Approved by* {say(decided.approver)}"
    else:
        title, verdict = f":no_entry: Not approved: {_title(run)}", f"*{say(decided.reason)}*\nNothing was changed."
    blocks = [header(title), section(verdict), fields(_decision_fields(decided, run.ticket_url))]
    if not decided.approved:
        blocks.append(_run_button(run, run_url, "Open run in Prefect"))
    text = f"{'Approved' if decided.approved else 'Not approved'}: {_title(run)}: " + redact_text(
        f"by {decided.approver}" if decided.approved else decided.reason)
    return Message(text, blocks)


def build_stopped(run: RunInfo, stopped: Stopped, run_url: str | None = None) -> Message:
    """The rollout stopped between waves: the tenants migrated stay migrated, the rest wait for the next run."""
    blocks = [
        header(f":double_vertical_bar: Migration stopped: {_title(run)}"),
        section(f"*Why:* {say(stopped.reason)}\nThe wave in flight finished; no further wave starts. "
                "Migrated tenants keep the new version; the rest wait for the next run."),
        fields([("Tenants migrated", str(stopped.tenants_done)), ("Tenants left", str(stopped.tenants_left)),
                ("Approved by", say(run.approved_by or "—"))]),
        _run_button(run, run_url, "Open run in Prefect"),
    ]
    return Message(f"Migration stopped: {_title(run)}: {redact_text(stopped.reason)}", blocks)


def build_progress(run: RunInfo, progress: WaveProgress) -> Message:
    """A threaded reply for one finished wave."""
    return Message(f"{_title(run)}: {describe_progress(progress)}",
                   [section(f":large_blue_circle: {describe_progress(progress)}")])


def build_failure(run: RunInfo, failure: Failure, mention: str | None = None, run_url: str | None = None) -> Message:
    """Says what failed, where, what was rolled back and what to do next; pings on-call."""
    ping = f"{mention} " if mention else ""
    undone = bullets(failure.rolled_back) if failure.rolled_back else "_nothing was rolled back_"
    blocks = [
        header(f":red_circle: Migration failed: {_title(run)}"),
        section(f"{ping}*What failed:* {say(failure.what)}\n```{say(failure.error)}```"),
        fields([
            ("Tenant", say(failure.tenant or "—")),
            ("Step", say(failure.step or "—")),
            ("Where", say(failure.location or "—")),
        ]),
        section(f"*Rolled back:*\n{undone}"),
        section(f"*Next:* {say(failure.next_step)}"),
        _run_button(run, run_url, "Open run in Prefect"),
    ]
    return Message(f"Migration failed: {_title(run)}: {redact_text(failure.what)}", blocks)


def build_completion(run: RunInfo, completion: Completion) -> Message:
    validations = f"{completion.validations_passed}/{completion.validations_total} passed"
    blocks = [
        header(f":white_check_mark: Migration completed: {_title(run)}"),
        fields([
            ("Duration", format_duration(completion.duration_s)),
            ("Rows moved", f"{completion.rows_moved:,}"),
            ("Validations", validations),
            ("Tenants", str(run.tenants)),
            *_approval_fields(run),
        ]),
    ]
    if completion.report_url:
        blocks.append(actions([button("Open report", completion.report_url, "open_report")]))
    return Message(f"Migration completed: {_title(run)} in {format_duration(completion.duration_s)}", blocks)


def build_rollback(run: RunInfo, rollback: Rollback, run_url: str | None = None) -> Message:
    undone = bullets(rollback.undone) if rollback.undone else "_no step needed undoing_"
    duration = format_duration(rollback.duration_s) if rollback.duration_s is not None else "—"
    blocks = [
        header(f":leftwards_arrow_with_hook: Rolled back: {_title(run)}"),
        section(f"*Why:* {say(rollback.reason)}"),
        fields([
            ("Tenants rolled back", str(rollback.tenants)),
            ("Back to version", say(rollback.to_version or "—")),
            ("Duration", duration),
        ]),
        section(f"*Undone:*\n{undone}"),
        _run_button(run, run_url, "Open run in Prefect"),
    ]
    return Message(f"Rolled back: {_title(run)}: {redact_text(rollback.reason)}", blocks)


def build_break_glass(run: RunInfo, event: BreakGlass, mention: str | None = None) -> Message:
    """Loud on purpose: a protected environment changed without the flow's approval."""
    ping = f"{mention} " if mention else ""
    blocks = [
        header(f":rotating_light: Break-glass on {redact_text(run.env)}"),
        section(f"{ping}*{say(event.who)}* ran `dualpath {say(event.command)}` on a protected environment "
                f"without an approval.\n*Reason:* {say(event.reason)}"),
        fields([("Target", say(event.target)), ("Host", say(event.host)), ("Run", say(run.run_id))]),
        context("recorded in the target's audit trail as `break-glass`"),
    ]
    return Message(f"Break-glass on {redact_text(run.env)} by {redact_text(event.who)}: {redact_text(event.reason)}",
                   blocks)


def describe_progress(progress: WaveProgress) -> str:
    text = (f"wave {progress.wave}/{progress.waves} · "
            f"{progress.tenants_done}/{progress.tenants_total} tenants")
    if progress.tenants_failed:
        text += f" · {progress.tenants_failed} failed"
    if progress.rows_moved:
        text += f" · {progress.rows_moved:,} rows moved"
    if progress.elapsed_s:
        text += f" · {format_duration(progress.elapsed_s)}"
    return text


def _title(run: RunInfo) -> str:
    """Target and environment, then which run: its name and the start of its id (names may repeat)."""
    which = " ".join(p for p in (run.run_name, run.run_id[:8]) if p)
    return f"{redact_text(run.target)} ({redact_text(run.env)}) · {redact_text(which)}"


def _ticket(run: RunInfo) -> str:
    if not run.ticket:
        return "—"
    if run.ticket_url:
        return f"<{redact_text(run.ticket_url)}|{say(run.ticket)}>"
    return say(run.ticket)


def _run_fields(run: RunInfo) -> list[tuple[str, str]]:
    return [
        ("Environment", say(run.env)),
        ("Target", say(run.target)),
        ("Window", say(run.window or "any time")),
        ("Tenants", str(run.tenants)),
        ("Approvers", say(", ".join(run.approvers)) or "—"),
        ("Ticket", _ticket(run)),
        ("Changes", PREFLIGHT_RUNNING if run.plan is None else str(run.plan.changes)),
        ("Risks", PREFLIGHT_RUNNING if run.plan is None else summarize_risks(run.plan.risks)),
        *[(name, value) for name, value in _approval_fields(run) if name != "Ticket"],
    ]


def _approval_fields(run: RunInfo) -> list[tuple[str, str]]:
    """Who approved, the ticket and the comment, once there is an approval."""
    if not run.approved_by:
        return []
    return [("Approved by", say(run.approved_by)), ("Ticket", _ticket(run)), ("Comment", say(run.comment or "—"))]


def _decision_fields(decided: Decided, ticket_url: str | None) -> list[tuple[str, str]]:
    ticket = "—"
    if decided.ticket:
        ticket = f"<{redact_text(ticket_url)}|{say(decided.ticket)}>" if ticket_url else say(decided.ticket)
    return [("Approver", say(decided.approver or "—")), ("Ticket", ticket), ("Comment", say(decided.comment or "—"))]


def _run_context(run: RunInfo, run_url: str | None) -> str:
    run_ref = f"<{redact_text(run_url)}|{say(run.run_id)}>" if run_url else f"`{say(run.run_id)}`"
    return f"run {run_ref}"


def _run_button(run: RunInfo, run_url: str | None, label: str, *, primary: bool = False) -> Block:
    if run_url:
        return actions([button(label, run_url, "open_run", primary=primary)])
    # Without a configured UI URL, still tell people which run to open.
    return context(f"open flow run `{say(run.run_id)}` in the Prefect UI")
