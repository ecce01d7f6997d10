"""An environment's tenants: who they are, in which waves they go, and what one tenant does.

Tenants come from ``dualpath.toml`` as a list of URLs or a URL template over names:
database-per-tenant on one server, or (PostgreSQL) schema-per-tenant in one database, the
schema named by ``search_path`` in the URL's libpq options
(``postgresql://app@db/shop?options=-csearch_path%3Dtenant_{tenant}``). Each tenant keeps its own
history table (in its database or schema), so its version is read from the tenant itself. URLs
keep their ``${ENV}`` references until a tenant is opened, so a resolved tenant list can be
logged or passed as a parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dualpath import history
from dualpath.apply import Runner
from dualpath.backup import BackupSettings
from dualpath.changes import Change, version_key
from dualpath.config import Environment, Settings, Tenant, interpolate
from dualpath.engines import open_engine
from dualpath.errors import DualpathError, UsageError, VerificationFailed
from dualpath.history import Actor
from dualpath.sources import MissingPolicy, read_changes
from dualpath.status import read_states
from dualpath.target import Target
from dualpath.urls import endpoint, parse_url, redact, reveal, safe_url, server_and_database
from dualpath.validation.results import ValidationResult

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dualpath.plan import Plan
    from dualpath.validation.baseline import Baseline
    from dualpath.validation.invariants import Invariant
    from dualpath.validation.validator import Validator

Echo = Callable[[str], None]


@dataclass(frozen=True)
class TenantTarget:
    """One tenant as the rollout sees it; ``url`` may still hold ``${ENV}`` references."""

    name: str
    url: str
    canary: bool = False

    def resolved_url(self) -> str:
        return interpolate(self.url, where=f"tenant {self.name}")

    @property
    def host(self) -> str:
        """The database server it lives on: tenants on one host share a concurrency limit."""
        return endpoint(parse_url(self.resolved_url()))

    @property
    def schema(self) -> str | None:
        """Schema-per-tenant: the tenant's own schema in a database it shares; None when it has the database."""
        return schema_of(parse_url(self.resolved_url()))

    @property
    def concurrency_key(self) -> str:
        """The global concurrency limit this tenant's work occupies: one per database host (schema
        tenants of one database share it too: they load the same server)."""
        return "db-host:" + re.sub(r"[/%&<>]", "_", self.host)

    @property
    def display_url(self) -> str:
        return safe_url(parse_url(self.resolved_url()))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.display_url})"


@dataclass
class TenantVersion:
    name: str
    version: str | None  # the newest applied version; None when nothing is applied
    pending: int
    state: str  # up to date | pending | drifted | failed | unreachable
    detail: str = ""


def schema_of(url: URL) -> str | None:
    """The schema a URL confines its target to (PostgreSQL search_path in the options), else None."""
    scope = getattr(open_engine(url), "scope", None)
    return scope.only if scope is not None else None


def resolve_tenants(env: Environment, selection: str | Sequence[str] = "all") -> list[TenantTarget]:
    """The environment's tenants (canaries flagged), narrowed to ``selection`` ("all" or names)."""
    everyone = [TenantTarget(t.name, t.url, t.canary) for t in env.tenant_list()]
    if not everyone:
        raise UsageError("the environment has no tenants", where=env.where,
                         hint="list [[environments.<name>.tenants]] or set tenant_url_template and tenant_names")
    names = [n.strip() for n in (selection.split(",") if isinstance(selection, str) else selection) if n.strip()]
    if not names or names == ["all"]:
        return everyone
    known = {t.name: t for t in everyone}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown tenant(s): {', '.join(unknown)}", hint=f"known tenants: {', '.join(known)}")
    return [t for t in everyone if t.name in names]


def plan_waves(tenants: Sequence[TenantTarget], wave_size: int) -> list[list[TenantTarget]]:
    """Canaries first as a wave of their own, then the others in waves of ``wave_size``."""
    canaries = [t for t in tenants if t.canary]
    rest = [t for t in tenants if not t.canary]
    waves = [canaries] if canaries else []
    waves += [rest[i:i + wave_size] for i in range(0, len(rest), wave_size)]
    return waves


def tenant_target(tenant: TenantTarget, settings: Settings, migrations: Path, env: Environment) -> Target:
    return Target(tenant.name, parse_url(tenant.resolved_url()), migrations, env.safety or settings.safety)


