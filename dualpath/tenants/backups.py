"""Tenants' backups before a rollout: one per tenant, or (schema tenants of one database) one shared dump
for a group of them, each tenant still with its own verified backup id and manifest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dualpath.backup import (
    BackupSettings,
    Member,
    affected_tables,
    create_backup,
    create_shared_backup,
    ensure_backup_for,
    needs_backup,
)
from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.errors import DualpathError, TargetRefused
from dualpath.tenants.targets import TenantTarget
from dualpath.urls import parse_url, redact, safe_url


def back_up_tenant(tenant: TenantTarget, changes: Sequence[Change], dest: str | None,
                   settings: BackupSettings) -> str | None:
    """A verified backup before destructive or irreversible changes; the backup id, or None when
    nothing is at risk yet (the tables they touch do not exist before this run: it creates them)."""
    engine = open_engine(tenant.resolved_url())
    protected, tables = at_risk(engine, changes, settings)
    if not protected:
        return None
    schema = tenant.schema
    if schema:
        return _back_up_schema_tenant(engine, schema, protected, tables, dest, settings)
    manifest = ensure_backup_for(protected, tenant.resolved_url(), dest, settings)
    return manifest.backup_id if manifest else None


def share_groups(tenants: Sequence[TenantTarget], settings: BackupSettings) -> list[list[TenantTarget]]:
    """``tenants`` in backup groups, in order: schema tenants of one database together when their engine
    can share a dump and the policy backs up tables (``scope = "database"`` wants a whole database per
    backup); every other tenant alone."""
    groups: dict[str, list[TenantTarget]] = {}
    for tenant in tenants:
        key = tenant.name
        if tenant.schema is not None and settings.scope == "tables":
            dumper = open_engine(tenant.resolved_url()).dumper(settings.tools)
            if dumper.shares_artifact:
                whole = dumper.database_url(parse_url(tenant.resolved_url()))
                key = "\0" + whole.render_as_string(hide_password=False)  # never a tenant's name
        groups.setdefault(key, []).append(tenant)
    return list(groups.values())


def back_up_tenants(tenants: Sequence[TenantTarget], changes: Mapping[str, Sequence[Change]], dest: str | None,
                    settings: BackupSettings) -> dict[str, str | None]:
    """Backups of one group of ``share_groups``: tenant name → backup id (None: nothing at risk). Schema
    tenants with something at risk share one dump; if it fails, every one of them fails with it."""
    if len(tenants) == 1 or tenants[0].schema is None:
        return {t.name: back_up_tenant(t, changes.get(t.name, []), dest, settings) for t in tenants}
    ids: dict[str, str | None] = {t.name: None for t in tenants}
    members: list[Member] = []
    for tenant in tenants:
        engine = open_engine(tenant.resolved_url())
        protected, tables = at_risk(engine, changes.get(tenant.name, []), settings)
        if protected:
            schema = tenant.schema or ""
            members.append(Member(tenant.name, engine.url, schema, _qualified(schema, tables),
                                  [c.version for c in protected]))
    if len(members) == 1:  # one tenant at risk: its own backup, as always
        only = next(t for t in tenants if t.name == members[0].name)
        ids[only.name] = back_up_tenant(only, changes.get(only.name, []), dest, settings)
    elif members:
        ids.update({name: m.backup_id for name, m in _create_shared(members, dest, settings).items()})
    return ids


def at_risk(engine: Any, changes: Sequence[Change], settings: BackupSettings) -> tuple[list[Change], list[str] | None]:
    """The changes that need a backup first, and the existing tables they put at risk (None: all of
    them); no changes when nothing that exists is at risk."""
    protected = [c for c in changes if settings.always or needs_backup(c, engine.name)]
    tables = affected_tables(protected, engine.name) if protected else []
    if tables is None or not protected:
        return protected, None
    with engine.connect() as conn:
        existing = [t for t in tables if engine.table_exists(conn, t)]
    if not existing:
        return [], None
    if len(existing) < len(tables):  # only what exists can be lost; the rest this run creates
        protected = [c for c in protected if set(affected_tables([c], engine.name) or existing) & set(existing)]
    return protected, existing


def _create_shared(members: list[Member], dest: str | None, settings: BackupSettings) -> dict[str, Any]:
    names = ", ".join(m.name for m in members)
    if dest is None and settings.destination is None:
        raise TargetRefused(f"tenant(s) {names} have destructive or irreversible changes and no backup "
                            "destination is set", hint="configure backup.destination (file:// or s3://) and run again")
    try:
        return create_shared_backup(members, dest, settings.model_copy(update={"verify": True}))
    except Exception as exc:  # no proven backup, no destructive change: for any tenant of the dump
        why = exc.message if isinstance(exc, DualpathError) else f"{type(exc).__name__}: {exc}"
        raise TargetRefused(f"tenants {names} not migrated: their shared backup (one dump of "
                            f"{safe_url(open_engine(members[0].url).url)}) failed or could not be verified: "
                            f"{redact(why)}", where=f"tenants {names}",
                            hint="fix the backup destination or tools and run again; nothing was changed") from None


def _qualified(schema: str, tables: list[str] | None) -> list[str] | None:
    # pg_dump matches -t without the URL's search_path: an unqualified name would find nothing
    return None if tables is None else [t if "." in t else f"{schema}.{t}" for t in tables]


def _back_up_schema_tenant(engine: Any, schema: str, changes: Sequence[Change], tables: list[str] | None,
                           dest: str | None, settings: BackupSettings) -> str:
    """A schema tenant's backup: its tables named with its schema (the whole schema when the changes do
    not say which), never its neighbours'."""
    label = ", ".join(c.version for c in changes)
    if dest is None and settings.destination is None:
        raise TargetRefused(f"change(s) {label} are destructive or irreversible and no backup destination is set",
                            hint="configure backup.destination (file:// or s3://) and run again")
    if tables is None:
        with engine.connect() as conn:
            tables = list(engine.iter_tables(conn))
    try:
        manifest = create_backup(engine.url, _qualified(schema, tables), [c.version for c in changes], dest,
                                 settings.model_copy(update={"verify": True}))
    except Exception as exc:  # no proven backup, no destructive change
        why = exc.message if isinstance(exc, DualpathError) else f"{type(exc).__name__}: {exc}"
        raise TargetRefused(f"change(s) {label} not run: their backup failed or could not be verified: "
                            f"{redact(why)}",
                            where=f"schema {schema}", hint="fix the backup destination or tools and run again; "
                            "nothing was changed") from None
    return manifest.backup_id
