"""prefect.yaml: one deployment per environment, in sync with deployments/<env>.yaml, and every
schedule fires inside its environment's maintenance window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from croniter import croniter

from dualpath.config import load_settings
from dualpath.windows import parse_window

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("sandbox", "staging", "prod-blue", "prod-green")


def deployments() -> dict[str, dict[str, Any]]:
    """The environments' deployments (of the migrate flow)."""
    return {name: d for name, d in all_deployments().items() if d["entrypoint"] == "flows/migrate.py:migrate"}


def all_deployments() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return {d["name"]: d for d in data["deployments"]}


@pytest.mark.parametrize(("name", "flow_name"), [("tenant-apply", "dualpath-tenant-apply"),
                                                 ("tenant-rollback", "dualpath-tenant-rollback")])
def test_the_per_tenant_deployments_load_and_send_heartbeats(name: str, flow_name: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The migrate flow with fan_out=deployments starts these by name (flows/fan_out.py); a worker that dies
    is noticed only through the heartbeats of the runs it ran."""
    from prefect.flows import load_flow_from_entrypoint

    from dualpath.flows.fan_out import APPLY_DEPLOYMENT, ROLLBACK_DEPLOYMENT

    deployment = all_deployments()[name]
    assert f"{flow_name}/{name}" in (APPLY_DEPLOYMENT, ROLLBACK_DEPLOYMENT)
    assert set(all_deployments()) == set(ENVIRONMENTS) | {"tenant-apply", "tenant-rollback"}
    assert deployment["work_pool"]["name"] == "dualpath-process" and "schedules" not in deployment
    assert deployment["work_pool"]["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert "dualpath-tenant" in deployment["tags"]
    monkeypatch.chdir(ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    tenant = "tenants" if name == "tenant-apply" else "tenant"  # an apply child may carry several (fan_out.py)
    assert flow.name == flow_name and {"env", tenant, "run_id"} <= set(flow.parameters.required or [])


def test_one_process_pool_deployment_per_environment() -> None:
    found = deployments()
    assert sorted(found) == sorted(ENVIRONMENTS)
    for d in found.values():
        assert d["entrypoint"] == "flows/migrate.py:migrate"
        assert d["work_pool"]["name"] == "dualpath-process"


def test_the_entrypoint_loads_the_migrate_flow_the_way_a_worker_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(ROOT)  # the pull step sets the working directory to the project
    entrypoint = {d["entrypoint"] for d in deployments().values()}.pop()
    flow = load_flow_from_entrypoint(entrypoint)
    assert flow.name == "dualpath-migrate"
    assert "env" in flow.parameters.properties


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_parameters_and_schedule_come_from_deployments_folder(name: str) -> None:
    source = yaml.safe_load((ROOT / "deployments" / f"{name}.yaml").read_text())
    deployment = deployments()[name]
    assert deployment["parameters"] == source["parameters"]
    assert deployment["schedules"] == [source["schedule"]]
    assert not any(word in str(deployment).lower() for word in ("password", "token", "secret"))


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_schedule_fires_inside_the_environment_window(name: str) -> None:
    deployment = deployments()[name]
    settings = load_settings(ROOT / deployment["parameters"]["config"])
    window = parse_window(settings.environments[name].window or "")
    for schedule in deployment["schedules"]:
        zone = ZoneInfo(schedule["timezone"])
        fires = croniter(schedule["cron"], datetime(2026, 1, 1, tzinfo=zone))
        for _ in range(120):  # more than a year of weekly fires, across both DST changes
            moment = fires.get_next(datetime)
            assert window.is_open(moment), f"{name}: {schedule['cron']} fires at {moment} outside '{window.text}'"
            assert window.is_open(moment.astimezone(UTC))


def test_the_pull_step_uses_the_folder_the_deploy_checked_never_a_worker_variable() -> None:
    data = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    [build] = data["build"]
    assert build == {"flows.deployment.project_home": {"id": "project", "home": "{{ $DUALPATH_HOME }}"}}
    [pull] = data["pull"]
    assert pull == {"prefect.deployments.steps.set_working_directory": {"directory": "{{ project.directory }}"}}
    header = (ROOT / "prefect.yaml").read_text().split("\nname:", 1)[0]
    assert "#   DUALPATH_HOME=$PWD prefect --no-prompt deploy --all" in header


def test_project_home_refuses_an_unset_or_wrong_folder_and_resolves_a_relative_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.flows.deployment import DeploymentRefused, project_home

    with pytest.raises(DeploymentRefused) as unset:
        project_home("")
    assert "DUALPATH_HOME is not set" in str(unset.value) and "next:" in str(unset.value)
    with pytest.raises(DeploymentRefused) as wrong:
        project_home(str(tmp_path))
    assert f"DUALPATH_HOME={tmp_path} has no flows/migrate.py" in str(wrong.value)
    assert "nothing was deployed" in str(wrong.value)
    monkeypatch.chdir(ROOT)
    assert project_home(".") == {"directory": str(ROOT)}
