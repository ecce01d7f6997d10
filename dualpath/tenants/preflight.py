"""A tenant checked before anything runs: reachable, its version, what is pending, and the role it is
migrated as against what the run needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dualpath.apply import Runner
from dualpath.changes import Change, version_key
from dualpath.config import Environment, Settings

if TYPE_CHECKING:

    pass



@dataclass(frozen=True)
class Preflight:
    name: str
    server: str  # "postgresql 16.4"
    version: str | None
    pending: list[str]
    fingerprint: str  # digest of the schema before anything runs
    role: str = ""  # "tenant north is migrated as app (no server-wide powers)"; empty where there are no roles
    role_warning: str | None = None  # it holds far more than the run needs (and which grants it does need)


@dataclass(frozen=True)
class RolePolicy:
    """What pre-flight does with a role that holds far more than the run needs: warn, or (protected) refuse."""

    env: str
    protected: bool = False
    accepted: bool = False  # allow_superuser: the environment's, else [preflight]'s


def role_policy(settings: Settings, env_name: str, env: Environment) -> RolePolicy:
    from dualpath.privileges import accepted

    return RolePolicy(env_name, env.protected, accepted(env.allow_superuser, settings.preflight.allow_superuser))


def preflight_tenant(runner: Runner, to_version: str | None, policy: RolePolicy | None = None) -> Preflight:
    """Connect, read the server version and the tenant's history, refuse drift and half-done changes;
    say which role the tenant is migrated as (``policy``: warn or refuse one that holds far too much)."""
    from dualpath.apply import refuse_drift, refuse_partial_failures

    engine = runner.engine
    with engine.connect() as conn:
        server = ".".join(str(p) for p in engine.server_version(conn))
        states = runner.states(conn)
        fingerprint = engine.fingerprint(conn).digest
        reading = read_role(runner, conn)
        conn.rollback()
    refuse_drift(states)
    refuse_partial_failures(states)
    todo = runner.pending_up(states, to_version)
    pending = [c.version for c in todo]
    applied = [s.version for s in states if s.state == "applied"]
    newest = max(applied, key=version_key) if applied else None
    role, warning = check_tenant_role(runner, reading, todo, policy) if reading else ("", None)
    return Preflight(runner.target.name, f"{engine.flavor} {server}", newest, pending, fingerprint, role, warning)


def read_role(runner: Runner, conn: Any) -> Any:
    """The tenant's role reading (``RoleReading``); None, said in the log, when the server will not tell."""
    from sqlalchemy.exc import DBAPIError

    try:
        return runner.engine.role_reading(conn)
    except DBAPIError as exc:
        runner.echo(f"pre-flight: could not read which role tenant {runner.target.name} is migrated as "
                    f"({runner.engine.driver_reason(exc, runner.target.url)}); least privilege not checked")
        return None


def check_tenant_role(runner: Runner, reading: Any, todo: Sequence[Change],
                      policy: RolePolicy | None) -> tuple[str, str | None]:
    """(which role, the warning) of one tenant; a refusal on a protected environment that does not accept it."""
    from dualpath.errors import TargetRefused
    from dualpath.privileges import SETTING, check_role

    engine = runner.engine
    schema = getattr(getattr(engine, "scope", None), "only", None) or engine.default_schema
    check = check_role(runner.target.name, reading, todo, engine.name, schema)
    env = policy.env if policy else "<name>"
    warning = check.warning(env)
    runner.echo(f"pre-flight: {check.describe()}; this run needs {check.needs()}")
    if warning and policy and policy.protected and not policy.accepted:
        raise TargetRefused(f"pre-flight: {check.describe()}, and environment {env} is protected; nothing ran",
                            where=f"tenant {runner.target.name}",
                            hint=f"migrate it as a role that holds only: {check.needs()}; or accept this role with "
                                 f"{SETTING} = true in [environments.{env}] (or [preflight] {SETTING} = true)")
    if warning:
        runner.echo(f"warning: {warning}")
    return check.describe(), warning
