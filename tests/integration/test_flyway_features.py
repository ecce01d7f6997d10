"""Flyway's documented features through the CLI: repeatables (R__) and ${placeholders}."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_cli, status_json, write_config
from tests.unit.test_sources import write

pytestmark = pytest.mark.integration


def test_repeatable_runs_after_versions_again_when_edited_and_is_passed_by_rollback(
        sqlite_url: str, tmp_path: Path) -> None:
    folder = write(tmp_path / "migrations", {
        "V1__a.sql": "CREATE TABLE a (id int);", "U1__a.sql": "DROP TABLE a;",
        "R__v.sql": "DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT id FROM a;",
    })
    config = write_config(tmp_path, sqlite_url)
    base = ["--config", str(config), "--url", "db"]
    assert run_cli("apply", *base).exit_code == 0
    assert [(s["version"], s["state"]) for s in status_json(config)] == [("1", "applied"), ("R__v", "applied")]

    (folder / "R__v.sql").write_text("DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT id, 1 AS one FROM a;")
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]  # not drifted
    again = run_cli("apply", *base)
    assert again.exit_code == 0, again.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]

    (folder / "V2__b.sql").write_text("CREATE TABLE b (id int);")
    (folder / "U2__b.sql").write_text("DROP TABLE b;")
    later = run_cli("apply", *base)  # a new version after a repeatable is not out of order
    assert later.exit_code == 0 and "out of order" not in later.output, later.output

    back = run_cli("rollback", *base, "--steps", "1")  # rolls back V2, not the repeatable
    assert back.exit_code == 0, back.output
    assert [(s["version"], s["state"]) for s in status_json(config)] == [
        ("1", "applied"), ("2", "pending"), ("R__v", "applied")]


def test_placeholders_come_from_the_setting_and_an_unknown_one_is_named(sqlite_url: str, tmp_path: Path) -> None:
    write(tmp_path / "migrations", {"V1__f.sql": "CREATE TABLE ${prefix}f (id INT);",
                                    "U1__f.sql": "DROP TABLE ${prefix}f;"})
    config = write_config(tmp_path, sqlite_url)
    missing = run_cli("apply", "--config", str(config), "--url", "db")
    assert missing.exit_code == 2
    assert "V1__f.sql:1" in missing.output and "${prefix}" in missing.output
    assert "[flyway] placeholders" in missing.output
    config.write_text(config.read_text() + '[flyway]\nplaceholders = { prefix = "app_" }\n')
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    assert run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "1").exit_code == 0
