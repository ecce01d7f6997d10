"""dualpath adopt on the history tables the real tools write (issue 14): dbmate, Liquibase and sqitch.

Each test recreates exactly the DDL and rows the tool itself wrote when it applied the same folder
(real_tool_history.py says which tool version, how, and where they were captured), applies that
folder's schema as the tool left it, and then checks that dualpath reads the folder as the tool did
(every change the tool ran is one change here), that ``adopt`` baselines each of them, and that a
following ``apply`` has nothing to run. No tool is needed at test time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from dualpath.engines import open_engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.sources import read_changes
from tests.integration.adopt_folders import write_dbmate, write_liquibase, write_sqitch
from tests.integration.helpers import dialect_of, run_cli, status_json, write_config
from tests.integration.real_tool_history import HISTORY

pytestmark = pytest.mark.integration


def _engine_key(url: str) -> str:
    return "postgresql" if dialect_of(url) == "postgresql" else "mariadb"


def _run_all(url: str, statements: list[str], mysql_ansi: bool = False) -> None:
    engine = open_engine(url)
    with engine.connect() as conn:
        if mysql_ansi:  # sqitch writes its MySQL registry with sql_mode ANSI; mysqldump rows skip FK order
            run_verbatim(conn, "SET SESSION sql_mode = 'ANSI'")
            run_verbatim(conn, "SET SESSION foreign_key_checks = 0")
        for statement in statements:
            run_verbatim(conn, statement)
        conn.commit()


def _recreate(url: str, key: str) -> None:
    """The tool's history tables and rows, as the tool wrote them."""
    captured = HISTORY[key]
    if isinstance(captured["ddl"], str):  # PostgreSQL: pg_dump text, run as one script
        _run_all(url, [str(captured["ddl"]), str(captured["rows"])])
    else:
        _run_all(url, [*captured["ddl"], *captured["rows"]], mysql_ansi=True)


def _tool_applied_schema(url: str, folder: Path) -> None:
    """What the tool's run left in the target: every change's forward SQL."""
    _run_all(url, [s.text for c in read_changes(folder, dialect=dialect_of(url)) for s in c.forward])


def _adopt_and_check(url: str, tmp_path: Path, folder: Path, expected: list[str]) -> str:
    config = write_config(tmp_path, url)
    before = status_json(config, folder)
    assert [s["version"] for s in before] == expected and {s["state"] for s in before} == {"pending"}
    adopted = run_cli("adopt", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert adopted.exit_code == 0, adopted.output
    assert [line.split()[1] for line in adopted.output.splitlines() if line.startswith("baselined")] == expected
    assert {s["state"] for s in status_json(config, folder)} == {"applied"}
    again = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert again.exit_code == 0 and "nothing to do" in again.output, again.output
    return str(adopted.output)


WRITERS: dict[str, Callable[[Path, str], Path]] = {"dbmate": write_dbmate, "liquibase": write_liquibase}


@pytest.mark.parametrize("backend", ["pg_url", "mysql_url"])
def test_adopt_takes_over_dbmate_history(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """dbmate 2.36.0: schema_migrations (version varchar, primary key), one row per applied file."""
    url = str(request.getfixturevalue(backend))
    folder = write_dbmate(tmp_path / "migrations", dialect_of(url))
    _tool_applied_schema(url, folder)
    _recreate(url, f"dbmate/{_engine_key(url)}")
    output = _adopt_and_check(url, tmp_path, folder, ["20240101120000", "20240102120000"])
    assert "found dbmate history in schema_migrations" in output


@pytest.mark.parametrize("backend", ["pg_url", "mysql_url"])
def test_adopt_takes_over_liquibase_history_and_passes_by_the_root_yaml_changesets(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Liquibase 4.28.0 run on a root changelog-master.yaml whose own tagDatabase changeset has no SQL
    file (the gha-cd-bagelstore-demo shape): its DATABASECHANGELOG row names changelog-master.yaml, a
    changelog dualpath does not read. Adopt passes it by with a note instead of refusing."""
    url = str(request.getfixturevalue(backend))
    project = write_liquibase(tmp_path / "project", dialect_of(url))
    folder = project / "changesets"
    _tool_applied_schema(url, folder)
    _recreate(url, f"liquibase/{_engine_key(url)}")
    output = _adopt_and_check(url, tmp_path, folder, ["1.1", "2.1"])
    assert re.search(r"note: 1 changeset\(s\) from changelog-master.yaml passed by.*demo:baseline", output, re.S)


def _sqitch_registry(url: str) -> str:
    return "sq_" + url.rsplit("_", 1)[1]  # unique on the shared MariaDB server, where it is a database


def test_adopt_takes_over_sqitch_registry_with_a_reworked_change_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """sqitch v1.3.1 on PostgreSQL: the ``sqitch`` schema (changes, tags, dependencies, events, projects,
    releases). A reworked change is deployed once per plan entry under the same name (sqitch-intro): each
    entry is baselined, the older one (add_price@v1) included."""
    folder = write_sqitch(tmp_path / "project", "postgresql")
    _tool_applied_schema(pg_url, folder)
    _recreate(pg_url, "sqitch/postgresql")
    output = _adopt_and_check(pg_url, tmp_path, folder, ["1", "2", "3"])
    assert "found sqitch history in sqitch.changes: 3 change(s)" in output


def test_adopt_takes_over_sqitch_registry_on_mariadb(mysql_url: str, tmp_path: Path) -> None:
    """sqitch v1.3.1 on MariaDB keeps its registry in a database of its own (``sqitch``, or the
    ``registry`` sqitch.conf names), with a column called ``change``: a reserved word there."""
    registry = _sqitch_registry(mysql_url)
    folder = write_sqitch(tmp_path / "project", "mysql", registry=registry)
    _tool_applied_schema(mysql_url, folder)
    server = open_engine(mysql_url.rsplit("/", 1)[0] + "/mysql")
    server.create_database(registry)
    try:
        _recreate(mysql_url.rsplit("/", 1)[0] + "/" + registry, "sqitch/mariadb")
        output = _adopt_and_check(mysql_url, tmp_path, folder, ["1", "2", "3"])
        assert f"found sqitch history in {registry}.changes: 3 change(s)" in output
    finally:
        server.drop_database(registry)


def test_adopt_passes_by_another_sqitch_projects_rows(pg_url: str, tmp_path: Path) -> None:
    """One registry serves every sqitch project deployed to the database: rows of another project are
    not 'missing here'."""
    folder = write_sqitch(tmp_path / "project", "postgresql")
    _tool_applied_schema(pg_url, folder)
    _recreate(pg_url, "sqitch/postgresql")
    _run_all(pg_url, ["INSERT INTO sqitch.projects VALUES ('other', NULL, now(), 'x', 'x@y')",
                      "INSERT INTO sqitch.changes VALUES ('f00', NULL, 'other_change', 'other', '', now(), 'x', "
                      "'x@y', now(), 'x', 'x@y')"])
    output = _adopt_and_check(pg_url, tmp_path, folder, ["1", "2", "3"])
    assert "note: 1 change(s) of sqitch project other passed by" in output


def test_recreated_history_is_the_captured_one(pg_url: str) -> None:
    """The captured DDL runs as written: the tables are there with the tool's own column names."""
    _recreate(pg_url, "sqitch/postgresql")
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        columns = [r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sqitch' "
            "AND table_name = 'changes' ORDER BY ordinal_position"))]
    assert columns[:4] == ["change_id", "script_hash", "change", "project"]
