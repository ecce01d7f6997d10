"""Which statements the MySQL/MariaDB journal digests by the objects they name (engines/mysql_digest.py),
and which keep the whole schema's digest because their effect may reach objects they do not spell."""

from __future__ import annotations

import pytest

from dualpath.engines.mysql_digest import named_objects


@pytest.mark.parametrize(("sql", "names"), [
    ("ALTER TABLE accounts ADD COLUMN note INT", {"ALTER", "TABLE", "accounts", "ADD", "COLUMN", "note", "INT"}),
    ("CREATE INDEX i ON `odd``name` (a)", {"CREATE", "INDEX", "i", "ON", "odd`name", "a"}),
    ("DROP TABLE IF EXISTS a, b", {"DROP", "TABLE", "IF", "EXISTS", "a", "b"}),
    ("RENAME TABLE old_t TO new_t", {"RENAME", "TABLE", "old_t", "TO", "new_t"}),
    ("-- why\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.v = 'x'",
     {"CREATE", "TRIGGER", "trg", "BEFORE", "INSERT", "ON", "t", "FOR", "EACH", "ROW", "SET", "NEW", "v"}),
])
def test_ddl_is_digested_by_every_name_it_spells(sql: str, names: set[str]) -> None:
    assert set(named_objects(sql) or []) == names


def test_names_differing_only_in_case_are_asked_once() -> None:
    """information_schema compares names without case: one of each is enough."""
    assert named_objects("ALTER TABLE T ADD COLUMN t INT") == ["ALTER", "TABLE", "T", "ADD", "COLUMN", "INT"]


@pytest.mark.parametrize("sql", [
    "CALL add_columns()",  # a procedure runs DDL the statement does not spell
    "EXECUTE stmt",  # PREPARE ... FROM @sql: the SQL is in a variable
    "SET @s = 'ALTER TABLE t ADD COLUMN c INT'",
    "CREATE SEQUENCE s",  # a sequence's state is read from the sequence itself
    "ALTER TABLE t /*!50100 PARTITION BY HASH (id) */",  # executable comment: code the names skip
    "INSERT INTO t VALUES (1)",
    "DO SLEEP(1)",
])
def test_other_statements_keep_the_whole_schema_digest(sql: str) -> None:
    assert named_objects(sql) is None
