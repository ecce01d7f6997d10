"""Where a wave's tenants run: ``in-process`` (tasks in threads of the flow's own process: ``dualpath run``,
the demo, one worker) or ``deployments`` (child flow runs of the ``tenant-apply`` deployment, which any
worker of the work pool on any machine picks up: one per tenant, or one per ``tenants_per_run`` tenants of
a wave, which pays a worker's new process once for the group).

The parent keeps every decision (canary, waves, halting, rollback, report, Slack): from a child it only
reads the tenant's result, as the in-process task would have returned it. A child whose worker died is
marked Crashed by Prefect (heartbeats stop; the automation silence.py creates turns
silence into Crashed) and is run again, up to ``crash_retries`` times: a retry is safe because the runner
applies only what is still pending, settles a change a kill cut short from its statement journal, and
refuses a half-done change it cannot settle. A tenant that still fails counts as failed, and the rollout
halts and rolls back as for any failure: never counted applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import get_run_logger

from dualpath.errors import DualpathError, RunFailed, UsageError
from dualpath.flows.outcomes import GroupFailed
from dualpath.flows.rollout_run import START_TIMEOUT_S, Rollout
from dualpath.flows.tenant_run import APPLY_FLOW, ROLLBACK_FLOW, TENANT_TAG
from dualpath.tasks.tenant import apply_tenant, rollback_tenant
from dualpath.tenants import TenantTarget

FAN_OUTS = ("in-process", "deployments")
APPLY_DEPLOYMENT = f"{APPLY_FLOW}/tenant-apply"
ROLLBACK_DEPLOYMENT = f"{ROLLBACK_FLOW}/tenant-rollback"
CRASH_RETRIES = 1  # a crashed child runs once more; a second crash fails the tenant
POLL_S = 1.0


def check_fan_out(fan_out: str) -> str:
    if fan_out not in FAN_OUTS:
        raise UsageError(f"fan_out={fan_out!r} is not one of {', '.join(FAN_OUTS)}",
                         hint="in-process runs tenants in this flow's process; deployments hands each to a "
                              "worker of the pool (docs/operating.md, 'Many workers, one rollout')")
    return fan_out


def check_tenants_per_run(count: int) -> int:
    if count < 1:
        raise UsageError(f"tenants_per_run={count} must be 1 or more",
                         hint="1: a child flow run per tenant; more: a wave's tenants in groups of that size")
    return count


@dataclass
class Child:
    """The child flow run(s) of one tenant, or of a group of tenants: the deployment, its parameters, and the
    runs made so far. ``tenant`` names it in messages."""

    tenant: str
    deployment: str
    parameters: dict[str, Any]
    runs: list[UUID] = field(default_factory=list)
    state: Any = None  # the last run's final Prefect state
    crashes: list[str] = field(default_factory=list)
    shape: Callable[[Any], Any] = lambda value: value  # the child's return value as the caller wants it
    started_at: float = 0.0  # when the last run was created (the parent's monotonic clock)
    unstarted: str | None = None  # why the last run never started (no worker took it): the tenant's error

    def result(self) -> Any:
        """The child's return value, or its failure raised as the tenant's error (never a traceback)."""
        state = self.state
        if self.unstarted is not None:
            raise RunFailed(self.unstarted, where=self.where,
                            hint="start a worker of the pool (`prefect worker start --pool <pool>` on a machine with "
                                 "the checkout; docs/operating.md, 'Many workers, one rollout'), or give workers "
                                 "longer with the migrate flow's child_start_timeout_s")
        if state is not None and state.is_completed():
            try:
                return self.shape(state.result())
            except Exception as exc:  # e.g. the child wrote its result where this process cannot read it
                raise RunFailed(f"child flow run {self.runs[-1]} completed, and its result cannot be read: "
                                f"{type(exc).__name__}: {exc}", where=self.where,
                                hint="give every worker one shared result storage (docs/operating.md, 'Many "
                                     "workers, one rollout'); the tenant's history shows what applied") from None
        if state is not None and state.is_crashed():
            raise RunFailed(f"the worker running it died {len(self.crashes)} time(s) (child flow run(s) "
                            f"{', '.join(str(r) for r in self.runs)} crashed: {self.crashes[-1]}); "
                            "nothing of an unfinished change was recorded as applied",
                            where=f"tenant {self.tenant}",
                            hint="see the workers' logs; the tenant's history shows what did apply")
        try:  # the child raised: its persisted exception is the tenant's error (file:line, hint and all)
            state.result()
        except DualpathError:
            raise
        except Exception:
            pass
        what = state.name if state is not None else "no state"
        message = state.message if state is not None else ""
        raise RunFailed(f"child flow run {self.runs[-1]} ended {what}: {message}", where=self.where,
                        hint="see the child flow run's logs in Prefect")

    @property
    def where(self) -> str:
        # from the parameters, not the label: a tenant's own name may hold a comma
        return f"tenants {self.tenant}" if len(self.parameters.get("tenants") or ()) > 1 else f"tenant {self.tenant}"


@dataclass
class Member:
    """One tenant of an apply child: its own outcome out of the child's, or the child's failure (a crash, an
    unreadable result) as its error. Its ``result()`` is what apply_tenant's future would give."""

    child: Child
    tenant: str

    def result(self) -> Any:
        try:
            outcomes = self.child.result()
        except GroupFailed as failed:  # some tenants of the run failed: this one may not be among them
            outcomes = failed.outcomes
        outcome = outcomes.get(self.tenant)
        if outcome is None:
            raise RunFailed(f"child flow run {self.child.runs[-1]} returned no outcome for this tenant",
                            where=f"tenant {self.tenant}", hint="see the child flow run's logs in Prefect")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["applied"], outcome["validation_result"], outcome["phases"]


