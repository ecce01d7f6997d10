"""The approval step of the migrate flow: the decision card, the full plan as an artifact, and waiting for
the decision (or taking a pre-approval)."""

from __future__ import annotations

from dataclasses import replace

from prefect import get_run_logger

from dualpath.approval_card import CardFacts, approval_card, relative_to
from dualpath.changes import Change
from dualpath.flows.approval import preapproved, publish_plan, wait_for_decision
from dualpath.flows.rollout_run import Rollout
from dualpath.rollout import (
    Decision,
    approval_reasons,
    rollback_plan,
)
from dualpath.slack.client import (
    Approval,
    Decided,
)


def obtain_approval(run: Rollout, changes: list[Change], approve: bool, approver: str | None) -> Decision | None:
    """The approver's decision, None when the run needs none. An approval's approver, ticket and comment
    go into the run's Slack status and report from here on."""
    reasons = approval_reasons(changes, run.ctx.env.approval)
    if not reasons:
        return None
    if approve:
        decision = preapproved(approver, run.ctx.env.approvers)
    else:
        run.notifier.approval_needed(run.info, Approval(what=f"{len(changes)} change(s) on {len(run.targets)} "
                                                             "tenant(s)", why="; ".join(reasons)))
        get_run_logger().info("waiting for approval (Prefect UI, or resume_flow_run with ApprovalInput)")
        card = decision_card(run, changes, reasons, publish_plan(run.ctx.name, run.plan_md))
        decision = wait_for_decision(card, run.ctx.env.approval_timeout_s, run.ctx.env.approvers)
    get_run_logger().info(decision.headline)
    link = run.ctx.settings.ticket_link
    run.info = replace(run.info, ticket=decision.ticket or None, comment=decision.comment or None,
                       ticket_url=link.replace("{ticket}", decision.ticket) if link and decision.ticket else None,
                       approved_by=decision.approver if decision.approved else None)
    if not approve:  # the thread asked for a decision: it hears the answer
        run.notifier.approval_decided(run.info, Decided(decision.approved, decision.approver, decision.ticket,
                                                        decision.comment, decision.reason))
    return decision


def decision_card(run: Rollout, changes: list[Change], reasons: list[str], plan_url: str | None) -> str:
    """The decision card above the approval form; the full plan when no plan could be built."""
    if run.plan is None or run.facts is None:
        return run.plan_md
    rollback_files = frozenset(relative_to(c.rollback_file, run.ctx.migrations) for c in changes if c.rollback_file)
    return approval_card(CardFacts(
        env=run.ctx.name, tenants=len(run.targets), waves=run.facts.waves, plan=run.plan, backup=backup_short(run),
        rollback_plan=rollback_plan(run.facts), window=run.ctx.env.window, approvals=reasons,
        approvers=run.ctx.env.approvers, rollback_files=rollback_files, plan_url=plan_url,
        slack_buttons=run.notifier.approval_buttons, timeout_s=run.ctx.env.approval_timeout_s))


def backup_text(run: Rollout, changes: list[Change]) -> str:
    return f"{backup_short(run)}, before {', '.join(c.version for c in changes)}"


def backup_short(run: Rollout) -> str:
    dest = run.ctx.env.backup_to or run.ctx.settings.backup.get("destination") or "no destination set"
    return f"policy '{run.ctx.env.backup}', to {dest}"
