"""Tenant credentials from Prefect Secret blocks, resolved inside the run and never written anywhere."""

from __future__ import annotations

import uuid
from pathlib import Path
from uuid import UUID

from tests.e2e.conftest import versions, write_config

PASSWORD = "Secret-Bl0ck-pa55"


def test_tenant_urls_from_secret_blocks_are_resolved_late_and_never_logged(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from dualpath.flows.local import drain_prefect_workers
    from dualpath.flows.migrate import migrate

    suffix = uuid.uuid4().hex[:8]
    whole, password = f"e2e-tenant-a-url-{suffix}", f"e2e-pg-password-{suffix}"
    real_a = pg_tenants["a"].replace("://postgres@", f"://postgres:{PASSWORD}@", 1)
    Secret(value=real_a).save(whole)
    Secret(value=PASSWORD).save(password)
    tenants = dict(pg_tenants)
    tenants["a"] = f"secret:{whole}"  # the whole URL is the secret
    reference = "{{ prefect.blocks.secret.%s }}" % password  # noqa: UP031 - braces are the point
    tenants["b"] = pg_tenants["b"].replace("://postgres@", f"://postgres:{reference}@", 1)
    config = write_config(tmp_path, tenants)

    result = migrate(env="e2e", config=str(config), to_version="3", approve=True, report_dir=str(tmp_path))

    assert result["outcome"] == "completed"
    assert set(versions(pg_tenants).values()) == {"3"}
    report = Path(result["report"]).read_text()
    assert "| a | 1 | applied |" in report and "| b | 2 | applied |" in report
    assert PASSWORD not in report and PASSWORD not in config.read_text()
    drain_prefect_workers()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(result["run_id"]))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    assert logs and not [entry.message for entry in logs if PASSWORD in entry.message]
    assert PASSWORD not in str(run.parameters)
