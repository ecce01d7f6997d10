"""Human decisions inside the migrate flow: the approval form and the irreversible-rollback acknowledgement.

Both pause the flow run with ``pause_flow_run(wait_for_input=...)``: the Prefect UI shows the
description (the plan in Markdown) above a form; resuming with the form filled continues the
run in the same process. ``resume_flow_run(id, run_input={...})`` does the same from anywhere.
"""

from __future__ import annotations

import getpass

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from dualpath.errors import TargetRefused


class ApprovalInput(RunInput):
    """The approver's decision on a migration run."""

    approve: bool = False
    approver: str = ""
    ticket: str = ""
    comment: str = ""


class RollbackInput(RunInput):
    """Going on past a tenant whose rollback stops at an irreversible change."""

    acknowledge: bool = False
    approver: str = ""
    comment: str = ""


def wait_for_approval(plan_md: str, timeout_s: int, approvers: list[str]) -> dict[str, str]:
    """Pause for the form; a rejection, a timeout or an unknown approver refuse the run (nothing changed)."""
    try:
        answer = pause_flow_run(wait_for_input=ApprovalInput.with_initial_data(description=plan_md, approve=False),
                                timeout=timeout_s, poll_interval=1)
    except FlowPauseTimeout:
        raise TargetRefused(f"no approval within {timeout_s} s; nothing was changed",
                            hint="run again and approve in the Prefect UI, or raise approval_timeout_s") from None
    return check_answer(answer.approve, answer.approver, answer.ticket, answer.comment, approvers)


def check_answer(approve: bool, approver: str, ticket: str, comment: str, approvers: list[str]) -> dict[str, str]:
    who = approver.strip() or "an unnamed approver"
    if not approve:
        raise TargetRefused(f"rejected by {who}" + (f": {comment}" if comment else "") + "; nothing was changed",
                            hint="address the approver's concerns and run again")
    if approvers and approver.strip() not in approvers:
        raise TargetRefused(f"'{who}' may not approve this environment; nothing was changed",
                            hint=f"approvers: {', '.join(approvers)}")
    return {"approver": approver.strip(), "ticket": ticket.strip(), "comment": comment.strip()}


def preapproved(approver: str | None, approvers: list[str]) -> dict[str, str]:
    """``--approve`` on the command line: the operator approves as themselves."""
    who = approver or f"cli:{_user()}"
    return check_answer(True, who, "", "approved with --approve", approvers)


def acknowledge_blocked_rollback(text: str, timeout_s: int) -> dict[str, str]:
    """Pause until someone acknowledges what an irreversible step left behind; a timeout is noted, not fatal."""
    try:
        answer = pause_flow_run(wait_for_input=RollbackInput.with_initial_data(description=text),
                                timeout=timeout_s, poll_interval=1)
    except FlowPauseTimeout:
        return {"acknowledged": "no (timed out)"}
    return {"acknowledged": "yes" if answer.acknowledge else "no", "approver": answer.approver,
            "comment": answer.comment}


def _user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"
