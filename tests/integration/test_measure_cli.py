"""lint --url, plan and verify: each runs the pending changes on a shadow and reports what was measured."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.helpers import run_cli
from tests.integration.measure_support import load, shadows_left


def folder(tmp_path: Path, up: str, down: str) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__change.sql").write_text(up)
    (migrations / "U1__change.sql").write_text(down)
    return migrations


def test_lint_and_plan_name_the_view_a_drop_breaks(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n"
                 "CREATE VIEW customer_names AS SELECT id, name FROM customers;")
    migrations = folder(tmp_path, "ALTER TABLE customers DROP COLUMN name;\n",
                        "ALTER TABLE customers ADD COLUMN name text;\n")
    lint = run_cli("lint", "--url", pg_url, "--format", "json", str(migrations))
    [finding] = [f for f in json.loads(lint.stdout) if f["rule"] == "DP081"]
    assert finding["severity"] == "error" and "view customer_names" in finding["message"]
    assert lint.exit_code == 1
    plan = run_cli("plan", "--url", pg_url, "--migrations", str(migrations), "--format", "json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert data["measured"] is True
    assert any(f["rule"] == "DP081" and "customer_names" in f["message"] for f in data["findings"])


def test_verify_reports_the_measured_rewrite(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n int);\n"
                 "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;")
    migrations = folder(tmp_path, "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n",
                        "ALTER TABLE t ALTER COLUMN n TYPE int;\n")
    result = run_cli("verify", "--url", pg_url, "--migrations", str(migrations), "--format", "json")
    assert result.exit_code == 0, result.output
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "DP080"]
    assert "table rewritten" in finding["message"] and finding["file"].endswith("V1__change.sql")
    quiet = run_cli("verify", "--url", pg_url, "--migrations", str(migrations), "--format", "json", "--no-measure")
    assert not [f for f in json.loads(quiet.stdout)["findings"] if f["rule"] == "DP080"]
    assert shadows_left(pg_url) == []
