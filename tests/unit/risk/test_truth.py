"""WHERE clauses true for every row, and the row source lint --url asks the planner about."""

from __future__ import annotations

import pytest

from dualpath.risk.estimate import mysql_row_source, pg_row_source
from dualpath.risk.ops import extract_ops


@pytest.mark.parametrize(("where", "always"), [
    ("1 = 1", True), ("true", True), ("id = id", True), ("'a' = 'a'", True), ("2 > 1", True),
    ("NOT false", True), ("1 = 1 OR id = 5", True), ("(1 = 1) AND (2 = 2)", True),
    ("id = 5", False), ("1 = 1 AND id = 5", False), ("1 = 2", False), ("id = other_id", False),
    ("status IS NOT NULL", False),
])
@pytest.mark.parametrize("family", ["postgresql", "mysql"])
def test_always_true_where(where: str, always: bool, family: str) -> None:
    op = extract_ops(f"UPDATE orders SET note = 'x' WHERE {where}", family)[0]
    assert op.get("has_where") and bool(op.get("always_true")) is always


@pytest.mark.parametrize(("statement", "query"), [
    ("UPDATE orders SET gift = true WHERE id = 5", "SELECT 1 FROM orders WHERE id = 5"),
    ("DELETE FROM audit_log WHERE at < now()", "SELECT 1 FROM audit_log WHERE at < now()"),
    ("UPDATE orders o SET region = c.region FROM customers c WHERE c.id = o.customer_id",
     "SELECT 1 FROM orders AS o, customers AS c WHERE c.id = o.customer_id"),
    ("INSERT INTO archive SELECT * FROM orders WHERE id < 10", "SELECT * FROM orders WHERE id < 10"),
])
def test_postgresql_row_source(statement: str, query: str) -> None:
    assert pg_row_source(statement) == (query, None)


@pytest.mark.parametrize(("statement", "source"), [
    ("UPDATE orders SET note = 'x' WHERE id = 42", ("SELECT 1 FROM orders WHERE id = 42", None)),
    ("DELETE FROM audit_log WHERE msg LIKE 'e%' LIMIT 5", ("SELECT 1 FROM audit_log WHERE msg LIKE 'e%'", 5)),
    ("UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.note = c.name",
     ("SELECT 1 FROM orders o JOIN customers c ON c.id = o.customer_id", None)),
    ("INSERT INTO a SELECT * FROM orders;", ("SELECT * FROM orders", None)),
    ("INSERT INTO a VALUES (1)", None),
])
def test_mysql_row_source(statement: str, source: tuple[str, int | None] | None) -> None:
    assert mysql_row_source(statement) == source
