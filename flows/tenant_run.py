"""A tenant's apply (or rollback) as a flow run of its own: what the migrate flow's waves hand to the
workers of a work pool when ``fan_out="deployments"`` (see flows/fan_out.py and docs/operating.md).

An apply run may carry several tenants (the parent's ``tenants_per_run``): a new flow run costs its worker
a Python process that imports Prefect, dualpath and Great Expectations (seconds of CPU each time), which
a group pays once. The group's tenants run side by side as in the parent's own process, each in its host's
slot; every tenant gets its own outcome, and the run ends Failed when any tenant failed (``GroupFailed``
carries every outcome to the parent).

Each child runs the very tasks the in-process path runs (``apply_tenant``, ``rollback_tenant``), so it
occupies the same ``db-host:<host:port>`` global concurrency slot: any number of workers on any number
of machines never open more than the host's limit of migrations against one database server.

Parameters carry the tenant's *name*, never its URL: parameters are stored on the Prefect server and
shown in its UI, and a URL may hold a password. The child resolves the tenant from dualpath.toml,
as every worker of the pool reads it from the checkout the deployment points at.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from dualpath.errors import UsageError
from dualpath.flows.outcomes import group_failed, portable_error
from dualpath.tasks.tenant import apply_tenant, rollback_tenant
from dualpath.tenants import TenantTarget, open_environment, resolve_tenants

APPLY_FLOW = "dualpath-tenant-apply"
ROLLBACK_FLOW = "dualpath-tenant-rollback"
TENANT_TAG = "dualpath-tenant"  # every child run carries it: the zombie automation watches only these


def tenant_of(env: str, config: str | None, migrations: str | None, tenant: str) -> TenantTarget:
    """The one tenant named ``tenant`` of environment ``env``, as dualpath.toml on this worker says."""
    ctx = open_environment(env, config, migrations)
    found = resolve_tenants(ctx.env, tenant)
    if len(found) != 1:
        raise UsageError(f"tenant {tenant!r} names {len(found)} tenants of {env}", hint="pass one tenant name")
    return found[0]


# persist_result: the parent reads the return value from the result storage (shared by every worker and the
# parent: PREFECT_LOCAL_STORAGE_PATH on one machine, a PREFECT_DEFAULT_RESULT_STORAGE_BLOCK across machines)
# no flow_run_name: the parent names each run, attempt included (tenant-apply-<env>-<tenant>[+n]-<attempt>)
@flow(name=APPLY_FLOW, persist_result=True)
def tenant_apply(env: str, tenants: list[str], run_id: str, config: str | None = None,
                 migrations: str | None = None, to_version: str | None = None,
                 approval: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Baseline, apply and validate ``tenants`` of run ``run_id`` (the parent's flow run id, which their history
    rows name), side by side; each tenant's ``{"applied", "validation_result", "phases"}``. When any failed
    the run raises ``GroupFailed`` with every outcome; a retry is safe: only what is still pending runs."""
    targets = [tenant_of(env, config, migrations, name) for name in tenants]
    futures = [(t, apply_tenant.submit(env, config, migrations, t, run_id, to_version, False, approval))
               for t in targets]
    outcomes: dict[str, dict[str, Any]] = {}
    for target, future in futures:
        try:
            applied, result, phases = future.result()
        except Exception as exc:  # noqa: BLE001 - one tenant's failure is its outcome; the others go on
            outcomes[target.name] = {"error": portable_error(exc, target.name)}
        else:
            outcomes[target.name] = {"applied": applied, "validation_result": result, "phases": phases}
    failure = group_failed(outcomes)
    if failure is not None:
        raise failure
    return outcomes


@flow(name=ROLLBACK_FLOW, persist_result=True)
def tenant_rollback(env: str, tenant: str, run_id: str, start_version: str | None, config: str | None = None,
                    migrations: str | None = None) -> dict[str, Any]:
    """Undo run ``run_id``'s changes on one tenant back to ``start_version``; ``{"undone", "blocked_at"}``."""
    target = tenant_of(env, config, migrations, tenant)
    undone, blocked_at = rollback_tenant(env, config, migrations, target, run_id, start_version)
    return {"undone": undone, "blocked_at": blocked_at}
