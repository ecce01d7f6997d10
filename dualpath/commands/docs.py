"""`dualpath docs`: runbook, checklist, risk register, briefing, contingency questions and report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dualpath.commands.plan import RehearseOpt, make_plan
from dualpath.console import ConfigOpt, MigrationsOpt, UrlOpt, handle_errors, out


@handle_errors
def docs_cmd(out_dir: Annotated[Path, typer.Option("--out", help="folder to write the documents into")],
             url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
             rehearse: RehearseOpt = False) -> None:
    """Write the operator documents as Markdown, single-file HTML and JSON."""
    from dualpath.plan import read_target
    from dualpath.render.docset import build_documents
    from dualpath.render.document import write_documents
    from dualpath.render.report import read_records
    from dualpath.session import open_session

    session = open_session(url, migrations, config)
    plan = make_plan(session, rehearse=rehearse)
    with session.engine.connect() as conn:
        records = read_records(conn)
        conn.rollback()
    target = read_target(session.engine, session.target_label)
    documents = build_documents(plan, session.settings, records, session.changes, target)
    for path in write_documents(documents, out_dir):
        out.print(str(path), markup=False)


def register(app: typer.Typer) -> None:
    app.command("docs")(docs_cmd)
