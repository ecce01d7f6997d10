"""The migrate flow against a real Prefect server and PostgreSQL tenants."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dualpath.errors import RunFailed, TargetRefused
from tests.e2e.conftest import fingerprints, versions, write_config
from tests.e2e.test_flow_slack import report_artifact


def test_happy_path_migrates_canary_then_waves_with_a_report(prefect_api: str, pg_tenants: dict[str, str],
                                                              tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants)
    result = migrate(env="e2e", config=str(config), approve=True, approver="e2e-operator", report_dir=str(tmp_path))
    assert result["outcome"] == "completed"
    assert [(t["name"], t["wave"]) for t in result["tenants"]] == [("a", 1), ("b", 2), ("c", 2), ("d", 3)]
    assert set(versions(pg_tenants).values()) == {"7"}
    report = Path(result["report"]).read_text()
    assert "| a | 1 | applied |" in report and "7 drop customer name is irreversible" in report
    assert result["ui"].startswith(prefect_api.removesuffix("/api"))
    # the timeline: a page beside the Markdown file, and an image in the run's report artifact
    page = Path(result["report"]).with_suffix(".html").read_text()
    assert [t for t in ("a", "b", "c", "d") if f'data-tenant="{t}" data-state="applied"' in page] == list("abcd")
    assert page.count('data-kind="change" data-outcome="ok"') == 4 * 7
    assert page.count('data-kind="backup"') == 4  # the backup step before the waves, timed per tenant
    assert page.count('data-kind="batch" data-outcome="ok"') == 4 * 1  # V6's batched backfill, per tenant
    assert "data:image/svg+xml;base64," in report_artifact(result["run_id"])
    again = migrate(env="e2e", config=str(config), approve=True)
    assert again["outcome"] == "up to date"


def test_failure_in_wave_two_rolls_back_waves_one_and_two_to_identical_schemas(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from dualpath.flows.migrate import migrate

    # tenant c (wave 2) already has a table V4 wants to create: V4 fails there
    engine = create_engine(pg_tenants["c"].replace("postgresql+psycopg", "postgresql+psycopg", 1))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE order_notes (id integer)"))
    engine.dispose()
    before = fingerprints(pg_tenants)
    config = write_config(tmp_path, pg_tenants)
    with pytest.raises(RunFailed) as caught:
        migrate(env="e2e", config=str(config), to_version="6", approve=True, report_dir=str(tmp_path))
    assert "wave 2" in caught.value.message
    assert fingerprints(pg_tenants) == before
    assert versions(pg_tenants) == {"a": None, "b": None, "c": None, "d": None}
    report = next(tmp_path.glob("dualpath-report-*.md")).read_text()
    assert "| d | 3 | skipped |" in report
    assert "| a | 1 | rolled back |" in report and "| b | 2 | rolled back |" in report
    assert "equal to those before the run" in report
    page = next(tmp_path.glob("dualpath-report-*.html")).read_text()
    assert 'data-kind="rollback" data-outcome="rolled back"' in page  # a and b, striped
    assert page.count('data-kind="change" data-outcome="failed"') == 1  # c's apply
    assert 'data-tenant="d" data-state="skipped"' in page


def test_rejection_at_approval_changes_nothing(prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.flows.local import run_flow

    before = fingerprints(pg_tenants)
    config = write_config(tmp_path, pg_tenants)
    seen: list[str] = []

    def reject(plan: str) -> dict[str, Any]:
        seen.append(plan)
        return {"decision": "reject", "approver": "dba-on-call", "ticket": "SHOP-131", "comment": "not today"}

    with pytest.raises(TargetRefused) as caught:
        run_flow({"env": "e2e", "config": str(config)}, reject, lambda _line: None)
    assert "rejected by dba-on-call: not today" in caught.value.message
    assert "**If it fails:**" in seen[0] and "irreversible" in seen[0]  # the decision card
    assert fingerprints(pg_tenants) == before


def test_closed_window_runs_nothing(prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    other_day = (datetime.now(UTC) + timedelta(days=3)).strftime("%a")
    config = write_config(tmp_path, pg_tenants, window=f"{other_day} 01:00-02:00 UTC")
    before = fingerprints(pg_tenants)
    with pytest.raises(TargetRefused) as caught:
        migrate(env="e2e", config=str(config), approve=True)
    assert "outside the maintenance window" in caught.value.message and "next opens" in caught.value.message
    assert fingerprints(pg_tenants) == before


def start_flow_process(config: Path, name: str, prefect_api: str) -> subprocess.Popen[bytes]:
    code = ("import sys; from dualpath.flows.migrate import migrate; "
            f"migrate.with_options(flow_run_name={name!r})(env='e2e', config={str(config)!r})")
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_paused(name: str, timeout_s: float = 120) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
        if runs and runs[0].state is not None and runs[0].state.is_paused() and _form_saved(runs[0]):
            return runs[0]
        time.sleep(0.5)
    raise AssertionError(f"flow run {name} never paused")


def _form_saved(run: Any) -> bool:
    """The approval form's schema is stored (saved right after the pause): resuming with input needs it."""
    from prefect.input.actions import read_flow_run_input
    from prefect.input.run_input import keyset_from_paused_state

    return read_flow_run_input(keyset_from_paused_state(run.state)["schema"], flow_run_id=run.id) is not None


