"""`dualpath tenants --env NAME`: an environment's tenants, in wave order, with their current version."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dualpath.cli.console import ConfigOpt, MigrationsOpt, handle_errors, out


@handle_errors
def tenants_cmd(env: Annotated[str, typer.Option("--env", help="the environment from dualpath.toml")],
                config: ConfigOpt = None, migrations: MigrationsOpt = None,
                format: Annotated[str, typer.Option("--format", help="text|json")] = "text") -> None:
    """List an environment's tenants in wave order with their current version and state."""
    from rich.table import Table

    from dualpath.tenants import open_environment, plan_waves, read_version, resolve_tenants

    if format not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")
    ctx = open_environment(env, str(config) if config else None, str(migrations) if migrations else None)
    waves = plan_waves(resolve_tenants(ctx.env), ctx.env.wave_size)
    links, policy = ctx.settings.sources.follow_links_outside, ctx.settings.rollback.missing
    rows = [(index, tenant, read_version(tenant, ctx.migrations, links, policy))
            for index, wave in enumerate(waves, start=1) for tenant in wave]
    if format == "json":
        print(json.dumps([{"name": t.name, "wave": i, "canary": t.canary, "version": v.version,
                           "pending": v.pending, "state": v.state, "detail": v.detail} for i, t, v in rows], indent=2))
        return
    table = Table(title=f"environment {env}: {len(rows)} tenant(s), {len(waves)} wave(s)")
    for col in ("wave", "tenant", "version", "pending", "state", "database"):
        table.add_column(col)
    for index, tenant, version in rows:
        name = tenant.name + (" (canary)" if tenant.canary else "")
        table.add_row(str(index), name, version.version or "-", str(version.pending), version.state + (
            f": {version.detail}" if version.detail else ""), tenant.display_url)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("tenants")(tenants_cmd)
