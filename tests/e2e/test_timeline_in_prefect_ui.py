"""The rollout timeline as the Prefect UI shows it: the run report artifact's SVG image, drawn by Chromium."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from dualpath.tasks.report import artifact_key, timeline_markdown
from tests.integration.test_pictures_screenshot import rollout

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_the_report_artifact_shows_the_timeline_in_the_prefect_ui(prefect_api: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright
    from prefect import flow
    from prefect.artifacts import create_markdown_artifact

    @flow(name="timeline-artifact")
    def publish() -> UUID:  # the markdown publish_report writes, as a run's artifact
        return create_markdown_artifact(f"# dualpath run r-42: rolled back\n\n## Timeline\n\n"
                                        f"{timeline_markdown(rollout())}", key=artifact_key("ui", "report"))

    artifact = publish()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{prefect_api.removesuffix('/api')}/artifacts/artifact/{artifact}")
        image = page.locator("img[src^='data:image/svg+xml']").first
        image.wait_for(timeout=60_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") >= 980  # the SVG decoded at its own size
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "prefect-ui-timeline.png"), full_page=True)
        browser.close()
