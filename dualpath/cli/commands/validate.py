"""`dualpath validate`: run the integrity sweep and the project's GX suites by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dualpath.cli.console import ConfigOpt, UrlOpt, handle_errors, out

SuiteOpt = Annotated[str | None, typer.Option("--suite", help="run only this project suite")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="tenant name, selects the suites bound to it")]
FormatOpt = Annotated[str, typer.Option("--format", help="text|json|md")]
DocsOpt = Annotated[Path | None, typer.Option("--data-docs", help="write GX Data Docs HTML to this folder")]


@handle_errors
def validate_cmd(url: UrlOpt = None, suite: SuiteOpt = None, tenant: TenantOpt = None, config: ConfigOpt = None,
                 format: FormatOpt = "text", data_docs: DocsOpt = None) -> None:
    """Check unique and foreign keys of every table, and run the project's suites (exit 1 on a failure)."""
    if format not in ("text", "json", "md"):
        raise typer.BadParameter("--format must be text, json or md")
    from dualpath.config import find_config, load_settings
    from dualpath.errors import VerificationFailed
    from dualpath.expectations.project import bind_suites  # Great Expectations loads here, only for this command
    from dualpath.expectations.runner import check
    from dualpath.target import resolve_target
    from dualpath.urls import reveal, safe_url
    from dualpath.validation.baseline import take_baseline
    from dualpath.validation.invariants import integrity_invariants, snapshot_schema
    from dualpath.validation.results import to_markdown
    from dualpath.validation.settings import resolve_dir, validation_settings

    settings = load_settings(find_config(config))
    options = validation_settings(settings)
    target = resolve_target(settings, url, None)
    url_text = reveal(target.url)
    suites = bind_suites(options, resolve_dir(settings, options.suites_dir), tenant, only=suite)
    invariants = [] if suite else integrity_invariants(snapshot_schema(url_text))
    docs = data_docs or (resolve_dir(settings, options.data_docs_dir) if options.data_docs_dir else None)
    result = check(url_text, invariants, take_baseline(url_text, invariants), suites=suites, tenant=tenant,
                   sample_size=options.sample_size, data_docs_dir=docs)
    if format == "json":
        print(result.to_json())
    elif format == "md":
        print(to_markdown(result))
    else:
        for o in sorted(result.outcomes, key=lambda o: o.success):
            where = f"{o.table}.{o.column}" if o.column else o.table
            mark = "[green]ok[/]  " if o.success else "[red]FAIL[/]"
            detail = "" if o.success else f"  observed {o.error or o.observed}, expected {o.expected}"
            out.print(f"{mark} {o.expectation} {where} ({o.source}){detail}", soft_wrap=True)
        out.print(f"{len(result.outcomes)} expectations, {len(result.failures)} failed, {result.seconds:.2f} s")
    if not result.passed:
        raise VerificationFailed(f"{len(result.failures)} expectation(s) failed on {safe_url(target.url)}",
                                 hint="see the failures above; --format json for the full results")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)
