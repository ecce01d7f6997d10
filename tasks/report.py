"""The report of a run as Prefect artifacts (Markdown summary, tenants table, links) and, optionally, a file."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from dualpath.render.document import render_html
from dualpath.render.run_report import run_report_document
from dualpath.render.svg_timeline import timeline_svg
from dualpath.rollout import Decision, TenantOutcome, report_markdown, tenant_rows
from dualpath.tasks.common import TASK_OPTIONS


def artifact_key(env: str, what: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"dualpath-{env}-{what}".lower()).strip("-")


@task(name="publish-report", **TASK_OPTIONS)
def publish_report(env: str, run_id: str, outcome: str, outcomes: list[TenantOutcome], notes: list[str],
                   plan_md: str, report_dir: str | None, links: dict[str, str],
                   decision: Decision | None = None) -> str | None:
    """Artifacts in Prefect (the report embeds the timeline); with ``report_dir`` also a Markdown file and an
    HTML page with the timeline beside it. Returns the Markdown file's path."""
    text = report_markdown(env, run_id, outcome, outcomes, notes, decision)
    page = Path(report_dir) / f"dualpath-report-{env}-{run_id}.html" if report_dir is not None else None
    timeline = f"\n\n## Timeline\n\n{timeline_markdown(outcomes)}" if outcomes else ""
    pointer = f"\n\nThe report as a page, with its timeline: `{page}`" if page is not None else ""
    plan = f"\n\n---\n\n{plan_md}" if plan_md else ""
    create_markdown_artifact(f"{text}{timeline}{pointer}{plan}", key=artifact_key(env, "report"),
                             description=f"dualpath run {run_id}: {outcome}")
    if outcomes:
        create_table_artifact(tenant_rows(outcomes), key=artifact_key(env, "tenants"),
                              description="each tenant's result")
    for label, url in links.items():
        create_link_artifact(url, link_text=label, key=artifact_key(env, label))
    if page is None:
        return None
    path = page.with_suffix(".md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{text}\n\nThe report as a page, with its timeline: [{page.name}]({page.name}){plan}\n",
                    encoding="utf-8")
    page.write_text(render_html(run_report_document(env, run_id, outcome, outcomes, notes, decision)),
                    encoding="utf-8")
    return str(path)


EMBED_LIMIT = 1_000_000  # bytes of SVG (thousands of tenants): beyond it the artifact points to the page instead


def timeline_markdown(outcomes: list[TenantOutcome], limit: int = EMBED_LIMIT) -> str:
    """The timeline as a Markdown image (an SVG data URI: the artifact needs no file anyone can reach)."""
    svg = timeline_svg(outcomes).encode("utf-8")
    if len(svg) > limit:
        return (f"The timeline of {len(outcomes)} tenants is too large to embed here ({len(svg):,} bytes): "
                "run with a report directory (`report_dir`, `dualpath run --report-dir`) for the HTML page.")
    data = base64.b64encode(svg).decode("ascii")
    return f"![Rollout timeline: one row per tenant, phases coloured by outcome](data:image/svg+xml;base64,{data})"


@task(name="publish-document", **TASK_OPTIONS)
def publish_document(env: str, what: str, run_id: str, markdown: str, description: str,
                     report_dir: str | None) -> str | None:
    """A Markdown artifact ``dualpath-<env>-<what>`` and, with ``report_dir``, a file; the file's path."""
    create_markdown_artifact(markdown, key=artifact_key(env, what), description=description)
    if report_dir is None:
        return None
    path = Path(report_dir) / f"dualpath-{what}-{env}-{run_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown + "\n", encoding="utf-8")
    return str(path)
