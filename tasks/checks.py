"""Tasks before and between waves: window, lint, gates, backups, host limits. Thin over the core."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectAlreadyExists

from dualpath import tenants as core
from dualpath.backup import BackupSettings
from dualpath.changes import Change
from dualpath.gates import GateResult, check_gates
from dualpath.risk.lint import lint_paths
from dualpath.risk.model import Finding, severity_rank
from dualpath.tasks.common import TASK_OPTIONS, retry_transient
from dualpath.tenants import TenantTarget
from dualpath.windows import check_window, describe_wait, parse_window


@task(name="window-gate", **TASK_OPTIONS)
def window_gate(window: str | None, wait: bool) -> str:
    """Inside the maintenance window, or (``wait``) sleep until it opens; else refuse with the next opening."""
    if not window:
        return "no window: any time"
    parsed = parse_window(window)
    now = datetime.now(UTC)
    if wait and not parsed.is_open(now):
        opens = parsed.next_opening(now)
        get_run_logger().info("waiting %s for the window '%s' to open at %s", describe_wait(opens - now),
                              window, opens.isoformat())
        time.sleep(max(0.0, (opens - now).total_seconds()) + 1)
    check_window(window)
    closes = parsed.closes_at(datetime.now(UTC))
    return f"inside '{window}' until {closes.isoformat() if closes else '?'}"


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
    settings = BackupSettings.model_validate(ctx.settings.backup)
    if ctx.env.backup == "always":
        settings = settings.model_copy(update={"always": True})
    changes: list[Change] = [c for c in core.read_tenant_changes(
        tenant, ctx.migrations, ctx.settings.sources.follow_links_outside, ctx.settings.rollback.missing)
        if c.version in versions]
    if ctx.env.backup == "never":  # irreversible changes are backed up regardless
        changes = [c for c in changes if c.irreversible is not None]
    backup_id = core.back_up_tenant(tenant, changes, ctx.env.backup_to, settings)
    get_run_logger().info("backup of %s: %s", tenant.name, backup_id or "nothing at risk before this run")
    return backup_id


@task(name="ensure-host-limits", **TASK_OPTIONS)
def ensure_host_limits(keys: list[str], limit: int) -> None:
    """One global concurrency limit per database host, created or resized to ``limit`` slots."""
    with get_client(sync_client=True) as client:
        for key in sorted(set(keys)):
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=key, limit=limit))
            except ObjectAlreadyExists:
                client.update_global_concurrency_limit(key, GlobalConcurrencyLimitUpdate(limit=limit))
