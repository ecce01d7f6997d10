"""The migrate flow's run report as an HTML document: the outcome, the rollout timeline (svg_timeline.py), each
tenant's result and the notes. The Markdown report (dualpath.rollout.report_markdown) stays the artifact's text."""

from __future__ import annotations

from collections.abc import Sequence

from dualpath.render.document import Document, Section, Table
from dualpath.render.svg_timeline import timeline_svg
from dualpath.rollout import Decision, TenantOutcome, tenant_rows

TIMELINE_TEXT = ("One row per tenant, grouped by wave; each bar is a phase (backup, each change, validation, "
                 "rollback) on one time axis, coloured by how it ended. Hover a bar for its exact time.")


def run_report_document(env: str, run_id: str, outcome: str, outcomes: Sequence[TenantOutcome],
                        notes: Sequence[str] = (), decision: Decision | None = None) -> Document:
    """The report of one run of the migrate flow, with its timeline."""
    counts = {state: sum(o.state == state for o in outcomes) for state in ("applied", "failed", "rolled back",
                                                                             "skipped")}
    facts = [("Environment", env), ("Run", run_id), ("Outcome", outcome), ("Tenants", str(len(outcomes)))]
    facts += [(state.capitalize(), str(n)) for state, n in counts.items() if n]
    facts.append(("Approval", "not needed" if decision is None else decision.headline))
    rows = tenant_rows(outcomes)
    headers = list(rows[0]) if rows else ["tenant"]
    sections = [Section("Timeline", text=[TIMELINE_TEXT], figure=timeline_svg(outcomes, f"Run {run_id} on {env}")),
                Section("Tenants", tone="danger" if counts["failed"] else "ok",
                        table=Table(headers, [list(r.values()) for r in rows]) if rows else None,
                        text=[] if rows else ["no tenant took part in this run"]),
                Section("Notes", items=list(notes) or ["none"])]
    return Document("run-report", f"dualpath run {run_id}: {outcome}", f"environment {env}, "
                    f"{len(outcomes)} tenant(s)", facts, sections,
                    footer=f"Written by dualpath's migrate flow at the end of run {run_id}; the same report "
                    "is the run's Markdown artifact in Prefect.")
