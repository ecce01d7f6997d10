"""Taking over from Flyway or golang-migrate: baseline from their history, list mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.sources import read_changes
from dualpath.urls import parse_url
from tests.integration.helpers import dialect_of, run_cli, status_json, write_config
from tests.unit.layouts import write_layout

pytestmark = pytest.mark.integration

FLYWAY_TABLE = """CREATE TABLE flyway_schema_history (
  installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
  type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,
  installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success BOOLEAN NOT NULL)"""


def _run(url: str, *statements: str) -> None:
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()


def _previous_tool_applied_first_change(url: str, folder: Path) -> str:
    first = read_changes(folder, dialect=dialect_of(url))[0]
    _run(url, *(s.text for s in first.forward))
    return first.version


def test_adopt_flyway_history(any_url: str, tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    version = _previous_tool_applied_first_change(any_url, folder)
    _run(any_url, FLYWAY_TABLE,
         "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, installed_by, "
         f"execution_time, success) VALUES (1, '{version}', 'first', 'SQL', 'V{version}__first.sql', 'ci', 5, TRUE)")

    adopted = run_cli("adopt", "--config", str(config), "--url", "db")
    assert adopted.exit_code == 0, adopted.output
    assert f"baselined {version}" in adopted.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    applied = run_cli("apply", "--config", str(config), "--url", "db")  # only the second runs
    assert applied.exit_code == 0, applied.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


def test_adopt_lists_versions_missing_here_and_writes_nothing(any_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    _run(any_url, FLYWAY_TABLE,
         "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, installed_by, "
         "execution_time, success) VALUES (1, '77', 'gone', 'SQL', 'V77__gone.sql', 'ci', 5, TRUE)")
    refused = run_cli("adopt", "--config", str(config), "--url", "db")
    assert refused.exit_code == 3
    assert "missing here: 77" in refused.output and "nothing was written" in refused.output
    assert [s["state"] for s in status_json(config)] == ["pending", "pending"]


def test_adopt_golang_migrate_and_refuse_dirty(any_url: str, tmp_path: Path) -> None:
    folder = write_layout("golang-migrate", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    version = _previous_tool_applied_first_change(any_url, folder)
    _run(any_url, "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)",
         f"INSERT INTO schema_migrations VALUES ({int(version)}, TRUE)")
    dirty = run_cli("adopt", "--config", str(config), "--url", "db")
    assert dirty.exit_code == 3 and "dirty" in dirty.output

    _run(any_url, "UPDATE schema_migrations SET dirty = FALSE")
    adopted = run_cli("adopt", "--config", str(config), "--url", "db")
    assert adopted.exit_code == 0, adopted.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]


# Each tool's own history table as it leaves it, with the first change recorded as applied.
HISTORY_TABLES = {
    "dbmate": ("CREATE TABLE schema_migrations (version VARCHAR(128) NOT NULL PRIMARY KEY)",
               "INSERT INTO schema_migrations (version) VALUES ('20240101120000')"),
    "diesel": ("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) NOT NULL PRIMARY KEY, "
               "run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
               "INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101120000')"),
    "liquibase": ("CREATE TABLE DATABASECHANGELOG (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL, "
                  "FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP NOT NULL, ORDEREXECUTED INT NOT NULL, "
                  "EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35))",
                  "INSERT INTO DATABASECHANGELOG VALUES ('create-widgets', 'example', 'changelog.sql', "
                  "CURRENT_TIMESTAMP, 1, 'EXECUTED', NULL)"),
}


@pytest.mark.parametrize("tool", sorted(HISTORY_TABLES))
def test_adopt_other_tools(tool: str, any_url: str, tmp_path: Path) -> None:
    folder = write_layout(tool, tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    _previous_tool_applied_first_change(any_url, folder)
    _run(any_url, *HISTORY_TABLES[tool])
    adopted = run_cli("adopt", "--config", str(config), "--url", "db")
    assert adopted.exit_code == 0, adopted.output
    assert f"found {tool} history" in adopted.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0


def test_adopt_sqitch_registry(pg_url: str, tmp_path: Path) -> None:
    folder = write_layout("sqitch", tmp_path / "migrations", "postgresql")
    config = write_config(tmp_path, pg_url)
    _previous_tool_applied_first_change(pg_url, folder)
    _run(pg_url, "CREATE SCHEMA sqitch",
         "CREATE TABLE sqitch.changes (change_id TEXT PRIMARY KEY, change TEXT NOT NULL, project TEXT NOT NULL, "
         "committed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
         "INSERT INTO sqitch.changes (change_id, change, project) VALUES ('abc', 'create_widgets', 'widgets')")
    adopted = run_cli("adopt", "--config", str(config), "--url", "db")
    assert adopted.exit_code == 0, adopted.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