def read_tenant_changes(tenant: TenantTarget, migrations: Path, follow_links_outside: bool = False,
                        missing_rollbacks: MissingPolicy = "irreversible") -> list[Change]:
    return read_changes(migrations, dialect=open_engine(tenant.resolved_url()).name,
                        follow_links_outside=follow_links_outside, missing_rollbacks=missing_rollbacks)


def read_version(tenant: TenantTarget, migrations: Path, follow_links_outside: bool = False,
                 missing_rollbacks: MissingPolicy = "irreversible") -> TenantVersion:
    """The tenant's current version, pending count and state; unreachable tenants say why."""
    try:
        engine = open_engine(tenant.resolved_url())
        changes = read_changes(migrations, dialect=engine.name, follow_links_outside=follow_links_outside,
                               missing_rollbacks=missing_rollbacks)
        with engine.connect() as conn:
            states = read_states(conn, changes)
    except DualpathError as exc:
        return TenantVersion(tenant.name, None, 0, "unreachable", exc.message)
    applied = [s.version for s in states if s.state == "applied"]
    pending = sum(s.state == "pending" for s in states)
    troubled = next((s.state for s in states if s.state in ("drifted", "failed", "missing", "unrecorded",
                                                             "unknown")), None)
    state = troubled or ("pending" if pending else "up to date")
    newest = max(applied, key=version_key) if applied else None
    return TenantVersion(tenant.name, newest, pending, state)


def make_runner(tenant: TenantTarget, settings: Settings, env: Environment, migrations: Path,
                actor: Actor, echo: Echo) -> Runner:
    target = tenant_target(tenant, settings, migrations, env)
    engine = open_engine(target.url)
    changes = read_changes(migrations, dialect=engine.name,
                           follow_links_outside=settings.sources.follow_links_outside,
                           missing_rollbacks=settings.rollback.missing)
    return Runner(target, engine, changes, actor, echo, settings.ticket_pattern,
                  out_of_order=settings.apply.out_of_order or not env.protected)


def applied_since(runner: Runner, start_version: str | None) -> list[Change]:
    """Changes applied on the tenant above ``start_version``, newest first: what a rollback undoes."""
    with runner.engine.connect() as conn:
        states = runner.states(conn)
        conn.rollback()
    floor = version_key(start_version) if start_version else None
    done = [s.change for s in states if s.state == "applied" and s.change is not None
            and (floor is None or s.change.sort_key > floor)]
    return sorted(done, key=lambda c: c.sort_key, reverse=True)


def tenants_as_pairs(tenants: Sequence[TenantTarget]) -> list[tuple[str, str]]:
    return [(t.name, t.resolved_url()) for t in tenants]


def tenant_from(tenant: Tenant) -> TenantTarget:
    return TenantTarget(tenant.name, tenant.url, tenant.canary)


def protecting_environment(settings: Settings, target: Target) -> str | None:
    """The protected environment a command's target belongs to, if any: named by the target
    (``[targets.X] environment = "prod"``), or found among the environment's tenant URLs (same
    backend, host, port and database; user and password do not matter)."""
    if target.name != "url":
        named = settings.targets[target.name].environment if target.name in settings.targets else None
        if named and named in settings.environments and settings.environments[named].protected:
            return named
    wanted = _identity(reveal(target.url))
    for name, env in settings.environments.items():
        if env.protected and any(_same_place(_identity(t.url), wanted) for t in env.tenant_list()):
            return name
    return None


def _same_place(a: tuple[str, str, str, str | None] | None, b: tuple[str, str, str, str | None] | None) -> bool:
    """Same database; and the same schema, unless one of them is the whole database (it holds the other)."""
    if a is None or b is None or a[:3] != b[:3]:
        return False
    return a[3] is None or b[3] is None or a[3] == b[3]


def _identity(url: str) -> tuple[str, str, str, str | None] | None:
    """Where a URL points, without credentials; None when it cannot be told without its secrets."""
    from dualpath.config import has_secret_refs

    try:
        text = interpolate(url, where="protected environment") if not has_secret_refs(url) else \
            _BLOCK_REF_FOR_MATCH.sub("x", url)
        parsed = parse_url(text)
    except DualpathError:
        return None
    from dualpath.urls import backend_of

    if backend_of(parsed) == "sqlite":
        return "sqlite", "", str(Path(parsed.database).resolve()) if parsed.database else ":memory:", None
    return backend_of(parsed), endpoint(parsed), str(parsed.database or ""), schema_of(parsed)


