"""Which statements the MySQL/MariaDB journal digests by the objects they name (engines/mysql/digest.py),
and which keep the whole schema's digest because their effect may reach objects they do not spell."""

from __future__ import annotations

import pytest

from dualpath.engines.mysql.digest import named_objects


@pytest.mark.parametrize(("sql", "kind", "names"), [
    ("ALTER TABLE accounts ADD COLUMN note INT", "table",
     {"ALTER", "TABLE", "accounts", "ADD", "COLUMN", "note", "INT"}),
    ("CREATE INDEX i ON `odd``name` (a)", "table", {"CREATE", "INDEX", "i", "ON", "odd`name", "a"}),
    ("DROP TABLE IF EXISTS a, b", "table", {"DROP", "TABLE", "IF", "EXISTS", "a", "b"}),
    ("RENAME TABLE old_t TO new_t", "table", {"RENAME", "TABLE", "old_t", "TO", "new_t"}),
    ("CREATE OR REPLACE VIEW v AS SELECT id FROM t", "view",
     {"CREATE", "OR", "REPLACE", "VIEW", "v", "AS", "SELECT", "id", "FROM", "t"}),
    ("CREATE DEFINER=`app`@`%` PROCEDURE p() SELECT 1", "routine",
     {"CREATE", "DEFINER", "app", "%", "PROCEDURE", "p", "SELECT", "1"}),
    ("-- why\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.v = 'x'", "trigger",
     {"CREATE", "TRIGGER", "trg", "BEFORE", "INSERT", "ON", "t", "FOR", "EACH", "ROW", "SET", "NEW", "v"}),
    ("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", "any",
     {"CREATE", "EVENT", "e", "ON", "SCHEDULE", "EVERY", "1", "DAY", "DO", "DELETE", "FROM", "t"}),
])
def test_ddl_is_digested_by_its_kind_and_every_name_it_spells(sql: str, kind: str, names: set[str]) -> None:
    found = named_objects(sql)
    assert found is not None and found[0] == kind and set(found[1]) == names


def test_names_differing_only_in_case_are_asked_once() -> None:
    """information_schema compares names without case: one of each is enough."""
    assert named_objects("ALTER TABLE T ADD COLUMN t INT") == ("table", ["ALTER", "TABLE", "T", "ADD", "COLUMN",
                                                                           "INT"])


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
