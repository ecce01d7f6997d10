"""The per-host concurrency limit on a real Prefect server belongs to the host: a run creates it when it is
missing, with the size dualpath.toml gives the host, and never changes an existing one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import versions, write_config
from tests.integration.helpers import run_cli

KEY = "db-host:127.0.0.1:5432"  # where every tenant of pg_tenants lives


def limit_slots() -> int | None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_global_concurrency_limit_by_name(KEY).limit
        except ObjectNotFound:
            return None


def drop_limit() -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.delete_global_concurrency_limit_by_name(KEY)
        except ObjectNotFound:
            pass


@pytest.fixture
def no_limit(prefect_api: str) -> Iterator[None]:
    """The server starts without the host's limit (other tests of the session made it) and ends without it."""
    drop_limit()
    yield
    drop_limit()


def test_an_existing_limit_is_never_resized_by_a_run_and_the_report_says_it_differs(
        no_limit: None, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from dualpath.flows.migrate import migrate

    with get_client(sync_client=True) as client:  # set once for the host, as prod's operators did: 2 slots
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=KEY, limit=2))
    config = write_config(tmp_path, pg_tenants)  # an environment asking for the default 4
    result = migrate(env="e2e", config=str(config), approve=True, to_version="3", report_dir=str(tmp_path))
    assert result["outcome"] == "completed" and set(versions(pg_tenants).values()) == {"3"}
    assert limit_slots() == 2
    report = Path(result["report"]).read_text()
    assert (f"{KEY} already exists on the Prefect server with 2 slot(s); [environments.e2e] host_concurrency = 4 "
            "(the default) asks for 4: left as it is") in report


def test_a_missing_limit_is_created_with_the_hosts_size_from_dualpath_toml(
        no_limit: None, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, extra='[hosts."127.0.0.1:5432"]\nconcurrency = 3\n')
    result = migrate(env="e2e", config=str(config), approve=True, to_version="2", report_dir=str(tmp_path))
    assert result["outcome"] == "completed"
    assert limit_slots() == 3
    assert "already exists" not in Path(result["report"]).read_text()


def test_two_settings_that_disagree_about_a_host_are_an_input_error_before_anything_runs(
        no_limit: None, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    config = write_config(tmp_path, pg_tenants, host_concurrency=4,
                          extra='[hosts."127.0.0.1:5432"]\nconcurrency = 2\n')
    result = run_cli("run", "--env", "e2e", "--config", str(config), "--approve")
    assert result.exit_code == 2, result.output
    assert '[hosts."127.0.0.1:5432"] concurrency = 2 and [environments.e2e] host_concurrency = 4 disagree' in \
        result.output
    assert str(config) in result.output and "next:" in result.output and "Traceback" not in result.output
    assert limit_slots() is None  # nothing created on the server
    assert set(versions(pg_tenants).values()) == {None}  # and no tenant touched