_BLOCK_REF_FOR_MATCH = re.compile(r"\{\{\s*prefect\.blocks\.secret\.[A-Za-z0-9_-]+\s*\}\}")


def approval_from_flow(runner: Runner, run_id: str, max_age_s: int) -> dict[str, Any] | None:
    """The approval the migrate flow run ``run_id`` recorded in this target's audit trail, if recent."""
    from datetime import timedelta

    with runner.engine.connect() as conn:
        rows = history.audit_rows(conn)
        conn.rollback()
    found = [r for r in rows if r["action"] == "approval" and r["run_id"] == run_id]
    if not found:
        return None
    row = found[-1]
    if history.now() - row["at"] > timedelta(seconds=max_age_s):
        return None
    return {"who": row["who"], "at": str(row["at"]), "ticket": row["ticket"],
            **(json.loads(row["detail"]) if row["detail"] else {})}


# -- what one tenant does in a rollout ---------------------------------------------------


@dataclass(frozen=True)
class Preflight:
    name: str
    server: str  # "postgresql 16.4"
    version: str | None
    pending: list[str]
    fingerprint: str  # digest of the schema before anything runs


def preflight_tenant(runner: Runner, to_version: str | None) -> Preflight:
    """Connect, read the server version and the tenant's history, refuse drift and half-done changes."""
    from dualpath.apply import refuse_drift, refuse_partial_failures

    engine = runner.engine
    with engine.connect() as conn:
        server = ".".join(str(p) for p in engine.server_version(conn))
        states = runner.states(conn)
        fingerprint = engine.fingerprint(conn).digest
        conn.rollback()
    refuse_drift(states)
    refuse_partial_failures(states)
    pending = [c.version for c in runner.pending_up(states, to_version)]
    applied = [s.version for s in states if s.state == "applied"]
    newest = max(applied, key=version_key) if applied else None
    return Preflight(runner.target.name, f"{engine.flavor} {server}", newest, pending, fingerprint)


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


# -- the environment a rollout works in -------------------------------------------------


@dataclass(frozen=True)
class EnvironmentContext:
    """Settings, the named environment and the migrations folder, loaded from plain strings
    (so flows and tasks pass only text around, and every task can rebuild it cheaply)."""

    name: str
    settings: Settings
    env: Environment
    migrations: Path


def open_environment(name: str, config: str | None = None, migrations: str | None = None) -> EnvironmentContext:
    from dualpath.config import environment, find_config, load_settings

    settings = load_settings(find_config(Path(config) if config else None))
    folder = Path(migrations) if migrations else settings.migrations_dir()
    return EnvironmentContext(name, settings, environment(settings, name), folder)


def record_approval(runner: Runner, approval: dict[str, str], action: str = "approval") -> None:
    """The approval (or, ``action="rejection"``, the refusal) lands in each tenant's own audit trail,
    next to the changes it allowed or stopped."""
    runner.engine.ensure_exists()
    with runner.engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        history.audit(conn, runner.actor, action, ticket=approval.get("ticket") or None,
                      detail={k: v for k, v in approval.items() if v})


def back_up_tenant(tenant: TenantTarget, changes: Sequence[Change], dest: str | None,
                   settings: BackupSettings) -> str | None:
    """A verified backup before destructive or irreversible changes; the backup id, or None when
    nothing is at risk yet (the tables they touch do not exist before this run: it creates them)."""
    from dualpath.backup import affected_tables, ensure_backup_for, needs_backup

    url = tenant.resolved_url()
    engine = open_engine(url)
    protected = [c for c in changes if settings.always or needs_backup(c, engine.name)]
    tables = affected_tables(protected, engine.name) if protected else []
    existing: list[str] = []
    if tables:
        with engine.connect() as conn:
            existing = [t for t in tables if engine.table_exists(conn, t)]
        if not existing:
            return None
        if len(existing) < len(tables):  # only what exists can be lost; the rest this run creates
            protected = [c for c in protected if set(affected_tables([c], engine.name) or existing) & set(existing)]
    schema = tenant.schema
    if schema and protected:
        return _back_up_schema_tenant(engine, schema, protected, existing if tables else None, dest, settings)
    manifest = ensure_backup_for(protected, url, dest, settings)
    return manifest.backup_id if manifest else None


