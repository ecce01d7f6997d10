"""Two flows: ``rollback`` takes an environment's tenants back to a version (newest change first, last
wave first); ``restore`` restores one tenant's backup into a scratch database and checks it against its
manifest.

Decisions live in the core (``dualpath.tenants.rollback_tenant`` stops before an irreversible change;
``restore_tenant`` never restores over a live database); this module sequences tasks and tells Slack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from dualpath.errors import RunFailed, UsageError
from dualpath.flows.approval import preapproved, wait_for_approval
from dualpath.flows.rollout_run import open_notifier
from dualpath.host_limits import host_limits
from dualpath.rollout import TenantRollback, rollback_report_markdown
from dualpath.slack.client import Failure, Notifier, Rollback, RunInfo
from dualpath.tasks.checks import ensure_host_limits
from dualpath.tasks.report import publish_document
from dualpath.tasks.tenant import restore_tenant, rollback_tenant, tenant_version
from dualpath.tenants import EnvironmentContext, TenantTarget, open_environment, plan_waves, resolve_tenants


@dataclass
class _Run:
    """What both flows open first: the environment, its tenants, Slack, the run's identity."""

    ctx: EnvironmentContext
    targets: list[TenantTarget]
    run_id: str
    notifier: Notifier
    info: RunInfo
    args: tuple[str, str | None, str]
    started: float


def _open_run(env: str, config: str | None, migrations: str | None, tenants: str, what: str) -> _Run:
    """Nothing is told yet: the caller checks its inputs, then ``run.notifier.run_started(run.info)``."""
    ctx = open_environment(env, config, migrations)
    targets = resolve_tenants(ctx.env, tenants)
    run_id = str(flow_run.id or "local")
    notifier = open_notifier(ctx)
    info = RunInfo(run_id=run_id, env=env, target=what.format(n=len(targets)), window=ctx.env.window,
                   tenants=len(targets), approvers=tuple(ctx.env.approvers))
    return _Run(ctx, targets, run_id, notifier, info, (env, config, str(ctx.migrations)), time.monotonic())


@flow(name="dualpath-restore", flow_run_name="restore-{env}-{backup_id}")
def restore(env: str, backup_id: str, tenants: str, restore_into: str | None = None, config: str | None = None,
            migrations: str | None = None, report_dir: str | None = None) -> dict[str, Any]:
    """Restore ``backup_id`` of one tenant into ``restore_into`` (an empty scratch database; never over the
    tenant itself) and check it against its manifest."""
    run = _open_run(env, config, migrations, tenants, "restore of {n} tenant(s)")
    run.notifier.run_started(run.info)
    if len(run.targets) != 1:
        raise UsageError("a backup belongs to one tenant: name it with tenants=<name>",
                         hint=f"tenants: {', '.join(t.name for t in run.targets)}")
    tenant = run.targets[0]
    restored = restore_tenant(*run.args, tenant, backup_id, restore_into)
    text = (f"# dualpath restore {run.run_id}: restored\n\nBackup **{backup_id}** of tenant **{tenant.name}** "
            f"restored into {restored['into']} and checked against its manifest (fingerprint "
            f"`{restored['fingerprint_digest'][:12]}`).\n\n| table | rows |\n| --- | --- |\n"
            + "\n".join(f"| {t} | {n} |" for t, n in sorted(restored["row_counts"].items())))
    path = publish_document(env, "restore", run.run_id, text, f"restore of {backup_id}", report_dir)
    run.notifier.run_rolled_back(run.info, Rollback(reason=f"backup {backup_id} restored into {restored['into']}",
                                                    tenants=1, duration_s=time.monotonic() - run.started))
    return {"run_id": run.run_id, "outcome": "restored", "report": path, **restored}


