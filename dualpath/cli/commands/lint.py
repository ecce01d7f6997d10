"""`dualpath lint`: judge every statement before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dualpath.cli.console import ConfigOpt, err, handle_errors
from dualpath.errors import UsageError


def _version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        raise UsageError(f"--engine-version {text!r} is not a version",
                         hint="e.g. --engine-version 15 or 10.11") from None


@handle_errors
def lint(
    paths: Annotated[list[Path], typer.Argument(help="migration folders or .sql files")],
    dialect: Annotated[str, typer.Option("--dialect", help="postgresql|mysql|sqlite")] = "postgresql",
    engine_version: Annotated[str | None, typer.Option("--engine-version", help="server version, e.g. 15")] = None,
    url: Annotated[str | None, typer.Option("--url", help="judge with this server's schema and sizes, and "
                                                        "measure the pending changes on a shadow of it")] = None,
    format: Annotated[str, typer.Option("--format", help="text|json|sarif|github")] = "text",
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="warning|error")] = None,
    runner: Annotated[str, typer.Option("--runner", help="dualpath|other: who runs these files")] = "dualpath",
    fix: Annotated[bool, typer.Option("--fix", help="show a diff of the safe rewrites (docs/lint-fix.md)")] = False,
    write: Annotated[bool, typer.Option("--write", help="with --fix: write the rewritten files")] = False,
    config: ConfigOpt = None,
) -> None:
    """Lock levels, rewrites and hazards of every statement, with the safe alternative."""
    from dualpath.config import find_config, lint_config, load_settings
    from dualpath.lint import run_lint

    settings = load_settings(find_config(config))
    target_url = None
    if url:  # only then: resolving a target imports SQLAlchemy, half of a one-file lint's start-up
        from dualpath.target import resolve_target
        from dualpath.urls import reveal

        target = resolve_target(settings, url, None)
        target_url = reveal(target.url)
        dialect = target.dialect
    configured = lint_config(settings)
    disabled = set(configured.disable)
    if fix or write:
        _fix(paths, dialect, engine_version, disabled, write)
    output, code = run_lint(paths, dialect=dialect, version=_version(engine_version), url=target_url, fmt=format,
                            fail_on=fail_on or configured.fail_on, disabled=disabled, runner=runner,
                            pii_columns=settings.pii_columns,
                            echo=lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True))
    if output and code == 2:
        err.print(output, markup=False)
    elif output:
        print(output)
    raise typer.Exit(code)


def _fix(paths: list[Path], dialect: str, engine_version: str | None, disabled: set[str], write: bool) -> None:
    from dualpath.risk.fixes.files import run_fix

    diff, summary, code = run_fix(paths, dialect=dialect, version=_version(engine_version), disabled=disabled,
                                  write=write)
    if diff:
        print(diff, end="")
    if summary:
        err.print(summary, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