def _back_up_schema_tenant(engine: Any, schema: str, changes: Sequence[Change], tables: list[str] | None,
                           dest: str | None, settings: BackupSettings) -> str:
    """A schema tenant's backup: its tables named with its schema (the whole schema when the changes do
    not say which), never its neighbours'. pg_dump matches ``-t`` without the URL's search_path, so an
    unqualified name would find nothing."""
    from dualpath.backup import create_backup
    from dualpath.errors import TargetRefused

    label = ", ".join(c.version for c in changes)
    if dest is None and settings.destination is None:
        raise TargetRefused(f"change(s) {label} are destructive or irreversible and no backup destination is set",
                            hint="configure backup.destination (file:// or s3://) and run again")
    if tables is None:
        with engine.connect() as conn:
            tables = list(engine.iter_tables(conn))
    qualified = [t if "." in t else f"{schema}.{t}" for t in tables]
    try:
        manifest = create_backup(engine.url, qualified, [c.version for c in changes], dest,
                                 settings.model_copy(update={"verify": True}))
    except Exception as exc:  # no proven backup, no destructive change
        why = exc.message if isinstance(exc, DualpathError) else f"{type(exc).__name__}: {exc}"
        raise TargetRefused(f"change(s) {label} not run: their backup failed or could not be verified: "
                            f"{redact(why)}",
                            where=f"schema {schema}", hint="fix the backup destination or tools and run again; "
                            "nothing was changed") from None
    return manifest.backup_id


# -- validation around a tenant's apply (by the Validator the caller hands in) ----------------


@dataclass
class ValidationPlan:
    url: str
    invariants: list[Invariant]
    baseline: Baseline
    suites: Sequence[Any]  # the validator's own bound suites
    sample_size: int


def prepare_validation(tenant: TenantTarget, settings: Settings, runner: Runner, to_version: str | None,
                       validator: Validator) -> ValidationPlan | None:
    """Before apply: the invariants the pending changes must keep, and their baseline values.
    None when validation is off for this tenant, or nothing is pending."""
    from dualpath.validation.settings import resolve_dir, validation_settings

    options = validation_settings(settings)
    if not options.enabled or not options.validates(tenant.name):
        return None
    with runner.engine.connect() as conn:
        pending = runner.pending_up(runner.states(conn), to_version)
        conn.rollback()
    if not pending:
        return None
    from dualpath.validation.baseline import take_baseline
    from dualpath.validation.invariants import derive_invariants, snapshot_schema

    url = tenant.resolved_url()
    invariants = derive_invariants(pending, snapshot_schema(url), tolerances=options.tolerances)
    suites_dir = resolve_dir(settings, options.suites_dir)
    suites = validator.bind_suites(options, suites_dir, tenant.name) if suites_dir.is_dir() else []
    return ValidationPlan(url, invariants, take_baseline(url, invariants), suites, options.sample_size)


class ValidationFailed(VerificationFailed):
    """A tenant's validation found a broken expectation; ``result`` holds every expectation that ran."""

    def __init__(self, message: str, *, result: ValidationResult | None = None, where: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, where=where, hint=hint)
        self.result = result


def run_validation(tenant: TenantTarget, plan: ValidationPlan | None, validator: Validator,
                   record: Runner | None = None) -> ValidationResult | None:
    """After apply: check the invariants and the project suites; a failure fails the tenant.
    The result (every expectation, observed vs expected) goes into the tenant's audit trail when
    ``record`` is given, and back to the caller for the report; None when nothing needed checking."""
    if plan is None:
        return None
    result = validator.check(plan.url, plan.invariants, plan.baseline, suites=plan.suites, tenant=tenant.name,
                             sample_size=plan.sample_size)
    if record is not None:
        _audit_validation(record, result)
    if not result.passed:
        failed = "; ".join(f"{o.expectation} {o.table}{'.' + o.column if o.column else ''}: observed "
                           f"{o.error or o.observed}, expected {o.expected}" for o in result.failures[:5])
        raise ValidationFailed(f"validation failed on tenant {tenant.name}: {failed}", result=result,
                               hint="the tenant is rolled back with the run; see the report")
    return result


def describe_validation(result: ValidationResult | None) -> str:
    """The one-line verdict of a tenant's validation, for tables and Slack."""
    if result is None:
        return "not needed"
    if result.passed:
        return f"passed ({len(result.outcomes)} expectations)"
    return f"failed ({len(result.failures)} of {len(result.outcomes)} expectations)"


def _audit_validation(runner: Runner, result: ValidationResult) -> None:
    """The run record: the verdict and every expectation's observed and expected values."""
    with runner.engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        history.audit(conn, runner.actor, "validation", detail=json.loads(result.to_json()))
