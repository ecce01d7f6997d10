"""`dualpath verify`: up → down → up of every pending change on a shadow of the target."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dualpath.cli.console import ConfigOpt, MigrationsOpt, UrlOpt, err, handle_errors, out


@handle_errors
def verify_cmd(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
               sample_rows: Annotated[int, typer.Option("--sample-rows", min=0,
                                                        help="copy N rows per table (PII masked) and compare "
                                                             "row counts and checksums")] = 0,
               format: Annotated[str, typer.Option("--format", help="text|json")] = "text",
               shadow_url: Annotated[str | None, typer.Option(
                   "--shadow-url", help="an empty database you own to verify in (default: [verify] shadow_url, "
                                        "else a new database on the target's server)")] = None,
               fail_fast: Annotated[bool, typer.Option(
                   "--fail-fast", help="stop at the first change that fails (default: verify every change "
                                       "and list all failures)")] = False,
               measure: Annotated[bool, typer.Option(
                   "--measure/--no-measure", help="also run each statement on a shadow with sampled rows and "
                                                  "judge what it did (docs/rules/index.md)")] = True) -> None:
    """Round-trip every pending change on a shadow copy of the target's schema; exit 1 on a difference."""
    from dualpath.errors import UsageError
    from dualpath.session import open_session
    from dualpath.verify import verify_changes
    from dualpath.verify_report import require_ok

    if format not in ("text", "json"):
        raise UsageError(f"--format {format!r} is not one of: text, json", hint="e.g. --format json")
    session = open_session(url, migrations, config)
    with session.engine.connect() as conn:
        pending = session.runner().pending_up(session.runner().states(conn), None)
    report = verify_changes(session.engine, pending, migrations=session.target.migrations,
                            safety=session.target.safety, sample_rows=sample_rows,
                            pii_columns=session.settings.pii_columns, shadow_url=session.shadow_url(shadow_url),
                            echo=lambda line: err.print(line, markup=False, soft_wrap=True), fail_fast=fail_fast,
                            measure=measure)
    if format == "json":
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print_report(report)
    require_ok(report)


def print_report(report: object) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dualpath.verify_report import Verification

    assert isinstance(report, Verification)
    if not report.results:
        out.print("nothing pending: no change to verify")
    for line in report.shadow_drift:
        out.print(f"note: shadow differs from the target before any change: {line}", markup=False)
    for result in report.results:
        state = ("[green]round trip ok[/]" if result.ok else "[red]round trip FAILED[/]" if result.verified
                 else "[yellow]not verified[/]")
        extra = f" (up only: {result.skipped_down})" if result.skipped_down else ""
        if result.no_rollback:
            leaves = f": leaves {', '.join(result.leaves)}" if result.leaves else ""
            extra = f" (no rollback: {result.no_rollback}{leaves})"
        data = ", rows compared" if result.data_checked else ""
        # names, reasons and SQL are the user's text: '[x]' in them is not Rich markup
        out.print(f"{escape(result.version)} {escape(result.description)}: {state}{escape(extra)}{data}")
        for problem in result.problems + result.notes:
            out.print(f"  {problem}", markup=False, soft_wrap=True)
    for note in report.server_notes:
        out.print(f"server: {note}", markup=False, soft_wrap=True)
    if report.measured:
        about = f" ({escape(report.lock_note)})" if report.lock_note else ""
        table = Table(title=f"lock rehearsal{about}")
        for col in ("statement", "table", "predicted lock", "measured lock", "predicted rewrite", "rewritten"):
            table.add_column(col)
        for m in report.measured:
            measured = escape(m.measured_lock or "not measurable")
            table.add_row(escape(m.where), escape(m.table), escape(m.predicted_lock),
                          f"[red]{measured}[/]" if m.stronger else measured,
                          "yes" if m.predicted_rewrite else "no",
                          "?" if m.rewritten is None else "yes" if m.rewritten else "no")
        out.print(table)
    for note in report.measure_notes:
        out.print(f"note: {note}", markup=False, soft_wrap=True)
    for finding in report.findings:
        out.print(f"{finding.file}:{finding.line}: {finding.severity} {finding.rule}: {finding.message}",
                  markup=False, soft_wrap=True)
    left = [r for r in report.results if r.no_rollback == "not harmless"]
    if left:
        out.print("no rollback, and the forward change is not harmless to leave:", markup=False)
        for result in left:
            out.print(f"  {result.where}: version {result.version} ({result.description}): "
                      f"{'; '.join(result.notes)}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_cmd)
