"""GX suites around a backfill on the example shop, on PostgreSQL, MariaDB and SQLite.

The invariants come from the intended change (V5); then either that change runs, or a buggy
variant of it, and the check must name the expectation that caught the bug.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.expectations.runner import check
from dualpath.sources import read_changes
from dualpath.validation.baseline import take_baseline
from dualpath.validation.invariants import Invariant, derive_invariants, snapshot_schema
from dualpath.validation.results import ValidationResult, to_markdown
from tests.integration.helpers import dialect_of, run_cli, write_config

SHOP = Path(__file__).parents[2] / "examples" / "shop" / "migrations"
V5 = """-- dualpath:ticket SHOP-130
ALTER TABLE orders ADD COLUMN total_eur INTEGER;
UPDATE orders SET total_eur = total_cents;
"""
# What a broken run does instead of V5, and which built-in expectation must catch it.
ADD = "ALTER TABLE orders ADD COLUMN total_eur INTEGER"
BUGS = {
    "nulls_column": ([ADD, "UPDATE orders SET total_eur = total_cents WHERE id <= 5"],
                     "expect_column_values_to_not_be_null", "orders", "total_eur"),
    "loses_rows": ([ADD, "UPDATE orders SET total_eur = total_cents", "DELETE FROM order_notes",
                    "DELETE FROM orders WHERE id > 8"], "expect_table_row_count_to_equal", "orders", None),
    "breaks_fk": ([ADD, "UPDATE orders SET total_eur = total_cents, customer_id = customer_id + 1000"],
                  "unexpected_rows_expectation", "orders", "customer_id"),
}
# Only to let the FK bug through on servers that would refuse it (that is what the check is for).
FK_OFF = {"postgresql": "SET session_replication_role = replica", "mysql": "SET FOREIGN_KEY_CHECKS = 0",
          "sqlite": "PRAGMA foreign_keys = OFF"}


def make_shop(url: str, folder: Path) -> tuple[Path, list[Change]]:
    """The shop at V4 with 10 orders of 3 customers and some notes; returns the config and change V5."""
    migrations = folder / "migrations"
    migrations.mkdir()
    for path in SHOP.glob("[VU][1-4]__*.sql"):  # the shop's base schema; later shop changes are not ours to run
        shutil.copy(path, migrations)
    (migrations / "V5__orders_total_eur.sql").write_text(V5)
    (migrations / "U5__orders_total_eur.sql").write_text("ALTER TABLE orders DROP COLUMN total_eur;\n")
    config = write_config(folder, url)
    result = run_cli("apply", "--config", str(config), "--url", "db", "--to", "4")
    assert result.exit_code == 0, result.output
    run_sql(url, ["INSERT INTO customers (id, tenant_id, email, name) VALUES "
                  "(1, 1, 'a@x', 'A'), (2, 1, 'b@x', 'B'), (3, 1, 'c@x', 'C')"]
            + [f"INSERT INTO orders (id, tenant_id, customer_id, total_cents) VALUES ({i}, 1, {i % 3 + 1}, {i * 100})"
               for i in range(1, 11)]
            + ["INSERT INTO order_notes (id, order_id, body) VALUES (1, 1, 'gift'), (2, 9, 'late')"])
    changes = [c for c in read_changes(migrations, dialect=dialect_of(url)) if c.version == "5"]
    return config, changes


def run_sql(url: str, statements: list[str]) -> None:
    engine = open_engine(url)
    with engine.connect() as conn:
        for text in statements:
            conn.exec_driver_sql(text)
        conn.commit()


def validate_around(url: str, changes: list[Change], run: list[str] | None, config: Path) -> ValidationResult:
    invariants = derive_invariants(changes, snapshot_schema(url))
    baseline = take_baseline(url, invariants)
    if run is None:
        result = run_cli("apply", "--config", str(config), "--url", "db")
        assert result.exit_code == 0, result.output
    else:
        run_sql(url, [FK_OFF[dialect_of(url)], *run])
    return check(url, invariants, baseline)


def test_correct_backfill_passes(any_url: str, tmp_path: Path) -> None:
    config, changes = make_shop(any_url, tmp_path)
    result = validate_around(any_url, changes, None, config)
    assert result.passed, to_markdown(result)
    kinds = {o.expectation for o in result.outcomes}
    assert {"expect_table_row_count_to_equal", "expect_column_values_to_not_be_null", "unexpected_rows_expectation",
            "dualpath_column_checksum_unchanged"} <= kinds
    counts = {o.table: o.observed for o in result.outcomes if o.expectation == "expect_table_row_count_to_equal"}
    assert counts == {"customers": 3, "orders": 10, "order_notes": 2}  # ints, also on MariaDB


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_broken_backfill_fails_with_the_expectation_that_caught_it(any_url: str, tmp_path: Path, bug: str) -> None:
    config, changes = make_shop(any_url, tmp_path)
    statements, expectation, table, column = BUGS[bug]
    result = validate_around(any_url, changes, statements, config)
    assert not result.passed
    caught = [(o.expectation, o.table, o.column) for o in result.failures]
    assert (expectation, table, column) in caught, to_markdown(result)
    assert all(o.error is None for o in result.outcomes), to_markdown(result)


def test_project_suite_runs_alongside(sqlite_url: str, tmp_path: Path) -> None:
    from dualpath.expectations.project import bind_suites
    from dualpath.validation.settings import ValidationSettings

    config, changes = make_shop(sqlite_url, tmp_path)
    suites_dir = tmp_path / "expectations"
    suites_dir.mkdir()
    (suites_dir / "orders_sane.yaml").write_text(
        "name: orders_sane\ntable: orders\nexpectations:\n"
        "  - expect_column_values_to_be_in_set: {column: status, value_set: [new, paid]}\n"
        "  - expect_column_values_to_be_between: {column: total_cents, min_value: 0, max_value: 500}\n")
    settings = ValidationSettings.model_validate({"bindings": [{"suite": "orders_sane", "tenants": ["acme*"]}]})
    assert bind_suites(settings, suites_dir, "globex") == []
    bound = bind_suites(settings, suites_dir, "acme-eu")
    result = check(sqlite_url, [], take_baseline(sqlite_url, []), suites=bound, tenant="acme-eu")
    failed = [(o.expectation, o.column, o.source) for o in result.failures]
    assert failed == [("expect_column_values_to_be_between", "total_cents", "suite:orders_sane")]


def test_results_are_plain_data(sqlite_url: str, tmp_path: Path) -> None:
    import json

    config, changes = make_shop(sqlite_url, tmp_path)
    invariants = derive_invariants(changes, snapshot_schema(sqlite_url))
    assert [Invariant.from_dict(json.loads(json.dumps(i.as_dict()))) for i in invariants] == invariants
    result = validate_around(sqlite_url, changes, BUGS["loses_rows"][0], config)
    data = json.loads(result.to_json())
    assert data["passed"] is False and data["outcomes"][0]["table"]
    assert "❌" in to_markdown(result)


def test_one_round_per_tenant_is_timed(any_url: str, tmp_path: Path) -> None:
    """Not an assertion on time: prints what one baseline + check costs on the shop (pytest -s)."""
    import dualpath.expectations.runner  # noqa: F401  (import cost is paid once per process, not per tenant)

    config, changes = make_shop(any_url, tmp_path)
    started = time.monotonic()
    invariants = derive_invariants(changes, snapshot_schema(any_url))
    baseline = take_baseline(any_url, invariants)
    before = time.monotonic() - started
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    started = time.monotonic()
    result = check(any_url, invariants, baseline)
    after = time.monotonic() - started
    print(f"\nvalidation round on {dialect_of(any_url)}: baseline {before:.3f} s + check {after:.3f} s "
          f"({len(result.outcomes)} expectations)")
    assert result.passed, to_markdown(result)
