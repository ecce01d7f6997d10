"""The rollout timeline and the plan's lock bars: SVG the project writes itself, checked as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from dualpath.render.document import render_html, render_markdown
from dualpath.render.plan_doc import plan_document
from dualpath.render.run_report import run_report_document
from dualpath.render.svg_locks import BAR_WIDTH, BLOCK_COLOURS, blocking_seconds, locks_svg
from dualpath.render.svg_timeline import OUTCOME_COLOURS, timeline_svg
from dualpath.rollout import Phase, TenantOutcome, apply_phases
from tests.unit.test_plan import sample_plan

NS = {"s": "http://www.w3.org/2000/svg"}
T0 = 1_800_000_000.0  # epoch seconds: the phases' clock


def sample_outcomes() -> list[TenantOutcome]:
    """Wave 1: a canary that went through; wave 2: one ok, one failed; both rolled back; wave 3 skipped."""
    canary = TenantOutcome("acme", 1, "rolled back", phases=[
        Phase("backup", "backup", T0, T0 + 2), *apply_phases([("V1", 3000), ("V2", 1000)], T0 + 7, T0 + 8),
        Phase("rollback", "rollback", T0 + 20, T0 + 22, "rolled back")])
    ok = TenantOutcome("globex", 2, "rolled back", phases=[
        *apply_phases([("V1", 2000), ("V2", 2000)], T0 + 13, T0 + 14),
        Phase("rollback", "rollback", T0 + 18, T0 + 20, "rolled back")])
    failed = TenantOutcome("initech", 2, "failed", phases=[Phase("change", "apply", T0 + 9, T0 + 12, "failed")])
    return [canary, ok, failed, TenantOutcome("umbrella", 3, "skipped")]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def bars(root: ET.Element, tenant: str) -> list[ET.Element]:
    group = root.find(f".//s:g[@data-tenant='{tenant}']", NS)
    assert group is not None, f"no row for {tenant}"
    return group.findall("s:rect[@class='bar']", NS)


def test_one_row_per_tenant_and_one_bar_per_phase() -> None:
    outcomes = sample_outcomes()
    root = parse(timeline_svg(outcomes))
    assert [g.get("data-tenant") for g in root.findall(".//s:g[@class='tenant']", NS)] == [
        "acme", "globex", "initech", "umbrella"]
    for outcome in outcomes[:3]:
        assert [b.get("data-kind") for b in bars(root, outcome.name)] == [p.kind for p in outcome.phases]
    assert [b.get("data-kind") for b in bars(root, "acme")] == ["backup", "change", "change", "validation",
                                                                 "rollback"]


def test_bars_are_coloured_by_outcome() -> None:
    root = parse(timeline_svg(sample_outcomes()))
    # changes a rollback undid are drawn as rolled back; the failed apply as failed; the skipped tenant grey
    assert {b.get("data-outcome") for b in bars(root, "globex")} == {"rolled back"}
    assert [b.get("fill") for b in bars(root, "initech")] == [OUTCOME_COLOURS["failed"]]
    assert [b.get("data-outcome") for b in bars(root, "umbrella")] == ["skipped"]
    assert bars(root, "acme")[0].get("data-outcome") == "ok"  # the backup stays a success
    applied = replace(sample_outcomes()[0], state="applied", phases=sample_outcomes()[0].phases[:4])
    assert {b.get("fill") for b in bars(parse(timeline_svg([applied])), "acme")} == {OUTCOME_COLOURS["ok"]}


def test_bars_share_one_time_axis() -> None:
    root = parse(timeline_svg(sample_outcomes()))
    backup, v1, v2, validation, rollback = bars(root, "acme")
    x = [float(b.get("x", "0")) for b in (backup, v1, v2, validation)]
    assert x == sorted(x)
    assert float(v1.get("width", "0")) == pytest.approx(3 * float(v2.get("width", "0")), abs=0.2)  # 3 s vs 1 s
    failed = bars(root, "initech")[0]
    assert float(backup.get("x", "0")) < float(failed.get("x", "0")) < float(rollback.get("x", "0"))


def test_waves_are_marked_and_the_legend_names_every_outcome() -> None:
    root = parse(timeline_svg(sample_outcomes()))
    assert [r.get("data-wave") for r in root.findall(".//s:rect[@class='wave']", NS)] == ["1", "2", "3"]
    labels = [t.text for t in root.findall(".//s:text[@class='wave-label']", NS)]
    assert labels == ["wave 1 (canary)", "wave 2", "wave 3"]
    assert len(root.findall(".//s:line[@class='wave-start']", NS)) == 2  # wave 3 never started
    assert [r.get("data-outcome") for r in root.findall(".//s:rect[@class='legend']", NS)] == list(OUTCOME_COLOURS)
    texts = "".join(root.itertext())
    assert "0 s" in texts and "5 s" in texts  # ticks along the axis (a 22 s run: every 5 s)


def test_hostile_tenant_names_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & co'
    outcome = TenantOutcome(hostile, 1, "failed", phases=[Phase("change", "<b>V1</b>&", T0, T0 + 1, "failed")])
    svg = timeline_svg([outcome], title="run <1> & more")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    root = parse(svg)
    assert root.find(f".//s:g[@data-tenant='{hostile}']", NS) is not None  # the name comes back intact


def test_a_run_without_timed_phases_still_draws() -> None:
    root = parse(timeline_svg([TenantOutcome("acme", 1, "skipped")]))
    assert "no timed phase" in "".join(root.itertext())


def test_apply_phases_lay_changes_back_to_back_before_the_validation() -> None:
    phases = apply_phases([("V1", 1500), ("V2", 500)], applied_at=T0 + 10, validated_at=T0 + 11)
    assert [(p.label, p.start, p.end) for p in phases] == [("V1", T0 + 8, T0 + 9.5), ("V2", T0 + 9.5, T0 + 10),
                                                           ("validation", T0 + 10, T0 + 11)]
    assert [p.kind for p in apply_phases([("V1", 10)], T0, None)] == ["change"]


def test_the_run_report_page_carries_the_timeline() -> None:
    page = render_html(run_report_document("prod", "r-1", "rolled back", sample_outcomes(), ["halted: wave 2"]))
    assert page.count("<svg") == 1 and 'class="timeline"' in page
    assert "<script" not in page
    assert "halted: wave 2" in page


def test_lock_bars_share_a_scale_and_are_coloured_by_what_they_block() -> None:
    plan = sample_plan()
    root = parse(locks_svg(plan.steps))
    rows = root.findall(".//s:g[@class='step']", NS)
    assert [g.get("data-step") for g in rows] == [s.id for s in plan.steps]
    longest = max(blocking_seconds(s) for s in plan.steps)
    for step, row in zip(plan.steps, rows, strict=True):
        bar = row.find("s:rect[@class='bar']", NS)
        assert bar is not None
        assert bar.get("fill") == BLOCK_COLOURS[step.blocks]
        if blocking_seconds(step) == longest:
            assert float(bar.get("width", "0")) == BAR_WIDTH  # the longest block fills the bar
        statement = " ".join(step.sql.split())
        assert statement[:40] in "".join(row.itertext())  # the statement is beside its bar
    assert [r.get("data-blocks") for r in root.findall(".//s:rect[@class='legend']", NS)] == list(BLOCK_COLOURS)


def test_lock_bars_escape_statements_and_fit_the_plan_page() -> None:
    plan = sample_plan()
    step = replace(plan.steps[0], sql="UPDATE t SET note = '<script>&' WHERE a < b")
    svg = locks_svg([step])
    assert "<script>" not in svg and "&lt;script&gt;&amp;" in svg
    parse(svg)
    document = plan_document(plan)
    assert 'class="locks"' in render_html(document)
    assert "<svg" not in render_markdown(document)  # the picture is for the page; Markdown keeps the table


def test_the_artifact_embeds_the_timeline_unless_it_is_huge() -> None:
    import base64

    from dualpath.tasks.report import timeline_markdown

    image = timeline_markdown(sample_outcomes())
    assert image.startswith("![Rollout timeline")
    svg = base64.b64decode(image.split("base64,", 1)[1].rstrip(")")).decode()
    assert parse(svg).find(".//s:g[@data-tenant='acme']", NS) is not None
    assert "too large to embed" in timeline_markdown(sample_outcomes(), limit=1000)


def test_each_batch_is_a_strip_inside_its_change() -> None:
    """A batched statement's stretch (tasks/tenant.py records it with TimedProgress) is its own bar, where the
    clock saw it: within its change's bar, on the same row, coloured by how it ended."""
    phases = apply_phases([("V1", 1000), ("V2", 4000)], T0 + 5, None,
                          [("V2 items", T0 + 1.5, T0 + 4.5, 1200, True)])
    root = parse(timeline_svg([TenantOutcome("acme", 1, "applied", phases=phases)]))
    v1, v2, batch = bars(root, "acme")
    assert batch.get("data-kind") == "batch" and batch.get("data-outcome") == "ok"
    assert float(v2.get("x", "0")) <= float(batch.get("x", "0"))
    assert float(batch.get("x", "0")) + float(batch.get("width", "0")) <= \
        float(v2.get("x", "0")) + float(v2.get("width", "0")) + 0.2
    title = batch.find("s:title", NS)
    assert title is not None and "batch V2 items: 1200 rows" in (title.text or "")
    stopped = apply_phases([], T0 + 5, None, [("V3 items", T0, T0 + 1, 10, False)])
    assert bars(parse(timeline_svg([TenantOutcome("b", 1, "failed", phases=stopped)])), "b")[0].get(
        "data-outcome") == "failed"