@flow(name="dualpath-rollback", flow_run_name="rollback-{env}")
def rollback(env: str, to_version: str | None = None, backup_id: str | None = None, tenants: str = "all",
             restore_into: str | None = None, config: str | None = None, migrations: str | None = None,
             approve: bool = False, approver: str | None = None, report_dir: str | None = None) -> dict[str, Any]:
    """Roll ``tenants`` back to ``to_version``; with ``backup_id`` instead, the ``restore`` flow runs (kept
    here for deployments that already pass it)."""
    if (to_version is None) == (backup_id is None):
        raise UsageError("give either to_version (roll back to a version) or backup_id (restore a backup)",
                         hint="pass exactly one of the two parameters")
    if backup_id is not None:
        return restore(env, backup_id, tenants, restore_into, config, migrations, report_dir)
    assert to_version is not None
    return _roll_back_to(env, to_version, tenants, config, migrations, approve, approver, report_dir)


def _roll_back_to(env: str, to_version: str, tenants: str, config: str | None, migrations: str | None,
                  approve: bool, approver: str | None, report_dir: str | None) -> dict[str, Any]:
    """Every tenant back to ``to_version``: newest change first, the last wave first."""
    run = _open_run(env, config, migrations, tenants, "rollback of {n} tenant(s)")
    ctx = run.ctx
    limits = host_limits(ctx.settings, env, run.targets)  # two settings that disagree: an input error, before anything
    run.notifier.run_started(run.info)
    text = (f"## Roll back {len(run.targets)} tenant(s) of **{env}** to version **{to_version}**\n\n"
            "Newest change first, the last wave first; a tenant stops before an irreversible change.")
    if ctx.env.approval == "always":
        approval = preapproved(approver, ctx.env.approvers) if approve else \
            wait_for_approval(text, ctx.env.approval_timeout_s, ctx.env.approvers)
        get_run_logger().info(approval.headline)
    notes = ensure_host_limits(limits)
    results = [roll_back_tenant(run.args, t, run.run_id, to_version)
               for wave in reversed(plan_waves(run.targets, ctx.env.wave_size)) for t in wave]
    troubled = [r for r in results if r.error or r.blocked_at]
    outcome = "rolled back" if not troubled else "incomplete"
    report = rollback_report_markdown(env, run.run_id, outcome, to_version, results, notes)
    path = publish_document(env, "rollback", run.run_id, report, f"rollback {run.run_id}: {outcome}", report_dir)
    if troubled:
        first = troubled[0]
        run.notifier.run_failed(run.info, Failure(
            what=f"rollback to {to_version} incomplete", tenant=first.name,
            error=first.error or f"{first.blocked_at} is irreversible",
            next_step="restore the tenant from its backup (backup_id=...)",
            rolled_back=tuple(f"{r.name}: {v}" for r in results for v in r.undone)))
        raise RunFailed(f"rollback to {to_version}: {len(troubled)} tenant(s) did not get there "
                        f"({first.name}: {first.error or 'irreversible ' + str(first.blocked_at)})",
                        where=f"environment {env}", hint="see the report; restore blocked tenants from a backup")
    run.notifier.run_rolled_back(run.info, Rollback(
        reason=f"rollback to {to_version} requested", to_version=to_version,
        undone=tuple(f"{r.name}: {v}" for r in results for v in r.undone),
        tenants=sum(bool(r.undone) for r in results), duration_s=time.monotonic() - run.started))
    return {"run_id": run.run_id, "outcome": outcome, "report": path,
            "tenants": [{"name": r.name, "state": r.state, "undone": r.undone, "version": r.version_after}
                        for r in results]}


def roll_back_tenant(args: tuple[str, str | None, str], tenant: TenantTarget, run_id: str,
                     to_version: str) -> TenantRollback:
    result = TenantRollback(tenant.name, tenant_version(*args, tenant))
    try:
        result.undone, result.blocked_at = rollback_tenant(*args, tenant, run_id, to_version)
    except Exception as exc:  # one tenant's failure is reported; the others still go back
        result.error = str(getattr(exc, "message", exc))
    result.version_after = tenant_version(*args, tenant)
    return result
