"""A dualpath flow run whose process died must not stay Running for ever.

Prefect's open-source server cannot tell a run whose worker (or process) died from a run that is still
working: both are Running. A run that sends heartbeats (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, set for
every deployment in prefect.yaml) can be told: Prefect's own zombie detection (docs.prefect.io, "detect
zombie flows") is an automation that sets a run Crashed when its heartbeats stop. This one covers the
migrate flow (the parent: its report, halting and rollback stop with it, and an operator must see that)
and the tenant child runs (the parent runs a crashed child again). Matched by flow name, which every
heartbeat and state event of a run names, unlike tags added after a run started.
"""

from __future__ import annotations

from datetime import timedelta

from dualpath.flows.tenant_run import APPLY_FLOW, ROLLBACK_FLOW

MIGRATE_FLOW = "dualpath-migrate"
WATCHED_FLOWS = (MIGRATE_FLOW, APPLY_FLOW, ROLLBACK_FLOW)
ZOMBIE_AUTOMATION = "dualpath: crash silent runs"
OLD_AUTOMATIONS = ("dualpath: crash silent tenant runs",)  # tenant runs only: replaced by the one above
SILENCE_S = 120  # no heartbeat for this long (a run sends one every 30 s): its process is gone


def sends_heartbeats() -> bool:
    """Whether this process's flow runs send heartbeats (only those can be told dead from silent)."""
    from prefect.settings import get_current_settings

    return get_current_settings().flows.heartbeat_frequency is not None


def ensure_zombie_automation(silence_s: int = SILENCE_S) -> str | None:
    """The automation, created once per server and left alone after (an operator may recreate it with
    another silence); an earlier dualpath's, which watched tenant runs only, is replaced. A note when it
    was created."""
    from prefect.automations import Automation
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    with get_client(sync_client=True) as client:
        if client.read_automations_by_name(ZOMBIE_AUTOMATION):
            return None
        replaced = [old.id for name in OLD_AUTOMATIONS for old in client.read_automations_by_name(name)]
        for automation_id in replaced:
            client.delete_automation(automation_id)
    Automation(
        name=ZOMBIE_AUTOMATION,
        description="A dualpath run (a migrate run or a tenant's child run) that stopped sending heartbeats is "
                    "Crashed: its process is gone. A crashed child runs again; a crashed migrate run needs an "
                    "operator (docs/operating.md, 'When a worker dies mid-tenant').",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification({"prefect.resource.role": "flow",
                                                 "prefect.resource.name": list(WATCHED_FLOWS)}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silence_s),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"no heartbeat for {silence_s} s: its process is gone")],
    ).create()
    return (f"created the Prefect automation {ZOMBIE_AUTOMATION!r} (no heartbeat for {silence_s} s: Crashed)"
            + (" in place of the earlier one for tenant runs only" if replaced else ""))
