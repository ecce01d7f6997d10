"""`dualpath docs`: runbook, checklist, risk register, briefing, contingency questions and report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dualpath.cli.commands.plan import RehearseOpt, make_plan
from dualpath.cli.console import ConfigOpt, MigrationsOpt, UrlOpt, handle_errors, out


@handle_errors
def docs_cmd(out_dir: Annotated[Path, typer.Option("--out", help="folder to write the documents into")],
             url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
             rehearse: RehearseOpt = False,
             env: Annotated[str | None, typer.Option(
                 "--env", help="the environment of the run the briefing is for (default: the target's)")] = None
             ) -> None:
    """Write the operator documents as Markdown, single-file HTML and JSON, and append to the project's FAQ."""
    from dualpath.config import environment
    from dualpath.plan import read_target
    from dualpath.render.backups import destination_as_written, existing_backups
    from dualpath.render.docset import build_documents
    from dualpath.render.document import write_documents
    from dualpath.render.faq import update_faq
    from dualpath.render.inputs import DocInputs
    from dualpath.render.report import read_records
    from dualpath.session import open_session

    session = open_session(url, migrations, config)
    settings = session.settings
    named = settings.targets.get(session.target.name)
    env = env or (named.environment if named else None)
    if env is not None:
        environment(settings, env)  # an unknown name is a usage error naming the known ones
    plan = make_plan(session, rehearse=rehearse)
    with session.engine.connect() as conn:
        records = read_records(conn)
        conn.rollback()
    target = read_target(session.engine, session.target_label, changes=session.changes)
    documents = build_documents(plan, settings, records, session.changes, target, env=env,
                                backup_destination=destination_as_written(settings, env),
                                backups=existing_backups(settings, env), migrations=session.target.migrations)
    for path in write_documents(documents, out_dir):
        out.print(str(path), markup=False)
    faq = update_faq(DocInputs(plan, settings, records, session.changes, target, env),
                     roots=[session.target.migrations, settings.root])
    if faq is not None:
        out.print(str(faq), markup=False)


def register(app: typer.Typer) -> None:
    app.command("docs")(docs_cmd)
