"""`dualpath draft-rollbacks`: draft the rollbacks a folder lacks, from a shadow's before/after schema."""

from __future__ import annotations

from typing import Annotated

import typer

from dualpath.cli.console import ConfigOpt, MigrationsOpt, UrlOpt, err, handle_errors, out


@handle_errors
def draft_cmd(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
              version: Annotated[list[str] | None, typer.Option(
                  "--version", help="draft only this change (repeat for several); default: every change "
                                    "without a rollback")] = None,
              write: Annotated[bool, typer.Option(
                  "--write", help="write the drafts into the folder (default: print them)")] = False,
              prove: Annotated[bool, typer.Option(
                  "--prove", help="then round-trip each draft on a new shadow (up → down → up), as verify does")]
              = False,
              shadow_url: Annotated[str | None, typer.Option(
                  "--shadow-url", help="an empty database you own to work in (default: [verify] shadow_url, "
                                       "else a new database on the --url server)")] = None) -> None:
    """Draft each missing rollback from the schema before and after its change; exit 1 if a draft fails its proof."""
    from dualpath.draft import draft_rollbacks, prove_drafts, write_drafts
    from dualpath.errors import VerificationFailed
    from dualpath.session import open_session
    from dualpath.sources import read_changes

    session = open_session(url, migrations, config)
    folder = session.target.migrations
    changes = read_changes(folder, dialect=session.engine.name, layout=session.layout,
                           missing_rollbacks="allow")
    shadow = session.shadow_url(shadow_url)
    echo = lambda line: err.print(line, markup=False, soft_wrap=True)  # noqa: E731
    results = draft_rollbacks(session.engine, changes, migrations=folder, safety=session.target.safety,
                              versions=version or (), shadow_url=shadow, echo=echo)
    if not results:
        out.print("every change has a rollback: nothing to draft")
        return
    if write:
        write_drafts(results, folder)
        changes = read_changes(folder, dialect=session.engine.name, layout=session.layout,
                               missing_rollbacks="allow")
    if prove:
        prove_drafts(session.engine, changes, results, migrations=folder, safety=session.target.safety,
                     shadow_url=shadow, echo=echo)
    for result in results:
        _print(result, show_sql=not write)
    failed = [r for r in results if r.proof == "failed"]
    if failed:
        raise VerificationFailed(f"{len(failed)} drafted rollback(s) do not round-trip: "
                                 + ", ".join(r.change.version for r in failed), where=failed[0].change.where,
                                 hint="edit the drafts (or write those rollbacks by hand), then run dualpath verify")


def _print(result: object, show_sql: bool) -> None:
    from dualpath.draft import DraftResult

    assert isinstance(result, DraftResult)
    change = result.change
    head = f"{change.version} {change.description} → {result.place}"
    if result.draft is None:
        out.print(f"{head}: no draft: {result.error}", markup=False, soft_wrap=True)
        return
    if result.draft.empty:
        why = "; ".join(result.draft.notes) or "the change made no schema change"
        out.print(f"{head}: no draft: {why}", markup=False, soft_wrap=True)
        return
    state = f" ({result.written.how})" if result.written else " (dry run: not written; --write writes it)"
    proof = f"; {result.proof}" if result.proof else ""
    out.print(f"{head}{state}{proof}", markup=False, soft_wrap=True)
    for problem in result.problems:
        out.print(f"  {problem}", markup=False, soft_wrap=True)
    if show_sql:
        for line in result.draft.lines():
            out.print(f"  {line}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("draft-rollbacks")(draft_cmd)
