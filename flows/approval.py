"""Human decisions inside the migrate flow: the approval form and the irreversible-rollback acknowledgement.

Both pause the flow run with ``pause_flow_run(wait_for_input=...)``: the Prefect UI shows the
description (the plan in Markdown) above a form; resuming with the form filled continues the
run in the same process. ``resume_flow_run(id, run_input={...})`` does the same from anywhere.

The wait survives the Prefect server going away and coming back (a restart, a redeploy): Prefect's
client retries a refused connection only a few times with exponential backoff (about a minute in
3.9), then ``pause_flow_run`` raises and the run dies while its approver may still be reading the
plan. So the pause gets a key of its own, and when the server is unreachable the run keeps polling
it with a capped backoff for up to ``DUALPATH_PREFECT_OUTAGE_S`` seconds (default 600) of continuous
outage; once it answers, a resumed run loads the form's answer exactly as ``pause_flow_run`` would.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import time
import uuid
from typing import Literal, TypeVar, cast

import httpx
from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import FlowPauseTimeout, MissingContextError
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.input.actions import read_flow_run_input
from prefect.input.run_input import Keyset, keyset_from_base_key
from prefect.runtime import flow_run
from pydantic import Field

from dualpath.errors import TargetRefused
from dualpath.flows.links import ui_base
from dualpath.rollout import Decision, decide, no_decision

OUTAGE_ENV = "DUALPATH_PREFECT_OUTAGE_S"
UNREACHABLE = "the Prefect server is unreachable"  # said when an outage starts during the wait ...
REACHABLE = "the Prefect server is reachable again"  # ... and when it ends
DEFAULT_OUTAGE_S = 600.0
_MAX_BACKOFF_S = 5.0  # a server back after a restart is noticed within this

Form = TypeVar("Form", bound=RunInput)


class ApprovalInput(RunInput):
    """The approver's decision on a migration run. ``decision`` has no default: the form cannot be submitted
    before someone picks approve or reject (a toggle that defaults to off rejects on a Submit without reading)."""

    decision: Literal["approve", "reject"] = Field(
        title="Decision", description="approve runs the rollout; reject ends the run, nothing changed")
    approver: str = Field(
        title="Approver", description="your name as listed in the environment's approvers; a typed name that "
                                      "Prefect does not verify (the Slack buttons carry a verified identity)")
    ticket: str = Field(default="", title="Ticket", description="change ticket, e.g. SHOP-131")
    comment: str = Field(default="", title="Comment")


class RollbackInput(RunInput):
    """Going on past a tenant whose rollback stops at an irreversible change. Like ApprovalInput, the answer
    has no default: Submit without reading cannot say yes (nor, silently, no)."""

    acknowledge: Literal["yes, I have read what stays", "no"] = Field(
        title="Acknowledge", description="what the irreversible step left behind stays until it is restored from "
                                         "its backup; the run goes on either way and records this answer")
    approver: str = Field(title="Your name", description="recorded with the answer; not verified by Prefect")
    comment: str = Field(default="", title="Comment")


def wait_for_decision(card_md: str, timeout_s: int, approvers: list[str]) -> Decision:
    """Pause for the form under the decision card; the approver's decision, or no decision when the pause
    times out. A rejection is an answer like an approval: the caller ends the run on it, with a report,
    audit rows and Slack."""
    try:
        answer = pause_until_resumed(ApprovalInput.with_initial_data(description=card_md), timeout_s)
    except FlowPauseTimeout:
        return no_decision(timeout_s)
    return decide(answer.decision == "approve", answer.approver, answer.ticket, answer.comment, approvers)


def publish_plan(env: str, plan_md: str) -> str | None:
    """The full plan as a markdown artifact of this run; its address in the Prefect UI (classic; the V2 UI
    has it under /v2/artifacts/artifact/<id>), or None outside a flow run or without a UI address."""
    from prefect.artifacts import create_markdown_artifact

    key = "dualpath-plan-" + (re.sub(r"[^a-z0-9-]+", "-", env.lower()).strip("-") or "env")
    artifact_id = create_markdown_artifact(markdown=plan_md, key=key, description=f"full migration plan for {env}")
    base = ui_base()
    return f"{base}/artifacts/artifact/{artifact_id}" if base and artifact_id else None


def wait_for_approval(plan_md: str, timeout_s: int, approvers: list[str]) -> Decision:
    """``wait_for_decision`` for a flow that simply refuses (exit 3) without an approval."""
    return refuse_unless_approved(wait_for_decision(plan_md, timeout_s, approvers))


def refuse_unless_approved(decision: Decision) -> Decision:
    if not decision.approved:
        raise TargetRefused(f"{decision.reason}; nothing was changed",
                            hint="address the approver's concerns and run again, or raise approval_timeout_s")
    return decision


def preapproved(approver: str | None, approvers: list[str]) -> Decision:
    """``--approve`` on the command line: the operator approves as themselves (refused when not an approver)."""
    who = approver or f"cli:{_user()}"
    return refuse_unless_approved(decide(True, who, "", "approved with --approve", approvers))


def acknowledge_blocked_rollback(text: str, timeout_s: int) -> dict[str, str]:
    """Pause until someone acknowledges what an irreversible step left behind; a timeout is noted, not fatal."""
    try:
        answer = pause_until_resumed(RollbackInput.with_initial_data(description=text), timeout_s)
    except FlowPauseTimeout:
        return {"acknowledged": "no (timed out)"}
    return {"acknowledged": "yes" if answer.acknowledge != "no" else "no", "approver": answer.approver,
            "comment": answer.comment}


def pause_until_resumed(form: type[Form], timeout_s: int) -> Form:
    """``pause_flow_run`` for ``form``, riding out a Prefect server that is unreachable for a while."""
    key = f"dualpath-{uuid.uuid4().hex[:12]}"
    deadline = time.monotonic() + timeout_s
    try:
        return _pause(form, timeout_s, key)
    except Exception as exc:
        if not is_server_outage(exc):
            raise
        get_run_logger().warning("the Prefect server went away while this run waits for a decision (%s); "
                                 "waiting up to %.0f s for it to come back", type(exc).__name__, outage_limit_s())
    return await_resume(form, key, deadline)


def await_resume(form: type[Form], key: str, deadline: float) -> Form:
    """Poll the run until it is resumed (the answer), its pause times out, or the server stays away too long."""
    keyset = keyset_from_base_key(f"paused-{key}")  # what pause_flow_run names the keys of a pause called ``key``
    run_id = uuid.UUID(str(flow_run.id))
    limit, down_since, backoff = outage_limit_s(), time.monotonic(), 1.0
    unreachable = False  # within an outage: said once when it starts, once when it ends
    while True:
        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(run_id)
            resumed = _resumed(form, key, keyset, run, deadline)
        except Exception as exc:
            if not is_server_outage(exc):
                raise
            if not unreachable:
                unreachable = True
                _wait_logger().warning(UNREACHABLE + " (%s); still waiting for a decision, up to %.0f s for the "
                                         "server", type(exc).__name__, limit)
            if time.monotonic() - down_since > limit:
                raise TargetRefused(f"the Prefect server was unreachable for {limit:.0f} s while the run waited for "
                                    "a decision; nothing was changed after the pause",
                                    hint=f"start the Prefect server and run again; {OUTAGE_ENV} sets how long a "
                                         "run waits for it") from None
            time.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
            continue
        if unreachable:
            unreachable = False
            _wait_logger().info(REACHABLE)
        if resumed is not None:
            get_run_logger().info("the Prefect server is back and the run was resumed")
            return resumed
        if time.monotonic() >= deadline:
            raise FlowPauseTimeout("Flow run was paused and never resumed.")
        down_since, backoff = time.monotonic(), 1.0
        time.sleep(1)


def _wait_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run's logger; a plain one where the wait runs outside a flow run (a test of the wait alone)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("dualpath.approval")


def _resumed(form: type[Form], key: str, keyset: Keyset, run: FlowRun, deadline: float) -> Form | None:
    """The answer once the run is running again; None while it is still paused."""
    state = run.state
    if state is not None and state.is_paused():
        if read_flow_run_input(keyset["schema"], flow_run_id=run.id) is None:
            form.save(keyset, flow_run_id=run.id)  # the outage came before the form was saved: the UI needs it
        return None
    if state is not None and state.is_running():
        if key in (run.empirical_policy.pause_keys or set()):
            return cast(Form, form.load(keyset, flow_run_id=run.id))  # sync call: never a coroutine
        # the outage came before the pause reached the server: pause now, for the time that is left
        return _pause(form, max(1, int(deadline - time.monotonic())), key)
    raise TargetRefused(f"the run left its pause as {state.type.value if state else 'no state'} instead of being "
                        "resumed; nothing was changed after the pause", hint="see the flow run in the Prefect UI")


def _pause(form: type[Form], timeout_s: int, key: str) -> Form:
    answer = pause_flow_run(wait_for_input=form, timeout=timeout_s, poll_interval=1, key=key)
    return cast(Form, answer)  # the sync call of an async_dispatch function: never a coroutine here


def is_server_outage(exc: BaseException) -> bool:
    """The server is unreachable or failing (not a bad request): worth waiting for."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


def outage_limit_s() -> float:
    try:
        return max(0.0, float(os.environ.get(OUTAGE_ENV, DEFAULT_OUTAGE_S)))
    except ValueError:
        return DEFAULT_OUTAGE_S


def _user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"
