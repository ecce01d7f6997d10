"""`dualpath lint` through the CLI: formats, exit codes, config disables."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dualpath.cli import app


def _migration(tmp_path: Path) -> Path:
    file = tmp_path / "V1__index.sql"
    file.write_text("-- a comment\nCREATE INDEX orders_created_idx ON orders (created_at);\n")
    return file


def test_json_findings_name_rule_file_and_statement_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lint", "--format", "json", str(_migration(tmp_path))])
    findings = json.loads(result.stdout)
    concurrent = [f for f in findings if "CONCURRENTLY" in f["fix"].upper()]
    assert concurrent and concurrent[0]["line"] == 2 and concurrent[0]["file"].endswith("V1__index.sql")
    assert set(concurrent[0]) >= {"rule", "severity", "file", "line", "column", "message", "fix"}


def test_fail_on_sets_exit_code(tmp_path: Path) -> None:
    file = _migration(tmp_path)
    assert CliRunner().invoke(app, ["lint", "--fail-on", "warning", str(file)]).exit_code == 1
    ok = tmp_path / "V2__ok.sql"
    ok.write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    assert CliRunner().invoke(app, ["lint", "--fail-on", "error", str(ok)]).exit_code == 0


def test_disabled_rules_from_config(tmp_path: Path) -> None:
    file = _migration(tmp_path)
    first = json.loads(CliRunner().invoke(app, ["lint", "--format", "json", str(file)]).stdout)
    rule = first[0]["rule"]
    config = tmp_path / "dualpath.toml"
    config.write_text(f'[lint]\ndisable = ["{rule}"]\n')
    later = json.loads(CliRunner().invoke(app, ["lint", "--format", "json", "--config", str(config),
                                                str(file)]).stdout)
    assert rule not in {f["rule"] for f in later}


def test_sarif_is_sarif(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lint", "--format", "sarif", str(_migration(tmp_path))])
    doc = json.loads(result.stdout)
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]


def test_unknown_dialect_lists_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["lint", "--dialect", "oracle", str(_migration(tmp_path))])
    assert result.exit_code == 2 and "postgresql" in result.output


def test_fix_shows_a_diff_and_write_writes(tmp_path: Path) -> None:
    file = _migration(tmp_path)
    before = file.read_text()
    shown = CliRunner().invoke(app, ["lint", "--fix", str(file)])
    assert shown.exit_code == 0 and "+CREATE INDEX CONCURRENTLY IF NOT EXISTS" in shown.stdout
    assert file.read_text() == before
    written = CliRunner().invoke(app, ["lint", "--fix", "--write", str(file)])
    assert written.exit_code == 0
    assert file.read_text() == ("-- a comment\n-- dualpath:no-transaction\n"
                                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_idx ON orders (created_at);\n")
    assert CliRunner().invoke(app, ["lint", "--fix", str(file)]).stdout == ""
