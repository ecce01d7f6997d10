"""What one tenant does in a rollout: migrate, roll back, plan, verify, restore, fingerprint (back up: backups)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dualpath.apply import Runner
from dualpath.backup import BackupSettings
from dualpath.config import Settings, interpolate
from dualpath.errors import UsageError
from dualpath.urls import endpoint, parse_url, server_and_database

if TYPE_CHECKING:
    from dualpath.plan import Plan

from dualpath.tenants.targets import TenantTarget, applied_since


def migrate_tenant(runner: Runner, to_version: str | None, dry_run: bool = False) -> list[str]:
    """Apply the tenant's pending changes; the versions applied, in order."""
    summary = runner.apply(to=to_version, dry_run=dry_run)
    return [version for version, _, _ in summary.done]


def rollback_tenant(runner: Runner, start_version: str | None) -> tuple[list[str], str | None]:
    """Undo what was applied above ``start_version``, newest first, stopping before an
    irreversible change; the versions undone and the irreversible version it stopped at."""
    from dualpath.rollout import split_at_irreversible

    undoable, blocker = split_at_irreversible(applied_since(runner, start_version))
    if undoable:
        runner.rollback(steps=len(undoable))
    return [c.version for c in undoable], blocker.version if blocker else None


def plan_tenant(runner: Runner, settings: Settings, to_version: str | None) -> Plan | None:
    """The plan (``dualpath.plan.build_plan``) of the tenant's pending changes: steps with their locks and
    estimates, rollback steps, gates, prerequisites and findings. None when nothing is pending."""
    from dualpath.estimates import load_throughput
    from dualpath.plan import build_plan, read_target

    engine = runner.engine
    with engine.connect() as conn:
        pending = runner.pending_up(runner.states(conn), to_version)
        conn.rollback()
    if not pending:
        return None
    # host/database only: a URL with user@host reads as an email address (and links as one) in Markdown
    label = f"tenant {runner.target.name} ({server_and_database(runner.target.url)})"
    target = read_target(engine, label, runner.target.safety.lock_timeout_ms)
    return build_plan(pending, target, settings=settings, throughput=load_throughput(settings.root, engine.flavor))


def verify_tenant(runner: Runner, settings: Settings, to_version: str | None, sample_rows: int = 0) -> Any:
    """Round trip (up → down → up) of the tenant's pending changes on a shadow of it: a ``Verification``."""
    from dualpath.verify import verify_changes

    with runner.engine.connect() as conn:
        pending = runner.pending_up(runner.states(conn), to_version)
        conn.rollback()
    return verify_changes(runner.engine, pending, migrations=runner.target.migrations, safety=runner.target.safety,
                          sample_rows=sample_rows, pii_columns=settings.pii_columns, echo=runner.echo)


def restore_tenant(tenant: TenantTarget, backup_id: str, into: str | None, dest: str | None,
                   settings: BackupSettings) -> Any:
    """Restore one of the tenant's backups into an empty scratch database (never over the tenant itself)
    and prove it matches its manifest: a ``RestoreReport``. ``into`` defaults to ``<database>_restore``."""
    from dualpath.backup import restore_backup

    url = parse_url(tenant.resolved_url())
    scratch = parse_url(interpolate(into, where="restore into")) if into else \
        url.set(database=f"{url.database}_restore")
    if scratch.database == url.database and endpoint(scratch) == endpoint(url):
        raise UsageError("a backup is restored into a scratch database, never over the tenant itself",
                         where=f"tenant {tenant.name}", hint="give another database to restore into")
    return restore_backup(dest, backup_id, scratch, settings)  # a schema scratch gets its schema there


def fingerprint_tenant(runner: Runner) -> str:
    with runner.engine.connect() as conn:
        digest = runner.engine.fingerprint(conn).digest
        conn.rollback()
    return digest
