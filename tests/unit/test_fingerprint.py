"""Fingerprint canonicalisation, digest and diff, without a server."""

from __future__ import annotations

from dualpath.engines.base import Fingerprint
from dualpath.engines.fingerprint import body_hash, build_fingerprint, is_foreign_table, normalize_sql, show


def _orders(**total: object) -> Fingerprint:
    column = {"table": "orders", "type": "numeric", "nullable": True, "default": "0"} | total
    return Fingerprint({
        "table": {"orders": {"kind": "table"}},
        "column": {"orders.total": column, "orders.id": {"table": "orders", "type": "bigint"}},
        "index": {"orders_created_idx": {"table": "orders", "columns": ["created_at"], "unique": False}},
    })


def test_digest_ignores_key_order_and_empty_kinds() -> None:
    a = Fingerprint({"table": {"b": {"x": 1, "y": 2}, "a": {}}, "view": {}})
    b = Fingerprint({"table": {"a": {}, "b": {"y": 2, "x": 1}}})
    assert a == b and a.digest == b.digest and len(a.digest) == 64


def test_digest_changes_with_any_attribute() -> None:
    assert _orders().digest != _orders(default=None).digest
    assert _orders().digest == _orders().digest


def test_tuples_and_lists_are_the_same() -> None:
    as_tuple = Fingerprint({"index": {"i": {"columns": ("a", "b")}}})
    assert as_tuple == Fingerprint({"index": {"i": {"columns": ["a", "b"]}}})


def test_diff_of_equal_fingerprints_is_empty() -> None:
    assert _orders().diff(_orders()) == []


def test_diff_says_missing_extra_and_changed() -> None:
    before = _orders()
    after = _orders(default=None)
    del after.objects["index"]["orders_created_idx"]
    after.objects["column"]["orders.note"] = {"table": "orders", "type": "text"}
    assert before.diff(after) == [
        "column orders.note: extra after",
        "column orders.total: default 0 → NULL",
        "index orders_created_idx: missing after",
    ]


def test_diff_lists_a_dropped_table_once_not_its_children() -> None:
    after = Fingerprint({"table": {}})
    assert _orders().diff(after) == ["table orders: missing after"]
    assert after.diff(_orders()) == ["table orders: extra after"]


def test_diff_shows_values_for_people() -> None:
    before = Fingerprint({"index": {"i": {"unique": False, "columns": ["a"], "predicate": ""}}})
    after = Fingerprint({"index": {"i": {"unique": True, "columns": ["a", "b"], "predicate": "x > 0"}}})
    assert before.diff(after) == [
        'index i: columns ["a"] → ["a", "b"]',
        "index i: predicate '' → x > 0",
        "index i: unique false → true",
    ]
    assert show("x" * 500).endswith("…") and len(show("x" * 500)) == 160


def test_foreign_tables_and_their_parts_are_left_out() -> None:
    fingerprint = build_fingerprint([
        ("table", "orders", {}),
        ("table", "dualpath_history", {}),
        ("table", "flyway_schema_history", {}),
        ("table", "DATABASECHANGELOG", {}),
        ("table", "__diesel_schema_migrations", {}),
        ("column", "dualpath_history.id", {"table": "dualpath_history"}),
        ("index", "schema_migrations_pkey", {"table": "schema_migrations"}),
        ("sequence", "dualpath_history_id_seq", {"table": None}),
        ("column", "orders.id", {"table": "orders"}),
    ])
    assert fingerprint.objects == {"table": {"orders": {}}, "column": {"orders.id": {"table": "orders"}}}
    assert is_foreign_table("audit.DatabaseChangeLogLock") and not is_foreign_table("migrations")


def test_normalize_sql_collapses_layout_but_not_literals() -> None:
    assert normalize_sql("CREATE  INDEX x\n  ON t ( a ,  b );") == "CREATE INDEX x ON t(a,b)"
    assert normalize_sql("SELECT  'a  b' ,\"c  d\"") == "SELECT 'a  b',\"c  d\""


def test_body_hash_ignores_whitespace_only() -> None:
    assert body_hash("BEGIN\n  RETURN NEW;\nEND") == body_hash("BEGIN RETURN NEW; END")
    assert body_hash("BEGIN RETURN NEW; END") != body_hash("BEGIN RETURN OLD; END")
    assert body_hash(None) is None