def test_paused_run_resumed_from_another_process_with_run_input(prefect_api: str, pg_tenants: dict[str, str],
                                                                tmp_path: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    name = f"e2e-resume-{uuid.uuid4().hex[:6]}"
    process = start_flow_process(write_config(tmp_path, pg_tenants), name, prefect_api)
    try:
        run = wait_paused(name)  # and its form saved: no sleep racing the save
        resume_flow_run(run.id, run_input={"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131",
                                           "comment": "go"})
        output, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()[-3000:]
    assert set(versions(pg_tenants).values()) == {"7"}


def plan_artifact(run_id: str) -> str:
    """The full plan the run published as a markdown artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[uuid.UUID(run_id)])))
    return next(str(a.data) for a in artifacts if (a.key or "").startswith("dualpath-plan-"))


def test_the_approval_pause_shows_the_plan_with_its_steps_risks_and_rollback(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.flows.local import run_flow

    config = write_config(tmp_path, pg_tenants)
    seen: list[str] = []

    def approve(plan: str) -> dict[str, Any]:
        seen.append(plan)
        return {"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131", "comment": "go"}

    result = run_flow({"env": "e2e", "config": str(config), "to_version": "7", "report_dir": str(tmp_path)}, approve,
                      lambda _line: None)
    assert result["outcome"] == "completed"
    [card] = seen
    # the pause shows the decision card; the full plan is an artifact of the run, linked from the card
    assert card.startswith("### Approve 7 change(s) on 4 tenant(s) of e2e?")
    assert "[Full plan](" in card and "**Strongest lock:** **ACCESS EXCLUSIVE** on `customers` (step 7.1)" in card
    plan = plan_artifact(result["run_id"])
    # the summary first: risks and the rollback plan ...
    assert plan.index("### Risks") < plan.index("### Rollback plan") < plan.index("Migration plan")
    # ... then dualpath.plan's steps (change.statement ids), their locks, and the rollback steps
    for step in ("| 1.1 |", "| 3.1 |", "| 6.1 |", "| 7.1 |", "| R6.1 |"):
        assert step in plan, step
    assert "#### Steps" in plan and "#### Rollback steps" in plan and "ACCESS EXCLUSIVE" in plan
    assert "V7__drop_customer_name.sql:5" in plan
    report = Path(result["report"]).read_text()
    assert "#### Steps" in report and "| 7.1 |" in report  # the report carries the same plan
