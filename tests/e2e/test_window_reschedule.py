"""--wait-for-window without holding a worker, on a real Prefect server with a process work pool and a worker:
a deployment run outside its window schedules a run of the same deployment (same parameters) at the opening and
ends Completed as "Rescheduled"; refused outside the window, a deployment run's hint names the deployment
parameter, a `dualpath run`'s the command line flag.

The window opens on the day after tomorrow (UTC) for one hour: every run of this test is outside it, and its
next opening is one fixed moment, by construction (no clock race)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.windows import parse_window
from tests.e2e.conftest import fingerprints, write_config
from tests.e2e.test_deploy_documented import wait_final

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def far_window() -> str:
    day = (datetime.now(UTC) + timedelta(days=2)).strftime("%a")
    return f"{day} 03:00-04:00 UTC"


@pytest.fixture
def worker(prefect_api: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """A process work pool of its own and a worker on it: (pool, worker process, its log)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    pool = f"dp-window-{uuid.uuid4().hex[:6]}"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    log = tmp_path / "worker.log"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PREFECT_API_URL": prefect_api,
           "PREFECT_WORKER_QUERY_SECONDS": "2"}
    with log.open("wb") as sink:
        process = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", pool], cwd=ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield pool, process, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def deploy(pool: str, parameters: dict[str, Any]) -> tuple[str, UUID]:
    """A deployment of the migrate flow on ``pool`` (entrypoint by module: the worker imports the installed
    package); (its name, its id)."""
    from prefect.deployments.runner import EntrypointType

    from dualpath.flows.migrate import migrate

    name = f"window-{uuid.uuid4().hex[:6]}"
    deployment = migrate.to_deployment(name=name, parameters=parameters, entrypoint_type=EntrypointType.MODULE_PATH)
    return name, UUID(str(deployment.apply(work_pool_name=pool)))


def start_run(deployment_id: UUID) -> UUID:
    from prefect.deployments import run_deployment

    return UUID(str(run_deployment(deployment_id, timeout=0, as_subflow=False).id))


def runs_of(deployment_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        wanted = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        return list(client.read_flow_runs(deployment_filter=wanted))


def test_a_deployment_run_outside_its_window_schedules_a_run_at_the_opening_and_ends(
        worker: tuple[str, subprocess.Popen[bytes], Path], pg_tenants: dict[str, str], tmp_path: Path) -> None:
    pool, process, log = worker
    window = far_window()
    config = write_config(tmp_path, pg_tenants, window=window)
    before = fingerprints(pg_tenants)
    parameters = {"env": "e2e", "config": str(config), "approve": True, "wait_for_window": True,
                  "report_dir": str(tmp_path)}
    _, deployment_id = deploy(pool, parameters)
    first = start_run(deployment_id)
    state = wait_final(first, process, log)
    assert state.is_completed() and state.name == "Rescheduled", f"{state.type} {state.name}: {state.message}"
    opens = parse_window(window).next_opening(datetime.now(UTC))
    assert opens.isoformat() in str(state.message) and "no worker waits" in str(state.message)
    assert fingerprints(pg_tenants) == before  # nothing ran
    [later] = [r for r in runs_of(deployment_id) if r.id != first]
    assert later.state is not None and later.state.is_scheduled(), later.state
    assert later.expected_start_time == opens
    assert later.parameters == {**parameters}
    assert later.name in str(state.message) and str(later.id) in str(state.message)
    [report] = tmp_path.glob("dualpath-report-e2e-*.md")
    assert "rescheduled" in report.read_text()


def test_refused_outside_the_window_the_hint_names_the_deployment_parameter_or_the_cli_flag(
        worker: tuple[str, subprocess.Popen[bytes], Path], pg_tenants: dict[str, str], tmp_path: Path) -> None:
    pool, process, log = worker
    config = write_config(tmp_path, pg_tenants, window=far_window())
    name, deployment_id = deploy(pool, {"env": "e2e", "config": str(config), "approve": True})
    state = wait_final(start_run(deployment_id), process, log)
    assert not state.is_completed()
    assert "outside the maintenance window" in str(state.message), state.message
    assert "set the deployment parameter wait_for_window: true" in str(state.message), state.message
    assert f"dualpath-migrate/{name}' --param wait_for_window=true" in str(state.message), state.message
    assert "--wait-for-window" not in str(state.message)
    assert len(runs_of(deployment_id)) == 1  # no run scheduled without wait_for_window

    result = CliRunner().invoke(app, ["run", "--env", "e2e", "--config", str(config), "--approve"])
    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert "outside the maintenance window" in said and "dualpath run --wait-for-window" in said
    assert "deployment parameter" not in said
