"""`dualpath demo --url`: the demo drops and recreates <database>_north/_south/_east, so it refuses ones that
exist already unless --force, on PostgreSQL and MariaDB (no Prefect needed: it refuses before anything runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.engines import open_engine
from tests.integration.dbs import SERVERS, database_name, require_server


@pytest.fixture(params=["postgresql", "mysql"])
def existing(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    """A server URL naming database <base>, with <base>_north and <base>_east there already (a marker table
    in each); yields (url, the two names) and drops them afterwards."""
    require_server(request.param)
    server_url = SERVERS[request.param][1]
    server = open_engine(server_url)
    base = database_name("demo_force")[:40]
    names = [f"{base}_north", f"{base}_east"]
    try:
        for name in names:
            url = server.create_database(name).render_as_string(hide_password=False)
            with open_engine(url).connect() as conn, conn.begin():
                conn.execute(text("CREATE TABLE precious (id INT)"))
        yield server_url.rsplit("/", 1)[0] + f"/{base}", names
    finally:
        for name in [*names, f"{base}_south"]:
            server.drop_database(name)


def test_demo_refuses_existing_databases_without_force(existing: tuple[str, list[str]]) -> None:
    url, names = existing
    result = CliRunner().invoke(app, ["demo", "--approve", "--url", url])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert f"{names[0]}, {names[1]}" in flat and "--force" in flat and "Traceback" not in result.output
    for name in names:  # untouched
        with open_engine(url.rsplit("/", 1)[0] + f"/{name}").connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM precious")).scalar() == 0
    assert not open_engine(url).database_exists(names[0].rsplit("_", 1)[0] + "_south")


def test_demo_refuses_a_sqlite_url_for_its_server(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["demo", "--approve", "--url", "sqlite:///x.db"])
    assert result.exit_code == 2 and "not a database server" in result.output, result.output
