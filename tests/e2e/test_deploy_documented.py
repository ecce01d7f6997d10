"""Deploying as prefect.yaml's own header says, to a real Prefect server and process work pool, gives runs a
worker completes; the same command without DUALPATH_HOME (or with a wrong one) fails the deploy with a
message and leaves the deployments as they were, instead of deploying runs that all crash."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

from tests.e2e.conftest import versions, write_config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def documented_commands() -> list[str]:
    """The commands of prefect.yaml's header, as an operator copies them."""
    header = (ROOT / "prefect.yaml").read_text().split("\nname:", 1)[0]
    return [m.group(1) for m in re.finditer(r"^#   (\S.*)$", header, re.MULTILINE)]


def shell(command: str, prefect_api: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``command`` in bash as typed at a prompt: the venv's ``prefect`` first on PATH, no DUALPATH_HOME
    unless the command sets it."""
    env = {k: v for k, v in os.environ.items() if k != "DUALPATH_HOME"}
    env.update(PATH=f"{BIN}:{env['PATH']}", PREFECT_API_URL=prefect_api, COLUMNS="200")
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def stored_pull_steps(name: str) -> list[dict[str, object]]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return list(client.read_deployment_by_name(name).pull_steps or [])


def wait_final(run_id: UUID, worker: subprocess.Popen[bytes], worker_log: Path, timeout_s: float = 900) -> object:
    """The run once its state is final; the worker's log in the failure when it never gets there."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run_id).state
        if state is not None and state.is_final():
            return state
        assert worker.poll() is None, "the worker exited:\n" + worker_log.read_text(errors="replace")[-3000:]
        time.sleep(1)
    raise AssertionError(f"flow run {run_id} not final after {timeout_s:.0f} s:\n"
                         + worker_log.read_text(errors="replace")[-3000:])


def test_the_documented_deploy_gives_runs_a_worker_completes(prefect_api: str, pg_tenants: dict[str, str],
                                                              tmp_path: Path) -> None:
    create_pool, deploy, start_worker = documented_commands()
    assert deploy == "DUALPATH_HOME=$PWD prefect --no-prompt deploy --all" and "worker start" in start_worker
    readme = (ROOT / "README.md").read_text()
    assert "DUALPATH_HOME=$PWD .venv/bin/prefect --no-prompt deploy --all" in readme  # the README says the same

    made = shell(create_pool, prefect_api)
    assert made.returncode == 0 or "already exists" in made.stdout, made.stdout + made.stderr
    deployed = shell(deploy, prefect_api)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    assert stored_pull_steps("dualpath-migrate/sandbox") == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]

    # the worker runs from elsewhere and knows no DUALPATH_HOME: the deployment carries the folder
    worker_log = tmp_path / "worker.log"
    env = {k: v for k, v in os.environ.items() if k != "DUALPATH_HOME"}
    env.update(PATH=f"{BIN}:{env['PATH']}", PREFECT_API_URL=prefect_api, PREFECT_WORKER_QUERY_SECONDS="2")
    with worker_log.open("wb") as sink:
        worker = subprocess.Popen(["bash", "-c", f"exec {start_worker}"], cwd=tmp_path, env=env, stdout=sink,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        config = write_config(tmp_path, pg_tenants)
        started = shell(f"prefect deployment run dualpath-migrate/sandbox --param env=e2e --param config={config} "
                        f"--param approve=true --param report_dir={tmp_path}", prefect_api, cwd=tmp_path)
        assert started.returncode == 0, started.stdout + started.stderr
        found = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout)
        assert found, started.stdout
        state = wait_final(UUID(found.group(1)), worker, worker_log)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    assert state.is_completed(), f"{state.type}: {state.message}\n" + worker_log.read_text(errors="replace")[-3000:]
    assert set(versions(pg_tenants).values()) == {"7"}
    assert list(tmp_path.glob("dualpath-report-e2e-*.md"))


def test_a_deploy_without_dualpath_home_fails_with_a_message_and_deploys_nothing(prefect_api: str) -> None:
    create_pool, deploy, _ = documented_commands()
    shell(create_pool, prefect_api)
    assert shell(deploy, prefect_api).returncode == 0  # a good deploy first: what a bad one must not replace
    good = stored_pull_steps("dualpath-migrate/staging")

    unset = shell(deploy.removeprefix("DUALPATH_HOME=$PWD "), prefect_api)
    assert unset.returncode != 0
    said = unset.stdout + unset.stderr
    assert "DUALPATH_HOME is not set" in said and "nothing was deployed" in said and "next:" in said
    assert "Traceback" not in said
    wrong = shell(deploy.replace("$PWD", "/nonexistent/dualpath"), prefect_api)
    assert wrong.returncode != 0 and "DUALPATH_HOME=/nonexistent/dualpath has no flows/migrate.py" in wrong.stdout + \
        wrong.stderr
    assert stored_pull_steps("dualpath-migrate/staging") == good
