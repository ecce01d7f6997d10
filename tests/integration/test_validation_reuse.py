"""Validation across many tenants in one worker: suite files read once, one GX context per thread,
each tenant's result its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dualpath.expectations import runner
from dualpath.expectations.project import bind_suites
from dualpath.expectations.runner import check
from dualpath.tenants.cache import SUITES
from dualpath.validation.baseline import take_baseline
from dualpath.validation.invariants import derive_invariants, snapshot_schema
from dualpath.validation.settings import ValidationSettings
from tests.integration.dbs import sqlite_database
from tests.integration.test_validate_suites import BUGS, make_shop, run_sql

pytestmark = pytest.mark.integration

SUITE = ("name: orders_sane\ntable: orders\nexpectations:\n"
         "  - expect_column_values_to_be_between: {column: total_cents, min_value: 0, max_value: MAX}\n")


def test_suites_are_read_once_for_many_tenants_and_again_when_edited(tmp_path: Path) -> None:
    SUITES.clear()
    (tmp_path / "orders_sane.yaml").write_text(SUITE.replace("MAX", "500"))
    settings = ValidationSettings()
    bound = [bind_suites(settings, tmp_path, f"tenant-{i}") for i in range(20)]
    assert SUITES.loads == 1 and all(b == bound[0] for b in bound)
    (tmp_path / "orders_sane.yaml").write_text(SUITE.replace("MAX", "900"))  # same size
    again = bind_suites(settings, tmp_path, "tenant-0")
    assert SUITES.loads == 2 and again[0].suite.expectations()[0].max_value == 900


def test_one_context_serves_many_tenants_and_keeps_their_results_apart(tmp_path: Path) -> None:
    """Three tenants validated one after another in one thread: one GX context; the middle one's bug is
    caught and does not leak into the third's result."""
    made = runner.CONTEXTS_MADE[0]
    results = []
    for name, bug in (("a", None), ("b", "nulls_column"), ("c", None)):
        folder = tmp_path / name
        folder.mkdir()
        with sqlite_database(folder, f"tenant_{name}") as url:
            config, changes = make_shop(url, folder)
            invariants = derive_invariants(changes, snapshot_schema(url))
            baseline = take_baseline(url, invariants)
            run_sql(url, BUGS[bug][0] if bug else ["ALTER TABLE orders ADD COLUMN total_eur INTEGER",
                                                    "UPDATE orders SET total_eur = total_cents"])
            results.append(check(url, invariants, baseline, tenant=name))
            shutil.rmtree(folder / "migrations")
    assert runner.CONTEXTS_MADE[0] - made <= 1  # none when this thread already had one
    assert [r.passed for r in results] == [True, False, True]
    assert ("expect_column_values_to_not_be_null", "total_eur") in [(o.expectation, o.column)
                                                                   for o in results[1].failures]
    context = runner._CONTEXTS.context
    assert context is not None and not context.data_sources.all() and not context.suites.all()
    # the context's config was never rendered to YAML for a store nobody reads (a third of a validation)
    assert context.variables.store.list_keys() == []


def test_a_validation_leaves_no_connection_open(pg_url: str, tmp_path: Path) -> None:
    """GX makes two engines per data source (its own and its execution engine's); pooled, each kept idle
    connections until garbage collection, which added up to dozens across a fan-out. Afterwards the
    tenant's database has no connection of ours left."""
    import gc

    import psycopg

    _, changes = make_shop(pg_url, tmp_path)
    invariants = derive_invariants(changes, snapshot_schema(pg_url))
    baseline = take_baseline(pg_url, invariants)
    run_sql(pg_url, ["ALTER TABLE orders ADD COLUMN total_eur INTEGER", "UPDATE orders SET total_eur = total_cents"])
    gc.disable()  # what is left must be closed by the code, not by the collector
    try:
        for _ in range(3):
            assert check(pg_url, invariants, baseline, tenant="a").passed
        database = pg_url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
                             + "/postgres", autocommit=True) as admin:
            left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)).fetchone()
    finally:
        gc.enable()
    assert left is not None and left[0] == 0, f"{left[0] if left else '?'} connection(s) left open"
