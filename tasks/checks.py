"""Tasks before and between waves: window, lint, gates, backups, host limits. Thin over the core."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectAlreadyExists

from dualpath import tenants as core
from dualpath.backup import BackupSettings
from dualpath.changes import Change
from dualpath.gates import GateResult, check_gates
from dualpath.host_limits import HostLimit, differs
from dualpath.risk.lint import lint_paths
from dualpath.risk.model import Finding, severity_rank
from dualpath.tasks import clock
from dualpath.tasks.common import TASK_OPTIONS, retry_transient
from dualpath.tenants import TenantTarget
from dualpath.windows import admit, check_window, describe_wait


@task(name="window-gate", **TASK_OPTIONS)
def window_gate(window: str | None, wait: bool, grace_s: float, hint: str | None = None) -> str:
    """Inside the maintenance window; started at most ``grace_s`` before it opens (a worker picks a
    scheduled run up a moment early), or with ``wait``, sleep until the opening (the sleep is computed
    from the clock, so it ends there); else refuse, naming the next opening."""
    logger = get_run_logger()
    while True:
        now = clock.now()
        admission = admit(window, now, grace_s)
        if admission.verdict == "open":
            return (f"inside '{window}' until {admission.closes.isoformat()}" if admission.closes
                    else "no window: any time")
        if admission.verdict == "closed" and not wait:
            check_window(window, now, hint)  # raises, naming the next opening (and how to wait for it)
        opens = admission.opens.isoformat() if admission.opens else "?"
        if admission.verdict == "wait":
            logger.info("started %.2f s before the window '%s' opens at %s (within the %g s grace): waiting for "
                        "the opening", admission.wait_s, window, opens, grace_s)
        else:
            logger.info("waiting %s for the window '%s' to open at %s",
                        describe_wait(timedelta(seconds=admission.wait_s)), window, opens)
        clock.sleep(admission.wait_s)


@task(name="lint-changes", **TASK_OPTIONS)
def lint_changes(migrations: str, dialect: str, files: list[str]) -> list[Finding]:
    """Lint findings on the files of the changes about to run (applied ones are history)."""
    wanted = {str(Path(f).resolve()) for f in files}
    findings = lint_paths([Path(migrations)], dialect=dialect)
    return [f for f in findings if str(Path(f.file).resolve()) in wanted]


def blocking_findings(findings: list[Finding], fail_on: str) -> list[Finding]:
    if fail_on == "never":
        return []
    bar = severity_rank(fail_on)
    return [f for f in findings if severity_rank(f.severity) >= bar]


@task(name="check-gates", retries=1, retry_condition_fn=retry_transient, **TASK_OPTIONS)
def run_gates(env: str, config: str | None, migrations: str | None, tenants: list[TenantTarget]) -> list[GateResult]:
    ctx = core.open_environment(env, config, migrations)
    results = check_gates(ctx.env.gates, core.tenants_as_pairs(tenants))
    for r in results:
        get_run_logger().info(r.describe())
    return results


@task(name="backup-tenant", retries=1, retry_condition_fn=retry_transient, **TASK_OPTIONS)
def backup_tenant(env: str, config: str | None, migrations: str | None, tenant: TenantTarget,
                  versions: list[str]) -> str | None:
    """A verified backup of what the destructive or irreversible changes touch; the backup id or None."""
    ctx = core.open_environment(env, config, migrations)
    settings = backup_settings(ctx)
    backup_id = core.back_up_tenant(tenant, backup_changes(ctx, tenant, versions), ctx.env.backup_to, settings)
    get_run_logger().info("backup of %s: %s", tenant.name, backup_id or "nothing at risk before this run")
    return backup_id


@task(name="backup-tenants", retries=1, retry_condition_fn=retry_transient, **TASK_OPTIONS)
def backup_tenants(env: str, config: str | None, migrations: str | None, tenants: list[TenantTarget],
                   versions: dict[str, list[str]]) -> dict[str, str | None]:
    """Verified backups of a group of schema tenants of one database, from one shared dump; their ids."""
    ctx = core.open_environment(env, config, migrations)
    changes = {t.name: backup_changes(ctx, t, versions[t.name]) for t in tenants}
    ids = core.back_up_tenants(tenants, changes, ctx.env.backup_to, backup_settings(ctx))
    logger = get_run_logger()
    for name, backup_id in ids.items():
        logger.info("backup of %s: %s", name, backup_id or "nothing at risk before this run")
    return ids


def backup_settings(ctx: core.EnvironmentContext) -> BackupSettings:
    settings = BackupSettings.model_validate(ctx.settings.backup)
    return settings.model_copy(update={"always": True}) if ctx.env.backup == "always" else settings


def backup_changes(ctx: core.EnvironmentContext, tenant: TenantTarget, versions: list[str]) -> list[Change]:
    changes: list[Change] = [c for c in core.read_tenant_changes(
        tenant, ctx.migrations, ctx.settings.sources.follow_links_outside, ctx.settings.rollback.missing)
        if c.version in versions]
    if ctx.env.backup == "never":  # irreversible changes are backed up regardless
        changes = [c for c in changes if c.irreversible is not None]
    return changes


@task(name="ensure-host-limits", **TASK_OPTIONS)
def ensure_host_limits(limits: list[HostLimit]) -> list[str]:
    """One global concurrency limit per database host, created with its host's size when missing and
    never changed when it exists (every run and environment on this Prefect server shares it);
    a note for each existing limit that differs from what the config says."""
    notes: list[str] = []
    logger = get_run_logger()
    with get_client(sync_client=True) as client:
        for limit in limits:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=limit.key,
                                                                                    limit=limit.slots))
                logger.info("created the concurrency limit %s with %d slot(s) (%s)", limit.key, limit.slots,
                            limit.source)
                continue
            except ObjectAlreadyExists:  # made earlier, or by a run starting at the same moment
                existing = client.read_global_concurrency_limit_by_name(limit.key)
            note = differs(limit, existing.limit, existing.active)
            if note:
                logger.warning(note)
                notes.append(note)
    return notes
