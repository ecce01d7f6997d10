"""`dualpath run`: the Prefect migrate flow, here and now (Prefect is imported inside the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dualpath.cli.console import ConfigOpt, MigrationsOpt, ask_approval, handle_errors, out

EnvOpt = Annotated[str, typer.Option("--env", help="the environment from dualpath.toml")]


@handle_errors
def run_cmd(env: EnvOpt, config: ConfigOpt = None, migrations: MigrationsOpt = None,
            to: Annotated[str | None, typer.Option("--to", help="stop after this version")] = None,
            tenants: Annotated[str, typer.Option("--tenants", help="all, or names separated by commas")] = "all",
            dry_run: Annotated[bool, typer.Option("--dry-run", help="print the SQL, change nothing")] = False,
            approve: Annotated[bool, typer.Option("--approve", help="approve now instead of pausing")] = False,
            approver: Annotated[str | None, typer.Option("--approver", help="who approves, with --approve")] = None,
            wait_for_window: Annotated[bool, typer.Option("--wait-for-window",
                                                          help="wait for the window instead of refusing")] = False,
            report_dir: Annotated[Path | None, typer.Option("--report-dir", help="also write the report here")] = None,
            ) -> None:
    """Migrate an environment's tenants with the Prefect flow: window, pre-flight, backup, approval, waves."""
    from dualpath.flows.local import local_server, run_flow

    params: dict[str, Any] = {"env": env, "config": str(config) if config else None,
                              "migrations": str(migrations) if migrations else None, "to_version": to,
                              "tenants": tenants, "dry_run": dry_run, "approve": approve, "approver": approver,
                              "wait_for_window": wait_for_window,
                              "report_dir": str(report_dir) if report_dir else None}
    with local_server(echo=lambda line: out.print(line, markup=False)):
        result = run_flow(params, None if approve else _ask, lambda line: out.print(line, markup=False))
    out.print(f"{result['outcome']}: report {result.get('report') or 'in the Prefect artifacts'}; "
              f"run {result.get('ui') or result['run_id']}", markup=False)


def _ask(plan: str) -> dict[str, Any]:
    return ask_approval(plan)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
