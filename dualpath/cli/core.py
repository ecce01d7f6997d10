"""The `dualpath` command line: each command a few lines over the core.

Core commands live here; topic commands (lint, plan, backup, run, ...) in dualpath/cli/commands/.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dualpath.cli.console import (
    ConfigOpt,
    MigrationsOpt,
    UrlOpt,
    ask_approval,
    handle_errors,
    out,
)
from dualpath.cli.runs import apply_changes, open_command_session, roll_back_changes

if TYPE_CHECKING:
    from dualpath.demo import Ask, Echo

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Plan, check and run database migrations with a tested way forward and back.")


def _context(url: str | None, migrations: Path | None, config: Path | None) -> Any:
    return open_command_session(url, migrations, config)


@app.command()
@handle_errors
def detect(migrations: MigrationsOpt = None, config: ConfigOpt = None) -> None:
    """Which migration layout a folder uses and how many changes it holds."""
    from dualpath.config import find_config, load_settings
    from dualpath.sources import detect_layout, read_changes, way_back_report

    settings = load_settings(find_config(config))
    folder = migrations or settings.migrations_dir()
    links = settings.sources.follow_links_outside
    layout = detect_layout(folder, follow_links_outside=links)
    notes: list[str] = []
    changes = read_changes(folder, layout=layout, follow_links_outside=links,
                           missing_rollbacks=settings.rollback.missing, notes=notes)
    out.print(f"{folder}: {layout}, {len(changes)} change(s)"
              + (f", versions {changes[0].version} … {changes[-1].version}" if changes else ""),
              markup=False, soft_wrap=True)
    for line in way_back_report(changes, settings.rollback.missing):
        out.print(line, markup=False, soft_wrap=True)
    for text in notes:
        out.print(f"note: {text}", markup=False, soft_wrap=True)


@app.command()
@handle_errors
def status(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
           format: Annotated[str, typer.Option("--format", help="text|json")] = "text") -> None:
    """Each change and its state on the target: applied, pending, failed, drifted, missing (applied, file
    gone), unrecorded (applied, history row gone) or unknown (history from a newer dualpath)."""
    if format not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")
    from dualpath.cli.status_view import show_status
    from dualpath.config import find_config, load_settings
    from dualpath.defaults import quick_settings_of
    from dualpath.quick_status import quick_states

    settings = load_settings(find_config(config))
    # None: the usual path answers (and fills the folder cache)
    quick = quick_states(quick_settings_of(settings), url, migrations)
    if quick is not None:
        label, layout, changes, states = quick.label, quick.layout, quick.changes, quick.states
    else:
        session = _context(url, migrations, config)
        states, label, layout, changes = session.states(), session.target_label, session.layout, session.changes
    show_status(label, layout, changes, states, settings.rollback.missing, format)


ApprovalOpt = Annotated[str | None, typer.Option(
    "--approval", metavar="RUN_ID", help="protected environments: the migrate flow run whose approval covers this")]
BreakGlassOpt = Annotated[str | None, typer.Option(
    "--break-glass", metavar="REASON", help="protected environments: go without an approval (audited, announced)")]


@app.command()
@handle_errors
def apply(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
          to: Annotated[str | None, typer.Option("--to", help="stop after this version")] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="print the SQL, change nothing")] = False,
          approval: ApprovalOpt = None, break_glass: BreakGlassOpt = None) -> None:
    """Apply pending changes (up to --to)."""
    apply_changes(url, migrations, config, to, dry_run=dry_run, approval=approval, break_glass=break_glass)


@app.command()
@handle_errors
def rollback(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
             to: Annotated[str | None, typer.Option(
                 "--to", help="roll back every change after this version (it stays); --to start: every change")] = None,
             steps: Annotated[int | None, typer.Option("--steps", help="roll back the last N changes")] = None,
             everything: Annotated[bool, typer.Option(
                 "--all", help="roll back every change, the first one too (same as --to start)")] = False,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="print the SQL, change nothing")] = False,
             approval: ApprovalOpt = None, break_glass: BreakGlassOpt = None) -> None:
    """Roll back applied changes: --to V (keeps V), --steps N, or --all (also --to start).

    Checked before anything runs: changes left half-way, irreversible changes, files gone; drops are backed up."""
    roll_back_changes(url, migrations, config, to, steps, everything, dry_run=dry_run, approval=approval,
                      break_glass=break_glass)


@app.command()
@handle_errors
def repair(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None) -> None:
    """Re-baseline drifted checksums and clear failed attempts (writes an audit row)."""
    for line in _context(url, migrations, config).repair() or ["nothing to repair"]:
        out.print(line)


@app.command()
@handle_errors
def adopt(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would be baselined")] = False) -> None:
    """Baseline dualpath's history from the table another tool left (Flyway, Liquibase, ...)."""
    for line in _context(url, migrations, config).adopt(dry_run=dry_run):
        out.print(line, markup=False)


@app.command()
@handle_errors
def demo(keep: Annotated[Path | None, typer.Option("--keep", help="put the demo's databases and report here")] = None,
         url: Annotated[str | None, typer.Option("--url", help="a PostgreSQL or MariaDB server URL for the "
                                                 "tenant databases (default: SQLite files)")] = None,
         approve: Annotated[bool, typer.Option("--approve", help="approve the run instead of asking")] = False,
         force: Annotated[bool, typer.Option("--force", help="with --url: drop and recreate the demo's tenant "
                                             "databases even when they exist already")] = False) -> None:
    """The whole story on the bundled shop example: the way back proven, then the Prefect migrate flow on
    three tenants. Without --keep everything the demo made is removed at the end."""
    from dualpath.demo import run_demo

    def ask(plan: str) -> dict[str, Any]:
        return ask_approval(plan, approver="demo-operator", ticket="SHOP-131")

    run_demo(keep, _run_flow_locally, echo=lambda line: out.print(line, soft_wrap=True), url=url, approve=approve,
             ask=ask, force=force)


def _run_flow_locally(home: Path, params: dict[str, Any], ask: Ask | None, echo: Echo) -> dict[str, Any]:
    """The migrate flow on a throwaway Prefect server kept in ``home`` (Prefect loads here, not before)."""
    import os

    from dualpath.flows.local import local_server, run_flow

    own = not os.environ.get("PREFECT_API_URL")  # no server configured: one is started, and stops with the demo
    with local_server(home, echo) as api:
        result = run_flow(params, ask, echo)
    return {**result, "prefect_home": str(home), "prefect_api": api} if own else result


def _register_topics() -> None:
    from dualpath.cli.commands import register_all

    register_all(app)


_register_topics()


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="dualpath")


if __name__ == "__main__":  # pragma: no cover
    main()
