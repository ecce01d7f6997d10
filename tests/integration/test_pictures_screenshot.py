"""The rollout timeline and the plan's lock bars as Chromium draws them: the pages are the ones dualpath writes
(the run report page, `dualpath plan --format html`), the screenshots land in tests/artifacts/ to be looked at."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.render.document import render_html
from dualpath.render.plan_doc import plan_document
from dualpath.render.run_report import run_report_document
from dualpath.rollout import Phase, TenantOutcome, apply_phases
from tests.unit.test_plan import sample_plan

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
T0 = 1_800_000_000.0


def rollout() -> list[TenantOutcome]:
    """Three waves as a real run would leave them: a canary, a wave where one tenant failed, rollbacks
    newest first, and a wave that never started; one tenant's name is hostile."""
    out = [TenantOutcome("acme-prod", 1, "rolled back", phases=[
        Phase("backup", "backup", T0, T0 + 4),
        *apply_phases([("V1", 6000), ("V2", 9000), ("V3", 2000)], T0 + 22, T0 + 25),
        Phase("rollback", "rollback", T0 + 52, T0 + 58, "rolled back")])]
    for index, name in enumerate(["globex", "initech & sons", "<script>alert(1)</script>"]):
        start = T0 + 27 + index
        if name == "initech & sons":
            out.append(TenantOutcome(name, 2, "failed", phases=[Phase("backup", "backup", T0 + 4, T0 + 7),
                                                                 Phase("change", "apply", start, T0 + 37, "failed")]))
            continue
        out.append(TenantOutcome(name, 2, "rolled back", phases=[
            Phase("backup", "backup", T0 + 7 + index, T0 + 9 + index),
            *apply_phases([("V1", 4000), ("V2", 5000), ("V3", 1000)], start + 10, start + 12),
            Phase("rollback", "rollback", T0 + 40 + index * 5, T0 + 44 + index * 5, "rolled back")]))
    out += [TenantOutcome(name, 3, "skipped") for name in ("hooli", "umbrella")]
    return out


def test_the_timeline_and_the_lock_bars_render_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    report = tmp_path / "run-report.html"
    report.write_text(render_html(run_report_document("prod", "r-42", "rolled back", rollout(),
                                                      ["halted: wave 2: 1 tenant(s) failed"])), encoding="utf-8")
    plan = tmp_path / "plan.html"
    plan.write_text(render_html(plan_document(sample_plan())), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        view = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs: list[str] = []
        view.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for page, selector, name, rows in ((report, "svg.timeline", "timeline.png", 6),
                                           (plan, "svg.locks", "plan-locks.png", len(sample_plan().steps))):
            view.goto(page.as_uri())
            figure = view.locator(selector)
            box = figure.bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 100, f"{name}: {box}"
            group = "g.tenant" if "timeline" in name else "g.step"
            assert figure.locator(group).count() == rows
            shot = ARTIFACTS / name
            shot.unlink(missing_ok=True)
            view.locator(".figure").first.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000, f"no screenshot {name}"
        browser.close()
    assert dialogs == []  # the hostile tenant name stayed text
