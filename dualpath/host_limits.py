"""How many tenant migrations one database server takes at once: a limit that belongs to the host.

Every run of every environment on a Prefect server shares one global concurrency limit per database
host, ``db-host:<host:port>``. So its size is a property of the host, never of the run that happens to
come first or last: ``[hosts."db1:5432"] concurrency`` when dualpath.toml says it, else the smallest
``host_concurrency`` any environment with tenants on that host asks for. A run creates a missing limit
with that size and leaves an existing one alone (saying so when it differs). Two settings that
disagree about one host are an input error naming both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dualpath.config import Settings, config_label, mask_secret_refs
from dualpath.errors import DualpathError, InputError
from dualpath.tenants import TenantTarget


@dataclass(frozen=True)
class HostLimit:
    """The limit a host should have, and which setting says so."""

    key: str  # db-host:<host:port>, the Prefect global concurrency limit's name
    slots: int
    source: str  # '[hosts."db1:5432"] concurrency = 2', or the environment setting it came from


def host_limits(settings: Settings, env: str, tenants: Sequence[TenantTarget]) -> list[HostLimit]:
    """The limit of each database host the tenants of environment ``env`` live on (one per host, by key)."""
    asks = environment_asks(settings)
    own = settings.environments[env]
    mine = (env, own.host_concurrency, "host_concurrency" in own.model_fields_set)
    limits: dict[str, HostLimit] = {}
    for tenant in tenants:
        if tenant.concurrency_key in limits:
            continue
        host = tenant.host.lower()
        on_host = asks.get(host, [])
        if mine not in on_host:  # its tenants' hosts may be knowable only now (resolved secrets)
            on_host = [*on_host, mine]
        limits[tenant.concurrency_key] = limit_for(settings, host, tenant.concurrency_key, on_host)
    return [limits[k] for k in sorted(limits)]


def limit_for(settings: Settings, host: str, key: str, asks: Sequence[tuple[str, int, bool]]) -> HostLimit:
    """``asks`` (never empty: the running environment is one): (environment, host_concurrency, set
    explicitly) of each environment on the host."""
    where = config_label(settings)
    declared = next(((name, h.concurrency) for name, h in settings.hosts.items() if name.lower() == host), None)
    if declared is not None:
        name, slots = declared
        source = f'[hosts."{name}"] concurrency = {slots}'
        for env, asked, explicit in asks:
            if explicit and asked != slots:
                raise InputError(f"{source} and [environments.{env}] host_concurrency = {asked} disagree about "
                                 f"the database server {host}", where=where,
                                 hint=f"a server's limit belongs to the server: remove host_concurrency from "
                                      f"[environments.{env}], or set both to the same number")
        return HostLimit(key, slots, source)
    env, slots, explicit = min(asks, key=lambda a: (a[1], a[0]))
    source = f"[environments.{env}] host_concurrency = {slots}" + ("" if explicit else " (the default)")
    if len({a[0] for a in asks}) > 1:
        source += f", the smallest of the {len(asks)} environments on {host}"
    return HostLimit(key, slots, source)


def environment_asks(settings: Settings) -> dict[str, list[tuple[str, int, bool]]]:
    """host -> (environment, host_concurrency, set explicitly) of every environment with a tenant there.
    A tenant whose host is not knowable here (an unset variable, a whole-URL secret) is left out:
    resolving another environment's secrets to size a limit would be worse than not counting it."""
    asks: dict[str, list[tuple[str, int, bool]]] = {}
    for name, env in sorted(settings.environments.items()):
        explicit = "host_concurrency" in env.model_fields_set
        for host in sorted({h for h in (host_of(t.name, t.url) for t in env.tenant_list()) if h}):
            asks.setdefault(host, []).append((name, env.host_concurrency, explicit))
    return asks


def host_of(name: str, url: str) -> str | None:
    """The host:port of a tenant URL without resolving a secret (a secret in the password is no host)."""
    masked = mask_secret_refs(url)
    if masked is None:
        return None
    try:
        return TenantTarget(name, masked).host.lower()
    except DualpathError:
        return None


def differs(limit: HostLimit, existing_slots: int, active: bool = True) -> str | None:
    """What to say when the server's limit is not what the config asks; None when it is."""
    if existing_slots == limit.slots and active:
        return None
    state = f"{existing_slots} slot(s)" + ("" if active else ", inactive")
    return (f"{limit.key} already exists on the Prefect server with {state}; {limit.source} asks for "
            f"{limit.slots}: left as it is (a host's limit is set once, never by a run; to change it: "
            f"prefect global-concurrency-limit update {limit.key} --limit {limit.slots})")
