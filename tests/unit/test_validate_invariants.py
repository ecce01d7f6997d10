"""derive_invariants: change set + schema before it → the invariants each tenant is checked against."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dualpath.changes import Change, Statement
from dualpath.sources import read_changes
from dualpath.validation.invariants import Invariant, derive_invariants
from dualpath.validation.schema import ForeignKey, SchemaSnapshot, TableShape
from dualpath.validation.statements import read_data_statement

SHOP = Path(__file__).parents[2] / "examples" / "shop" / "migrations"


def shop(dialect: str = "postgresql") -> SchemaSnapshot:
    customers = TableShape("customers", ("id", "tenant_id", "email", "name"), frozenset({"id", "tenant_id", "email",
                           "name"}), ("id",), (("tenant_id", "email"),))
    orders = TableShape("orders", ("id", "customer_id", "total_cents", "status", "note"),
                        frozenset({"id", "customer_id", "total_cents", "status"}), ("id",), (),
                        (ForeignKey("orders", ("customer_id",), "customers", ("id",)),))
    notes = TableShape("order_notes", ("id", "order_id", "body"), frozenset({"id", "order_id"}), ("id",), (),
                       (ForeignKey("order_notes", ("order_id",), "orders", ("id",)),))
    audit = TableShape("audit_log", ("id", "msg"), frozenset({"id"}), ("id",))
    return SchemaSnapshot(dialect, {t.name: t for t in (customers, orders, notes, audit)})


def change(*sql: str, version: str = "9") -> Change:
    statements = tuple(Statement(text, f"V{version}__x.sql", i + 1) for i, text in enumerate(sql))
    return Change(version, "x", statements, (), f"V{version}__x.sql")


def by_kind(invariants: list[Invariant], kind: str) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((i.table, i.columns) for i in invariants if i.kind == kind)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_backfill_of_a_new_column(dialect: str) -> None:
    found = derive_invariants([change("ALTER TABLE orders ADD COLUMN total_eur INTEGER",
                                      "UPDATE orders SET total_eur = total_cents")], shop(dialect))
    assert by_kind(found, "row_count_unchanged") == [(t, ()) for t in ("audit_log", "customers", "order_notes",
                                                                        "orders")]
    assert by_kind(found, "not_null") == [("orders", ("total_eur",))]  # from NOT NULL total_cents, all rows
    assert by_kind(found, "checksum_unchanged") == [("orders", (c,)) for c in
                                                    ("customer_id", "id", "note", "status", "total_cents")]
    backfill = [i for i in found if i.kind == "backfill_matches"]
    assert [(i.table, i.columns, i.expression, i.key) for i in backfill] == [
        ("orders", ("total_eur",), "total_cents", ("id",))]
    fks = sorted((i.table, i.columns, i.parent) for i in found if i.kind == "foreign_key")
    assert fks == [("order_notes", ("order_id",), "orders"), ("orders", ("customer_id",), "customers")]
    assert all(i.why for i in found)


def test_partial_or_nullable_backfill_is_not_required_not_null() -> None:
    found = derive_invariants([change("UPDATE orders SET status = 'paid' WHERE id < 5",
                                      "UPDATE orders SET note = UPPER(note)")], shop())
    # status is declared NOT NULL and touched; note reads itself, so it cannot be recomputed afterwards
    assert by_kind(found, "not_null") == [("orders", ("status",))]
    assert [(i.columns, i.where) for i in found if i.kind == "backfill_matches"] == [(("status",), "id < 5")]


def test_volatile_and_self_referencing_backfills_are_not_recomputed() -> None:
    found = derive_invariants([change("UPDATE orders SET total_cents = total_cents * 100, note = now()")], shop())
    assert by_kind(found, "backfill_matches") == []
    assert ("orders", ("status",)) in by_kind(found, "checksum_unchanged")


def test_moving_rows_reconciles_counts() -> None:
    found = derive_invariants([change("CREATE TABLE orders_archive (id INTEGER PRIMARY KEY, total_cents INTEGER)",
                                      "INSERT INTO orders_archive SELECT id, total_cents FROM orders WHERE id < 100",
                                      "DELETE FROM orders WHERE id < 100")], shop())
    reconciles = {i.table: i.deltas for i in found if i.kind == "row_count_reconciles"}
    assert set(reconciles) == {"orders", "orders_archive"}
    assert reconciles["orders"][0][0] == -1 and "WHERE id < 100" in reconciles["orders"][0][1]
    assert reconciles["orders_archive"][0][0] == 1 and "FROM orders" in reconciles["orders_archive"][0][1]
    assert ("orders", ()) not in by_kind(found, "row_count_unchanged")


def test_values_inserts_count_their_rows() -> None:
    found = derive_invariants([change("INSERT INTO audit_log (id, msg) VALUES (1, 'a'), (2, 'b')")], shop())
    assert [i.deltas for i in found if i.kind == "row_count_reconciles"] == [((1, "SELECT 2"),)]


def test_dropped_truncated_and_renamed_tables_lose_their_count() -> None:
    found = derive_invariants([change("DROP TABLE audit_log", "TRUNCATE order_notes",
                                      "ALTER TABLE customers RENAME TO clients")], shop())
    assert by_kind(found, "row_count_unchanged") == [("orders", ())]
    assert all(i.table != "order_notes" and i.parent != "order_notes" for i in found if i.kind == "foreign_key")


def test_constraints_the_change_adds_are_checked() -> None:
    found = derive_invariants([change(
        "ALTER TABLE audit_log ADD COLUMN customer_id INTEGER",
        "ALTER TABLE audit_log ADD CONSTRAINT audit_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "CREATE UNIQUE INDEX audit_msg_key ON audit_log (msg, customer_id)",
        "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email)")], shop())
    assert ("audit_log", ("customer_id",), "customers", ("id",)) in [
        (i.table, i.columns, i.parent, i.parent_columns) for i in found if i.kind == "foreign_key"]
    assert ("audit_log", ("msg", "customer_id")) in by_kind(found, "unique")
    assert ("customers", ("email",)) in by_kind(found, "unique")
    # the existing compound key (tenant_id, email) shares a touched column
    assert ("customers", ("tenant_id", "email")) in by_kind(found, "unique")


def test_set_not_null_and_retyped_columns() -> None:
    found = derive_invariants([change("ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
                                      "ALTER TABLE orders ALTER COLUMN status TYPE TEXT")], shop())
    assert by_kind(found, "not_null") == [("orders", ("note",))]


def test_tolerances_apply_per_table_or_everywhere() -> None:
    found = derive_invariants([change("UPDATE orders SET note = 'x'")], shop(), tolerances={"audit_log": 0.1,
                                                                                            "*": 0.01})
    tolerance = {i.table: i.tolerance for i in found if i.kind == "row_count_unchanged"}
    assert tolerance == {"audit_log": 0.1, "customers": 0.01, "order_notes": 0.01, "orders": 0.01}


def test_unreadable_statements_are_skipped_not_fatal() -> None:
    found = derive_invariants([change("THIS IS NOT SQL", "UPDATE orders SET note = 'x'")], shop())
    assert ("orders", ("note",)) in by_kind(found, "backfill_matches")


def test_refs_are_unique_and_round_trip() -> None:
    found = derive_invariants([change("UPDATE orders SET note = 'x'"), change("UPDATE orders SET note = 'y'")], shop())
    assert len({i.ref for i in found}) == len(found)
    assert [i.expression for i in found if i.kind == "backfill_matches"] == ["'y'"]  # the last write wins
    assert [Invariant.from_dict(i.as_dict()) for i in found] == found


def test_shop_changes_derive_from_the_real_folder() -> None:
    changes = [c for c in read_changes(SHOP, dialect="postgresql") if c.version in ("5", "6")]
    if len(changes) < 2:
        pytest.skip("the shop's display_name backfill is not in examples/shop")
    found = derive_invariants(changes, shop())
    assert ("customers", ("display_name",)) in by_kind(found, "backfill_matches")
    assert ("customers", ("email",)) in by_kind(found, "checksum_unchanged")


def test_read_data_statement_in_mysql_quotes() -> None:
    facts = read_data_statement("UPDATE `orders` SET `total_eur` = `total_cents` WHERE `id` > 3", "mysql")
    assert (facts.table, facts.assignments[0].column, facts.where) == ("orders", "total_eur", "`id` > 3")


def test_cli_import_does_not_load_great_expectations() -> None:
    code = "import sys, dualpath.cli, dualpath.validation.invariants, dualpath.validation.baseline; " \
           "print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
