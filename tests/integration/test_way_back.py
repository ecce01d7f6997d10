"""`[rollback] missing` through the CLI: detect/status list the changes without a way back, apply
runs them, and a rollback across one is refused ("irreversible") or runs nothing ("allow")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_cli, status_json, write_config
from tests.unit.test_sources import write

pytestmark = pytest.mark.integration


def project(tmp_path: Path, url: str, policy: str | None) -> tuple[Path, list[str]]:
    folder = write(tmp_path / "migrations", {
        "1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;",
        "2_b.up.sql": "CREATE TABLE b (id int);", "2_b.down.sql": "-- intentionally left blank\n",
    })
    config = write_config(tmp_path, url)
    if policy:
        config.write_text(config.read_text() + f'[rollback]\nmissing = "{policy}"\n')
    return folder, ["--config", str(config), "--url", "db"]


def test_default_reads_the_folder_and_lists_the_change(sqlite_url: str, tmp_path: Path) -> None:
    folder, base = project(tmp_path, sqlite_url, None)
    detect = run_cli("detect", "--config", base[1], "--migrations", str(folder))
    assert detect.exit_code == 0, detect.output
    assert '1 change(s) without a way back ([rollback] missing = "irreversible")' in detect.stdout
    assert "  2 b: irreversible: rollback runs nothing (" in detect.stdout
    status = run_cli("status", *base)
    assert status.exit_code == 0 and "2 b: irreversible: rollback runs nothing" in status.stdout


def test_irreversible_refuses_a_rollback_across_it(sqlite_url: str, tmp_path: Path) -> None:
    folder, base = project(tmp_path, sqlite_url, "irreversible")
    assert run_cli("apply", *base).exit_code == 0
    back = run_cli("rollback", *base, "--steps", "1")
    assert back.exit_code == 3, back.output
    assert "version 2 is irreversible" in back.output and '[rollback] missing = "irreversible"' in back.output
    assert "2_b.down.sql runs nothing" in back.output and "next:" in back.output
    assert [s["state"] for s in status_json(Path(base[1]))] == ["applied", "applied"]


def test_allow_runs_the_empty_rollback(sqlite_url: str, tmp_path: Path) -> None:
    folder, base = project(tmp_path, sqlite_url, "allow")
    assert run_cli("apply", *base).exit_code == 0
    back = run_cli("rollback", *base, "--steps", "2")
    assert back.exit_code == 0, back.output
    assert [s["state"] for s in status_json(Path(base[1]))] == ["pending", "pending"]


def test_refuse_keeps_the_old_refusal(sqlite_url: str, tmp_path: Path) -> None:
    folder, base = project(tmp_path, sqlite_url, "refuse")
    result = run_cli("status", *base)
    assert result.exit_code == 2
    assert "no rollback for version 2" in result.output and "[rollback] missing" in result.output
