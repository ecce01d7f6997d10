"""How a migrate run ends: rejected, stopped, rescheduled, or finished with its report, audit rows and
the last Slack word, each in a state that names it."""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger
from prefect.states import Completed, State

from dualpath.flows.links import artifacts_url, run_links
from dualpath.flows.rollout_run import Rollout, wave_names
from dualpath.redaction import redact
from dualpath.rollout import (
    Decision,
    skip_remaining,
)
from dualpath.slack.client import (
    Completion,
    Stopped,
)
from dualpath.slack.client import State as SlackState  # a Slack status, not a Prefect State
from dualpath.tasks.report import publish_report
from dualpath.tasks.tenant import (
    record_rejection,
)


def end_unapproved(run: Rollout, decision: Decision, report_dir: str | None) -> State:
    """No approval: nothing ran (no backup, no wave). Each tenant's audit trail keeps the decision,
    the report says who and why, and the run ends Completed as "Rejected" (or "Not approved")."""
    rejected = decision.rejected
    futures = [(t, record_rejection.submit(*run.args, t, run.run_id, decision.audit_detail())) for t in run.targets]
    for tenant, future in futures:
        try:
            future.result()
        except Exception as exc:  # the run is over either way; the report says which tenant lacks the row
            run.notes.append(f"audit row not written on {tenant.name}: {redact(str(exc))}")
    skip_remaining(run.outcomes, wave_names(run), 0)
    run.notes.append(f"{decision.reason}: nothing was changed (no backup taken, no wave started)")
    result = finish(run, "rejected" if rejected else "not approved", report_dir)
    result["refused"] = f"{decision.reason}; nothing was changed"
    return Completed(name="Rejected" if rejected else "Not approved", message=decision.reason, data=result)


def end_stopped(run: Rollout, reason: str, report_dir: str | None) -> State:
    """The window closed between phases: the wave in flight has finished, no other starts. Migrated tenants
    keep their version (nothing failed); the rest are skipped and wait for the next run."""
    done = sum(o.state == "applied" for o in run.outcomes)
    left = sum(o.state == "skipped" for o in run.outcomes)
    text = f"stopped: {reason}; {done} tenant(s) migrated, {left} left for the next run"
    get_run_logger().warning(text)
    run.notes.append(text)
    run.notifier.run_stopped(run.info, Stopped(reason=reason, tenants_done=done, tenants_left=left))
    result = finish(run, "window closed", report_dir)
    result["refused"] = text
    return Completed(name="Window closed", message=text, data=result)


def end_rescheduled(run: Rollout, text: str, report_dir: str | None) -> State:
    """Outside the window, a later run of this deployment takes over at the opening: this one ends now, Completed
    as "Rescheduled" (nothing ran, nothing failed), with a report and Slack's word naming the run that follows."""
    get_run_logger().info(text)
    run.notes.append(text)
    run.notifier.run_ended(run.info, SlackState.STOPPED, f"rescheduled: {text}")
    result = finish(run, "rescheduled", report_dir)
    return Completed(name="Rescheduled", message=text, data=result)


def finish(run: Rollout, outcome: str, report_dir: str | None) -> dict[str, Any]:
    links = run_links(run.run_id)
    if outcome == "completed":  # told before the report is written, so the report can say whether Slack heard it
        results = [o.validation_result for o in run.outcomes if o.validation_result is not None]
        run.notifier.run_completed(run.info, Completion(
            duration_s=time.monotonic() - run.started,
            validations_passed=sum(o.success for r in results for o in r.outcomes),
            validations_total=sum(len(r.outcomes) for r in results),
            report_url=None if run.notifier.settings.report_link else artifacts_url(run.run_id)))
    elif outcome in _QUIET_ENDINGS:
        state, detail = _QUIET_ENDINGS[outcome]
        run.notifier.run_ended(run.info, state, detail.format(tenants=len(run.targets)))
    run.ended = True
    slack_trouble = run.notifier.failure_summary()
    if slack_trouble:
        run.notes.append(slack_trouble)
        get_run_logger().warning(slack_trouble)
    path = publish_report(run.ctx.name, run.run_id, outcome, run.outcomes, run.notes, run.plan_md, report_dir, links,
                          run.decision)
    get_run_logger().info("run %s: %s%s", run.run_id, outcome, f"; report {path}" if path else "")
    decision = run.decision
    return {"run_id": run.run_id, "outcome": outcome, "report": path, "ui": links.get("prefect-run"),
            "tenants": [{"name": o.name, "wave": o.wave, "state": o.state, "applied": o.applied,
                         "restored": o.restored} for o in run.outcomes],
            "notes": run.notes, "refused": None,
            "decision": None if decision is None else {"approved": decision.approved, **decision.audit_detail()}}


# outcomes that changed nothing and have no event of their own: Slack's final word on them
_QUIET_ENDINGS = {
    "up to date": (SlackState.UP_TO_DATE, "nothing to do: all {tenants} tenant(s) are at the target version"),
    "dry run": (SlackState.DRY_RUN, "dry run: every change was checked on {tenants} tenant(s); nothing was changed"),
}
