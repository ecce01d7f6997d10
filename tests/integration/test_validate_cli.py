"""`dualpath validate` by hand: integrity sweep, project suites, exit codes, JSON and Data Docs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.helpers import run_cli
from tests.integration.test_validate_suites import make_shop, run_sql

SUITES = Path(__file__).parents[2] / "expectations" / "suites"


def with_suites(config: Path, extra: str = "") -> None:
    shutil.copytree(SUITES, config.parent / "expectations")
    config.write_text(config.read_text() + '[validation]\nsuites_dir = "expectations"\n' + extra)


def test_clean_shop_passes_and_json_names_each_expectation(any_url: str, tmp_path: Path) -> None:
    config, _ = make_shop(any_url, tmp_path)
    with_suites(config)
    result = run_cli("validate", "--config", str(config), "--url", "db", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    sources = {o["source"] for o in data["outcomes"]}
    assert {"unique", "foreign_key", "suite:shop_orders"} <= sources
    assert data["passed"] is True


def test_orphans_fail_with_exit_1(sqlite_url: str, tmp_path: Path) -> None:
    config, _ = make_shop(sqlite_url, tmp_path)
    run_sql(sqlite_url, ["PRAGMA foreign_keys = OFF", "UPDATE orders SET customer_id = 99 WHERE id = 1"])
    result = run_cli("validate", "--config", str(config), "--url", "db")
    assert result.exit_code == 1, result.output
    assert "FAIL unexpected_rows_expectation orders.customer_id (foreign_key)" in result.stdout
    assert "1 expectation(s) failed" in result.stderr


def test_one_suite_by_name_and_data_docs(sqlite_url: str, tmp_path: Path) -> None:
    config, _ = make_shop(sqlite_url, tmp_path)
    with_suites(config, f'data_docs_dir = "{tmp_path / "docs"}"\n')
    result = run_cli("validate", "--config", str(config), "--url", "db", "--suite", "shop_orders", "--format", "md")
    assert result.exit_code == 0, result.output
    assert "expect_column_values_to_be_in_set" in result.stdout and "foreign_key" not in result.stdout
    assert (tmp_path / "docs" / "index.html").is_file()


def test_unknown_suite_is_a_usage_error(sqlite_url: str, tmp_path: Path) -> None:
    config, _ = make_shop(sqlite_url, tmp_path)
    with_suites(config)
    result = run_cli("validate", "--config", str(config), "--url", "db", "--suite", "nope")
    assert result.exit_code == 2
    assert "unknown suite 'nope'" in result.stderr and "shop_orders" in result.stderr
