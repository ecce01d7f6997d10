"""Bad input gets a clear error naming where and what to do, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_cli, write_config
from tests.unit.layouts import write_layout


def test_unknown_target_lists_known(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///" + str(tmp_path / "x.db"))
    result = run_cli("status", "--config", str(config), "--url", "dbb")
    assert result.exit_code == 2
    assert "unknown target 'dbb'" in result.output and "did you mean 'db'" in result.output
    assert "Traceback" not in result.output


def test_unknown_to_version(tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", "sqlite")
    config = write_config(tmp_path, "sqlite:///" + str(tmp_path / "x.db"))
    result = run_cli("apply", "--config", str(config), "--url", "db", "--to", "999")
    assert result.exit_code == 2
    assert "--to 999: no change has that version" in result.output


@pytest.mark.parametrize("url", ["postgresql://app:Sup3rSecret@127.0.0.1:1/shop",
                                 "mysql://app:Sup3rSecret@127.0.0.1:1/shop"])
def test_unreachable_database_names_endpoint_not_password(url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", "postgresql")
    result = run_cli("status", "--url", url, "--migrations", str(tmp_path / "migrations"))
    assert result.exit_code == 2
    assert "127.0.0.1:1" in result.output
    assert "Sup3rSecret" not in result.output
    assert "Traceback" not in result.output


def test_rollback_needs_to_or_steps(tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", "sqlite")
    config = write_config(tmp_path, "sqlite:///" + str(tmp_path / "x.db"))
    result = run_cli("rollback", "--config", str(config), "--url", "db")
    assert result.exit_code == 2 and "--to VERSION or --steps N" in result.output
