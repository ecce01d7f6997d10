"""`dualpath demo` end to end (SQLite and PostgreSQL tenants), and the deployments in prefect.yaml
validated by `prefect deploy --all` against the test server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dualpath.cli import app
from tests.e2e.conftest import PG_SERVER

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_whole_story_on_sqlite(prefect_api: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--approve", "--keep", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "identical to the start" in result.output
    for tenant in ("north", "south", "east"):
        assert f"{tenant:<6} version 7  up to date" in result.output
    assert "result: completed" in result.output
    assert "Prefect run: http://127.0.0.1" in result.output
    assert list(tmp_path.glob("dualpath-report-demo-*.md"))


def test_demo_on_postgresql_with_force_recreates_an_existing_database(prefect_api: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    from dualpath.engines import open_engine

    url = PG_SERVER.rsplit("/", 1)[0] + "/dp_e2e_demo"
    server = open_engine(PG_SERVER)
    server.drop_database("dp_e2e_demo_south")
    stale = server.create_database("dp_e2e_demo_south").render_as_string(hide_password=False)
    with open_engine(stale).connect() as conn, conn.begin():
        conn.execute(text("CREATE TABLE stale (id INT)"))
    try:
        result = CliRunner().invoke(app, ["demo", "--approve", "--keep", str(tmp_path), "--url", url, "--force"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "result: completed" in result.output and "east   version 7" in result.output
        with open_engine(stale).connect() as conn:  # dropped and recreated, then kept (--keep)
            assert open_engine(stale).table_exists(conn, "customers")
            assert not open_engine(stale).table_exists(conn, "stale")
    finally:
        for tenant in ("north", "south", "east"):
            server.drop_database(f"dp_e2e_demo_{tenant}")


def test_deployments_validate_with_prefect_deploy(prefect_api: str) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DUALPATH_HOME": str(ROOT)}
    prefect = [sys.executable, "-m", "prefect"]
    subprocess.run([*prefect, "work-pool", "create", "dualpath-process", "--type", "process", "--overwrite"],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run([*prefect, "--no-prompt", "deploy", "--all"], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    listed = subprocess.run([*prefect, "deployment", "ls"], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    for name in ("sandbox", "staging", "prod-blue", "prod-green"):
        assert f"dualpath-migrate/{name}" in listed