def run_children(children: Sequence[Child], echo: Callable[[str], None], crash_retries: int = CRASH_RETRIES,
                 poll_s: float = POLL_S, start_timeout_s: float = START_TIMEOUT_S) -> None:
    """Start one child flow run per ``children`` (all at once: the pool's workers and the hosts' limits
    decide how many run together), wait until each is final, and run a crashed one again. A run no worker
    has started within ``start_timeout_s`` is cancelled (a cancelled run can no longer start) and its
    tenants fail saying so, instead of the parent waiting for a worker for ever."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    waiting = {_start(child): child for child in children}
    with get_client(sync_client=True) as client:
        while waiting:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(waiting))))
            for run in runs:
                child = waiting[run.id]
                if run.state is not None and not run.state.is_final():
                    if _cancel_unstarted(client, run, child, start_timeout_s):
                        waiting.pop(run.id)
                    continue
                if run.state is None:
                    continue
                waiting.pop(run.id)
                child.state = run.state
                if run.state.is_crashed():
                    child.crashes.append(run.state.message or "crashed")
                    if len(child.crashes) <= crash_retries:
                        echo(f"{child.where}: child flow run {run.id} crashed ({run.state.message}); "
                             f"running it again (a retry applies only what is still pending)")
                        waiting[_start(child)] = child
            if waiting:
                time.sleep(poll_s)


def _cancel_unstarted(client: Any, run: Any, child: Child, start_timeout_s: float) -> bool:
    """Cancel ``run`` when it is still only scheduled after ``start_timeout_s``; True when it was. A worker that
    takes it a moment later finds it Cancelled and does not start it (a final state admits no Running)."""
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    if run.state.type != StateType.SCHEDULED or time.monotonic() - child.started_at < start_timeout_s:
        return False
    pool = run.work_pool_name or "its work pool"
    why = (f"no worker of {pool} started child flow run {run.id} within {start_timeout_s:g} s; it was cancelled "
           "and nothing of it ran")
    answer = client.set_flow_run_state(run.id, Cancelled(message=why))
    if getattr(answer.status, "value", answer.status) != "ACCEPT":
        return False  # a worker took it in the meantime: wait for it as for any other
    child.state, child.unstarted = answer.state, why
    return True


def _start(child: Child) -> UUID:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    attempt = len(child.runs) + 1
    kind = child.deployment.split("/")[-1]  # tenant-apply-<env>-<tenant>[+<more>]-<attempt>
    tenants = child.parameters.get("tenants") or [child.parameters["tenant"]]
    more = f"+{len(tenants) - 1}" if len(tenants) > 1 else ""
    name = f"{kind}-{child.parameters['env']}-{tenants[0]}{more}-{attempt}"
    # timeout=0: returns once the run exists; run_children waits for all of a wave's runs at once
    run: FlowRun = run_deployment(  # type: ignore[assignment]
        child.deployment, parameters=child.parameters, timeout=0, as_subflow=True,
        tags=[TENANT_TAG, *(f"tenant:{t}" for t in tenants)], flow_run_name=name)
    child.runs.append(run.id)
    child.started_at, child.unstarted = time.monotonic(), None
    return run.id


def submit_wave(run: Rollout, wave: Sequence[TenantTarget], to_version: str | None,
                approval: dict[str, str] | None) -> list[tuple[TenantTarget, Any]]:
    """Each tenant of the wave with something whose ``result()`` is apply_tenant's: its task's future, or
    (fan_out="deployments") its finished child flow run(s)."""
    if run.fan_out == "in-process":
        return run.paced(wave, lambda t: t, lambda t: apply_tenant.submit(*run.args, t, run.run_id, to_version,
                                                                           False, approval))
    children = apply_children(run.args, [t.name for t in wave], run.run_id, to_version, approval,
                              run.tenants_per_run)
    run_children(children, get_run_logger().info, start_timeout_s=run.child_start_timeout_s)
    child_of = {name: child for child in children for name in child.parameters["tenants"]}
    return [(t, Member(child_of[t.name], t.name)) for t in wave]


def roll_back_one(run: Rollout, tenant: TenantTarget, start_version: str | None) -> tuple[list[str], str | None]:
    """rollback_tenant's answer (versions undone, the irreversible one it stopped at), wherever it ran."""
    if run.fan_out == "in-process":
        return rollback_tenant(*run.args, tenant, run.run_id, start_version)
    child = rollback_child(run.args, tenant.name, run.run_id, start_version)
    run_children([child], get_run_logger().info, start_timeout_s=run.child_start_timeout_s)
    result: tuple[list[str], str | None] = child.result()
    return result


def apply_children(args: tuple[str, str | None, str], tenants: Sequence[str], run_id: str,
                   to_version: str | None, approval: dict[str, str] | None, per_run: int = 1) -> list[Child]:
    """The wave's tenants in child runs of ``per_run`` tenants each (the last may hold fewer)."""
    env, config, migrations = args
    groups = [list(tenants[i:i + per_run]) for i in range(0, len(tenants), per_run)]
    return [Child(", ".join(group), APPLY_DEPLOYMENT,
                  {"env": env, "tenants": group, "run_id": run_id, "config": config, "migrations": migrations,
                   "to_version": to_version, "approval": approval})
            for group in groups]


def rollback_child(args: tuple[str, str | None, str], tenant: str, run_id: str, start_version: str | None) -> Child:
    env, config, migrations = args
    return Child(tenant, ROLLBACK_DEPLOYMENT, {"env": env, "tenant": tenant, "run_id": run_id, "config": config,
                                               "migrations": migrations, "start_version": start_version},
                 shape=lambda v: (v["undone"], v["blocked_at"]))
