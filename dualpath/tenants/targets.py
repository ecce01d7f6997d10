"""The tenants of an environment as a rollout sees them: who they are, in which waves, and the runner
that moves each one."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dualpath.apply import Runner
from dualpath.changes import Change, version_key
from dualpath.config import Environment, Settings, Tenant, interpolate
from dualpath.engines import open_engine
from dualpath.errors import DualpathError, UsageError
from dualpath.history import Actor
from dualpath.sources import MissingPolicy, read_changes
from dualpath.status import read_states
from dualpath.target import Target
from dualpath.urls import endpoint, parse_url, reveal, safe_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


Echo = Callable[[str], None]
# a Prefect Secret block reference, as it stands in a URL before it is resolved
_BLOCK_REF_FOR_MATCH = re.compile(r"\{\{\s*prefect\.blocks\.secret\.[A-Za-z0-9_-]+\s*\}\}")


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
    return cached_changes(migrations, open_engine(tenant.resolved_url()).name, follow_links_outside,
                          missing_rollbacks)


def cached_changes(migrations: Path, dialect: str, follow_links_outside: bool = False,
                   missing_rollbacks: MissingPolicy = "irreversible") -> list[Change]:
    """The folder's changes, parsed once per worker process while no file in it changes (a fan-out's
    tenants all read the same folder). A new list each call; the changes themselves are frozen."""
    from dualpath.tenants.cache import CHANGES, stamp_folder

    key = (str(migrations.resolve()), dialect, follow_links_outside, missing_rollbacks, stamp_folder(migrations))
    return list(CHANGES.get(key, lambda: tuple(read_changes(
        migrations, dialect=dialect, follow_links_outside=follow_links_outside,
        missing_rollbacks=missing_rollbacks))))


def read_version(tenant: TenantTarget, migrations: Path, follow_links_outside: bool = False,
                 missing_rollbacks: MissingPolicy = "irreversible") -> TenantVersion:
    """The tenant's current version, pending count and state; unreachable tenants say why."""
    try:
        engine = open_engine(tenant.resolved_url())
        changes = cached_changes(migrations, engine.name, follow_links_outside, missing_rollbacks)
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
    changes = cached_changes(migrations, engine.name, settings.sources.follow_links_outside,
                             settings.rollback.missing)
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
