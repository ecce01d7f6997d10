"""Waiting for the window without holding a worker: a deployment run started outside its window with
``wait_for_window`` schedules a run of the same deployment, with the same parameters, at the opening
(a Scheduled flow run a worker picks up then) and ends; only a run outside any deployment (``dualpath
run --wait-for-window``: the terminal waits anyway) sleeps until the opening.

Which of the two started the run also decides what a refusal outside the window tells the operator:
the deployment parameter, or the command line flag.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect.runtime import deployment, flow_run

from dualpath.windows import admit

FLOW = "dualpath-migrate"


@dataclass(frozen=True)
class Rescheduled:
    """The run that takes over at the opening."""

    run_id: str
    run_name: str
    opens: datetime
    deployment: str

    def describe(self, window: str) -> str:
        return (f"outside the window '{window}': run {self.run_name} ({self.run_id}) of deployment "
                f"{FLOW}/{self.deployment} is scheduled for its opening at {self.opens.isoformat()}; "
                "no worker waits for it")


def from_deployment() -> str | None:
    """The deployment's name when this flow run came from one, else None (the CLI, a test, a script)."""
    return str(deployment.name) if deployment.id else None


def wait_hint() -> str:
    """How an operator asks this run to wait for its window instead of being refused."""
    name = from_deployment()
    if name:
        return (f"set the deployment parameter wait_for_window: true (deployments/<env>.yaml, or "
                f"prefect deployment run '{FLOW}/{name}' --param wait_for_window=true): outside the window the run "
                "then schedules itself at the opening; or change the environment's window in dualpath.toml")
    return "wait for the window (dualpath run --wait-for-window), or change the environment's window in dualpath.toml"


def reschedule_at_opening(window: str | None, now: datetime, grace_s: float) -> Rescheduled | None:
    """Outside the window (beyond the grace a worker's early start gets) in a deployment run: a Scheduled run
    of the same deployment at the opening; None when the run goes on here (inside, within the grace, or
    not a deployment run)."""
    admission = admit(window, now, grace_s)
    name = from_deployment()
    if admission.verdict != "closed" or admission.opens is None or not name:
        return None
    return schedule_run(str(deployment.id), name, admission.opens)


def schedule_run(deployment_id: str, name: str, opens: datetime) -> Rescheduled:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    with get_client(sync_client=True) as client:  # as the run was given them (not the flow's defaults filled in)
        parameters: dict[str, Any] = dict(client.read_flow_run(UUID(str(flow_run.id))).parameters)
    # a retry of this run must not schedule a second one: the key is this run and the opening
    new = run_deployment(deployment_id, parameters=parameters, scheduled_time=opens, timeout=0, as_subflow=False,
                         idempotency_key=f"{flow_run.id}:window:{opens.isoformat()}",
                         tags=["dualpath", "waited-for-window"])
    assert not isinstance(new, Coroutine)  # a sync flow: run_deployment returns the run, not an awaitable
    return Rescheduled(str(new.id), str(new.name), opens, name)
