"""apply → status → rollback → status on every engine and every layout, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import dialect_of, fingerprint, run_cli, status_json, write_config
from tests.unit.layouts import write_layout

pytestmark = pytest.mark.integration

LAYOUTS = ["flyway", "golang-migrate", "diesel", "dbmate", "liquibase", "sqitch"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_round_trip_restores_the_schema(layout: str, any_url: str, tmp_path: Path) -> None:
    folder = write_layout(layout, tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    base = ["--config", str(config), "--url", "db", "--migrations", str(folder)]
    before = fingerprint(any_url)

    applied = run_cli("apply", *base)
    assert applied.exit_code == 0, applied.output
    assert [s["state"] for s in status_json(config, folder)] == ["applied", "applied"]
    after = fingerprint(any_url)
    assert after.digest != before.digest
    assert any("widgets" in name for name in after.objects.get("table", {}))

    back = run_cli("rollback", *base, "--steps", "2")
    assert back.exit_code == 0, back.output
    restored = fingerprint(any_url)
    assert restored.diff(before) == [] and restored.digest == before.digest
    assert [s["state"] for s in status_json(config, folder)] == ["pending", "pending"]


def test_rollback_to_a_version_keeps_it(any_url: str, tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    versions = [s["version"] for s in status_json(config)]
    result = run_cli("rollback", "--config", str(config), "--url", "db", "--to", str(versions[0]))
    assert result.exit_code == 0, result.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    assert folder.exists()


def test_apply_to_stops_at_that_version(any_url: str, tmp_path: Path) -> None:
    write_layout("golang-migrate", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    first = status_json(config)[0]["version"]
    result = run_cli("apply", "--config", str(config), "--url", "db", "--to", str(first))
    assert result.exit_code == 0, result.output
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]


def test_dry_run_prints_sql_with_timeouts_and_changes_nothing(any_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    before = fingerprint(any_url)
    result = run_cli("apply", "--config", str(config), "--url", "db", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE widgets" in result.stdout
    assert "300" in result.stdout  # the lock timeout the run would set
    assert fingerprint(any_url).digest == before.digest
    assert [s["state"] for s in status_json(config)] == ["pending", "pending"]


def test_drift_is_refused_until_repair(any_url: str, tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    first = sorted(folder.glob("V1*"))[0]
    first.write_text(first.read_text() + "\n-- edited after the fact\nCREATE INDEX widgets_late_idx ON widgets (id);\n")

    assert [s["state"] for s in status_json(config)][0] == "drifted"
    refused = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "1")
    assert refused.exit_code == 3
    assert "drift" in refused.output and "dualpath repair" in refused.output

    repaired = run_cli("repair", "--config", str(config), "--url", "db")
    assert repaired.exit_code == 0 and "re-baselined" in repaired.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


def test_no_transaction_statements_run_outside_a_transaction_block(pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__table.sql").write_text("CREATE TABLE things (id bigint PRIMARY KEY, label text);\n"
                                          "INSERT INTO things VALUES (1, '100% sure'), (2, 'a%b');\n")
    (folder / "U1__table.sql").write_text("DROP TABLE things;\n")
    (folder / "V2__index.sql").write_text("CREATE INDEX CONCURRENTLY things_label_idx ON things (label);\n")
    (folder / "U2__index.sql").write_text("DROP INDEX CONCURRENTLY things_label_idx;\n")
    config = write_config(tmp_path, pg_url)
    applied = run_cli("apply", "--config", str(config), "--url", "db")
    assert applied.exit_code == 0, applied.output
    assert any("things_label_idx" in name for name in fingerprint(pg_url).objects.get("index", {}))
    back = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "1")
    assert back.exit_code == 0, back.output
    assert not any("things_label_idx" in name for name in fingerprint(pg_url).objects.get("index", {}))
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    # the connection went back to transactional mode: a later change still rolls back as a whole
    (folder / "V3__broken.sql").write_text("CREATE TABLE extra (id int);\nSELECT * FROM no_such_table;\n")
    (folder / "U3__broken.sql").write_text("DROP TABLE extra;\n")
    failed = run_cli("apply", "--config", str(config), "--url", "db")
    assert failed.exit_code == 4
    assert not any("extra" == name.split(".")[-1] for name in fingerprint(pg_url).objects.get("table", {}))


def test_percent_signs_are_not_placeholders(any_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__pct.sql").write_text("CREATE TABLE pct (id INT PRIMARY KEY, label VARCHAR(20));\n\n"
                                        "INSERT INTO pct VALUES (1, '100%'), (2, '%s and %d');\n\n"
                                        "DELETE FROM pct WHERE label LIKE '%and%';\n")
    (folder / "U1__pct.sql").write_text("DROP TABLE pct;\n")
    config = write_config(tmp_path, any_url)
    result = run_cli("apply", "--config", str(config), "--url", "db")
    assert result.exit_code == 0, result.output
