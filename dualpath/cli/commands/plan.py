"""`dualpath plan` and `dualpath calibrate`: what a run will do and how long it takes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dualpath.cli.console import ConfigOpt, MigrationsOpt, UrlOpt, err, handle_errors, out

if TYPE_CHECKING:
    from dualpath.plan import Plan

FORMATS = ("md", "html", "json")
RehearseOpt = Annotated[bool, typer.Option("--rehearse", help="run the changes on a shadow and measure their locks")]
MeasureOpt = Annotated[bool, typer.Option("--measure/--no-measure",
                                          help="run each pending statement on a shadow and judge what it did")]


def make_plan(session: Any, to: str | None = None, rehearse: bool = False, measure: bool = False) -> Plan:
    """The plan of the pending changes on the session's target, with measured locks when rehearsed, and
    each statement measured on a shadow (risk/measure) when ``measure``."""
    from dualpath.estimates import load_throughput
    from dualpath.plan import build_plan, read_target
    from dualpath.verify import verify_changes

    engine, runner = session.engine, session.runner()
    with engine.connect() as conn:
        pending = runner.pending_up(runner.states(conn), to)
    measured = []
    if rehearse and pending:
        report = verify_changes(engine, pending, migrations=session.target.migrations, safety=session.target.safety,
                                shadow_url=session.shadow_url(),
                                echo=lambda line: err.print(line, markup=False, soft_wrap=True))
        measured = report.measured
        for result in report.results:  # the plan stands, but its measurements stop at a failure
            if not result.ok:
                err.print(f"warning: rehearsal of {result.version} on the shadow: {result.problems[0]}",
                          markup=False, soft_wrap=True)
    target = read_target(engine, session.target_label, session.target.safety.lock_timeout_ms, changes=pending)
    measurement = _measure(session, pending, target) if measure and pending else None
    return build_plan(pending, target, settings=session.settings,
                      throughput=load_throughput(session.settings.root, engine.flavor), measured=measured,
                      measurement=measurement)


def _measure(session: Any, pending: list[Any], target: Any) -> Any:
    from dualpath.risk.catalogue import catalogue_for
    from dualpath.risk.measure.run import measure_changes

    measurement = measure_changes(session.engine, pending, catalogue_for(target.flavor, target.version),
                                  pii_columns=session.settings.pii_columns, shadow_url=session.shadow_url(),
                                  echo=lambda line: err.print(line, markup=False, soft_wrap=True))
    for note in measurement.notes:
        err.print(f"note: {note}", markup=False, soft_wrap=True)
    return measurement


@handle_errors
def plan_cmd(url: UrlOpt = None, migrations: MigrationsOpt = None, config: ConfigOpt = None,
             to: Annotated[str | None, typer.Option("--to", help="plan up to this version")] = None,
             format: Annotated[str, typer.Option("--format", help="md|html|json")] = "md",
             rehearse: RehearseOpt = False, measure: MeasureOpt = True) -> None:
    """Steps, locks, estimates, rollbacks, gates and prerequisites of the pending changes."""
    import json

    from dualpath.errors import UsageError
    from dualpath.render.document import render_html, render_markdown
    from dualpath.render.plan_doc import plan_document
    from dualpath.session import open_session

    if format not in FORMATS:
        raise UsageError(f"--format {format!r} is not one of: {', '.join(FORMATS)}",
                         hint=f"e.g. --format {FORMATS[0]}")
    from dualpath.sources import way_back_report

    session = open_session(url, migrations, config)
    plan = make_plan(session, to, rehearse, measure)
    pending = {c.version for c in plan.changes}
    policy = session.settings.rollback.missing
    for line in way_back_report([c for c in session.changes if c.version in pending], policy):
        err.print(line, markup=False, soft_wrap=True)
    if format == "json":
        print(json.dumps(plan.as_dict(), indent=2, default=str))
    elif format == "html":
        print(render_html(plan_document(plan)))
    else:
        print(render_markdown(plan_document(plan)))


@handle_errors
def calibrate_cmd(url: UrlOpt = None, config: ConfigOpt = None,
                  rows: Annotated[int, typer.Option("--rows", min=1000, help="rows of the scratch table")] = 200_000
                  ) -> None:
    """Measure the server's throughput on a scratch database; plans use it for their estimates."""
    from dualpath.calibrate import calibrate
    from dualpath.estimates import save_throughput
    from dualpath.session import open_session

    session = open_session(url, None, config)
    speed = calibrate(session.engine, rows, echo=lambda line: out.print(line, markup=False))
    path = save_throughput(Path(session.settings.root), speed)
    out.print(f"saved {path}: index build {speed.index_rows_per_s:,.0f} rows/s, "
              f"rewrite {speed.rewrite_bytes_per_s / 1048576:,.1f} MB/s, update {speed.update_rows_per_s:,.0f} rows/s",
              markup=False)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_cmd)
    app.command("calibrate")(calibrate_cmd)
