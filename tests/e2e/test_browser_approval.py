"""The approval in a real browser: headless Chromium opens the Prefect UI, finds the paused run,
fills the approval form and resumes it; the flow then completes."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import versions, write_config
from tests.e2e.test_migrate_flow import start_flow_process, wait_paused

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def final_state(name: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        run = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))[0]
    return run.state.type.value if run.state else "?"


def test_approver_resumes_the_paused_run_in_the_prefect_ui(prefect_api: str, pg_tenants: dict[str, str],
                                                           tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    name = f"e2e-browser-{uuid.uuid4().hex[:6]}"
    process = start_flow_process(write_config(tmp_path, pg_tenants), name, prefect_api)
    ui = prefect_api.removesuffix("/api")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait_paused(name)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{ui}/runs")
            page.get_by_text(name, exact=True).first.click()  # the paused run, found in the runs list
            page.get_by_role("button", name="Resume").first.click()
            dialog = page.locator("[role=dialog]")
            dialog.get_by_text("Why an approval is needed").wait_for()
            dialog.locator("input[type=checkbox]").locator("xpath=..").click()  # the Approve toggle
            approver, ticket, comment = (dialog.locator("textarea").nth(i) for i in range(3))
            approver.fill("browser-approver")
            ticket.fill("SHOP-131")
            comment.fill("approved in the Prefect UI")
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-approval-form.png"), full_page=True)
            dialog.get_by_role("button", name="Submit").click()
            page.get_by_text("Flow run resumed").first.wait_for()
            output, _ = process.communicate(timeout=180)
            page.reload()
            page.get_by_text(name).first.wait_for()
            page.wait_for_timeout(2000)  # let the state badge render before the picture
            page.screenshot(path=str(ARTIFACTS / "prefect-ui-approved-run.png"), full_page=True)
            browser.close()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()[-3000:]
    assert set(versions(pg_tenants).values()) == {"7"}
    assert final_state(name) == "COMPLETED"
    assert (ARTIFACTS / "prefect-ui-approved-run.png").stat().st_size > 0
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
