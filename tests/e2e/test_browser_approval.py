"""The approval in a real browser: headless Chromium at 1440×900 opens the paused run in the classic and
in the V2 Prefect UI, reads the decision card above the form, and resumes the run; the flow then completes.

Screenshots land in tests/artifacts/ (approval-card-classic.png, approval-card-v2.png, ...): look at them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import versions, write_config
from tests.e2e.test_migrate_flow import start_flow_process, wait_paused

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}
TITLE = "Approve 7 change(s) on 4 tenant(s) of e2e?"


def final_state(name: str) -> tuple[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        run = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))[0]
    return (run.state.type.value, run.state.name or "") if run.state else ("?", "?")


def plan_artifact(run_id: Any) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[run_id])))
    return next(str(a.data) for a in artifacts if (a.key or "").startswith("dualpath-plan-"))


def plan_artifact_id(run_id: Any) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[run_id])))
    return next(str(a.id) for a in artifacts if (a.key or "").startswith("dualpath-plan-"))


def open_classic(page: Any, ui: str, run_id: Any) -> Any:
    page.goto(f"{ui}/runs/flow-run/{run_id}")
    page.get_by_role("button", name="Resume").first.click()
    dialog = page.locator("[role=dialog]")
    dialog.get_by_text(TITLE).wait_for()
    return dialog


def open_v2(page: Any, ui: str, run_id: Any) -> Any:
    page.goto(f"{ui}/v2/runs/flow-run/{run_id}")
    page.locator("main button[aria-haspopup=menu]").first.click()  # the run's ⋮ menu holds Resume in V2
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(TITLE).wait_for()
    return dialog


def test_approver_decides_on_the_card_in_both_prefect_uis(prefect_api: str, pg_tenants: dict[str, str],
                                                         tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    name = f"e2e-browser-{uuid.uuid4().hex[:6]}"
    config = write_config(tmp_path, pg_tenants, approvers=["browser-approver"])
    process = start_flow_process(config, name, prefect_api)
    ui = prefect_api.removesuffix("/api")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        run = wait_paused(name)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport=VIEWPORT)
            dialog = open_classic(page, ui, run.id)
            page.screenshot(path=str(ARTIFACTS / "approval-card-classic.png"))
            card = dialog.inner_text()
            dialog_link = str(dialog.get_by_role("link", name="Full plan").get_attribute("href"))
            # Submit without a decision: the form refuses (the field is required), the run stays paused
            dialog.get_by_role("button", name="Submit").click()
            dialog.get_by_text("'decision' is a required property").wait_for()
            page.screenshot(path=str(ARTIFACTS / "approval-card-classic-no-decision.png"))
            dialog.get_by_role("button", name="Close").click()
            plan_url = dialog_link
            for label, url in (("classic", plan_url), ("v2", plan_url.replace(ui, f"{ui}/v2", 1))):
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(url)
                steps = page.get_by_text("Transaction scope").first  # the line above the Steps table
                steps.wait_for()
                page.wait_for_load_state("networkidle")  # the page renders the artifact twice: scroll the last
                steps.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"plan-artifact-{label}.png"))

            page = browser.new_page(viewport=VIEWPORT)
            dialog = open_v2(page, ui, run.id)
            page.screenshot(path=str(ARTIFACTS / "approval-card-v2.png"))
            dialog.get_by_label("Select Decision").click()
            page.get_by_role("option", name="approve").click()
            dialog.get_by_label("Approver", exact=True).fill("browser-approver")
            dialog.get_by_label("Ticket").fill("SHOP-131")
            dialog.get_by_label("Comment").fill("approved in the Prefect UI")
            page.screenshot(path=str(ARTIFACTS / "approval-card-v2-filled.png"))
            dialog.get_by_role("button", name="Resume").click()
            output, _ = process.communicate(timeout=180)
            page.goto(f"{ui}/v2/runs/flow-run/{run.id}")
            page.get_by_text("Completed").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "approval-run-completed-v2.png"))
            browser.close()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()[-3000:]
    assert set(versions(pg_tenants).values()) == {"7"}
    assert final_state(name)[0] == "COMPLETED"
    # the card: the decision's facts, this environment only, no user@host (an email link), a link to the plan
    for fact in ("Strongest lock: ACCESS EXCLUSIVE on", "Irreversible: 7 drop customer name",
                 "Covered by the backup taken right before the first wave", "If it fails:", "Full plan",
                 "has no user accounts", "Window: none: any time"):
        assert fact in card, fact
    assert "postgres@" not in card and "sandbox" not in card
    plan = plan_artifact(run.id)
    # relative paths, and the lock, blocking, estimate and rollback before the statement: the Steps table reads
    assert "| Step | Lock (predicted) | Blocks | Estimate | Rollback | Statement |" in plan
    assert "| 7.1 | ACCESS EXCLUSIVE | reads and writes | 10 ms | irreversible | V7__drop_customer_name.sql:5 |" in plan
    assert "/examples/shop/migrations/" not in plan and "postgres@" not in plan
    assert dialog_link.endswith(f"/artifacts/artifact/{plan_artifact_id(run.id)}")
