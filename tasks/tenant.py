"""Tasks on one tenant: pre-flight, apply, roll back, fingerprint. Thin: the work is in dualpath.tenants.

Apply and roll back occupy one slot of the tenant's database host limit (``db-host:<host>``),
a Prefect global concurrency limit, so any number of workers never open more than
``host_concurrency`` migrations against one server at a time (``host_slot``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import task
from prefect.concurrency.sync import concurrency

from dualpath import tenants as core
from dualpath.apply import Runner
from dualpath.batching.progress import TimedProgress, default_progress
from dualpath.expectations import GreatExpectations
from dualpath.plan import Plan
from dualpath.rollout import Phase, apply_phases
from dualpath.tasks.common import TASK_OPTIONS, log_echo, names_tenant, retry_transient
from dualpath.tenants import Preflight, TenantTarget
from dualpath.validation.results import ValidationResult

VALIDATOR = GreatExpectations()  # the core's Validator; GX loads when a tenant is first validated


@contextmanager
def host_slot(ctx: core.EnvironmentContext, tenant: TenantTarget) -> Iterator[None]:
    """A slot of the tenant's host limit (Prefect's global concurrency limit). A process-wide semaphore in
    front of it (fewer pollers) was tried and taken out: a slot held by a task a killed run abandoned would
    stay taken for the life of the worker process, where Prefect's own lease expires."""
    with concurrency(tenant.concurrency_key, occupy=1):
        yield


def _open(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
          who: str | None = None) -> tuple[core.EnvironmentContext, Runner]:
    """The environment (dualpath.toml read and checked once per task) and the tenant's runner."""
    ctx = core.open_environment(env, config, migrations)
    actor = core.run_actor(run_id, ctx.migrations, who or ctx.settings.applied_by)
    return ctx, _runner_in(ctx, tenant, actor)


def _runner_in(ctx: core.EnvironmentContext, tenant: TenantTarget, actor: Any) -> Runner:
    return core.make_runner(tenant, ctx.settings, ctx.env, ctx.migrations, actor, log_echo())


def _runner(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
            who: str | None = None) -> Runner:
    return _open(env, config, migrations, tenant, run_id, who)[1]


@task(name="preflight-tenants", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
def preflight_tenants(env: str, config: str | None, migrations: str | None, tenants: list[TenantTarget],
                      run_id: str, to_version: str | None) -> dict[str, Preflight]:
    """Pre-flight of several tenants of one host, one after another in one slot of its limit: a pre-flight is
    a few catalog reads, and a task per tenant cost Prefect more (the task run, its states, a slot taken and
    given back through the server) than the reads themselves (1,000 tenants: ~200 s of a run's pre-flight).
    A tenant's refusal stops the chunk and names the tenant, as its own task would."""
    ctx = core.open_environment(env, config, migrations)  # once for the chunk: it stamps every file
    actor = core.run_actor(run_id, ctx.migrations, ctx.settings.applied_by)
    policy = core.role_policy(ctx.settings, env, ctx.env)
    found: dict[str, Preflight] = {}
    with host_slot(ctx, tenants[0]):
        for tenant in tenants:
            found[tenant.name] = _preflight_one(ctx, tenant, actor, to_version, policy)
    return found


@names_tenant
def _preflight_one(ctx: core.EnvironmentContext, tenant: TenantTarget, actor: Any, to_version: str | None,
                   policy: core.RolePolicy) -> Preflight:
    return core.preflight_tenant(_runner_in(ctx, tenant, actor), to_version, policy)


@task(name="apply-tenant", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def apply_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
                 to_version: str | None, dry_run: bool,
                 approval: dict[str, str] | None) -> tuple[list[str], ValidationResult | None, list[Phase]]:
    """Baseline, apply, validate; the versions applied, the validation result (None: nothing to check) and
    the timed phases (each change, the validation) for the report's timeline.
    A failed validation raises ``ValidationFailed`` carrying its result.
    A retry is safe: the runner applies only what is still pending and refuses half-done changes."""
    ctx, runner = _open(env, config, migrations, tenant, run_id, (approval or {}).get("approver"))
    with host_slot(ctx, tenant):
        if dry_run:
            return core.migrate_tenant(runner, to_version, dry_run), None, []
        plan = core.prepare_validation(tenant, ctx.settings, runner, to_version, VALIDATOR)
        if approval:
            core.record_approval(runner, approval)
        batches = TimedProgress(runner.progress or default_progress(runner.echo))  # a bar per batch
        runner.progress = batches
        done = [(version, ms) for version, _, ms in runner.apply(to=to_version).done]  # as migrate_tenant, timed
        applied_at = time.time()
        result = core.run_validation(tenant, plan, VALIDATOR, record=runner)
        phases = apply_phases(done, applied_at, time.time() if result is not None else None, batches.spans)
        return [version for version, _ in done], result, phases


@task(name="record-rejection", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def record_rejection(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
                     detail: dict[str, str]) -> None:
    """An audit row ``rejection`` on the tenant: the run it would have been, who said no, and why."""
    runner = _runner(env, config, migrations, tenant, run_id, detail.get("approver") or None)
    core.record_approval(runner, detail, action="rejection")


@task(name="rollback-tenant", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def rollback_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
                    start_version: str | None) -> tuple[list[str], str | None]:
    ctx, runner = _open(env, config, migrations, tenant, run_id)
    with host_slot(ctx, tenant):
        return core.rollback_tenant(runner, start_version)


@task(name="plan-tenant", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def plan_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
                to_version: str | None) -> Plan | None:
    """The full plan of the tenant's pending changes (steps, locks, estimates, rollback steps); None when
    nothing is pending."""
    ctx, runner = _open(env, config, migrations, tenant, run_id)
    return core.plan_tenant(runner, ctx.settings, to_version)


@task(name="fingerprint-tenant", retries=2, retry_condition_fn=retry_transient,
      **TASK_OPTIONS)
@names_tenant
def fingerprint_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget,
                       run_id: str) -> str:
    return core.fingerprint_tenant(_runner(env, config, migrations, tenant, run_id))


@task(name="verify-tenant", retries=1, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def verify_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, run_id: str,
                  to_version: str | None, sample_rows: int) -> dict[str, Any]:
    """Shadow round trip of the tenant's pending changes; ``Verification.as_dict()``."""
    ctx, runner = _open(env, config, migrations, tenant, run_id)
    return dict(core.verify_tenant(runner, ctx.settings, to_version, sample_rows).as_dict())


@task(name="restore-tenant", retries=1, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def restore_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget, backup_id: str,
                   into: str | None) -> dict[str, Any]:
    """Restore a backup of the tenant into a scratch database, checked against its manifest."""
    from dataclasses import asdict

    from dualpath.backup import BackupSettings

    ctx = core.open_environment(env, config, migrations)
    settings = BackupSettings.model_validate(ctx.settings.backup)
    return asdict(core.restore_tenant(tenant, backup_id, into, ctx.env.backup_to, settings))


@task(name="tenant-version", retries=2, retry_condition_fn=retry_transient, **TASK_OPTIONS)
@names_tenant
def tenant_version(env: str, config: str | None, migrations: str | None, tenant: TenantTarget) -> str | None:
    ctx = core.open_environment(env, config, migrations)
    return core.read_version(tenant, ctx.migrations, ctx.settings.sources.follow_links_outside).version
