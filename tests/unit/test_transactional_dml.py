"""Which statements commit only with their transaction (apply/common.py): those need no "started" journal
row and no digest of the schema before them. Session-only statements (SET of user variables, PREPARE,
DEALLOCATE) are among them; anything that may commit or change settings is not."""

from __future__ import annotations

import pytest

from dualpath.apply.common import is_transactional_dml
from dualpath.engines.mysql.session import sets_user_variables_only


def _commits_with_transaction(sql: str) -> bool:
    """What the journal asks on MySQL/MariaDB (apply/journal.py: Runner.commits_alone)."""
    return is_transactional_dml(sql) or sets_user_variables_only(sql)


@pytest.mark.parametrize("sql", [
    "INSERT INTO t VALUES (1)", "SELECT 1", "SET @x = (SELECT COUNT(*) FROM information_schema.columns)",
    "SET @a = 1, @b := 2", "set @s = concat('a, b', @@version)", "SET @a = IF(x, (SELECT 1), 2)",
    "PREPARE alterIfExists FROM @preparedStatement", "DEALLOCATE PREPARE alterIfExists",
    "-- why\nSET @x := 5",
    "SET @preparedStatement = (SELECT IF((SELECT COUNT(*) FROM INFORMATION_SCHEMA.STATISTICS WHERE table_name = "
    "'Jobs') > 0, 'SELECT 1', 'CREATE INDEX idx_jobs_status_type ON Jobs(Status, Type);'))",
])
def test_session_only_and_dml_statements_commit_with_their_transaction(sql: str) -> None:
    assert _commits_with_transaction(sql)


@pytest.mark.parametrize("sql", [
    "EXECUTE alterIfExists",  # may run DDL: it commits alone
    "SET autocommit = 1", "SET @@autocommit = 1", "SET @a = 1, autocommit = 1", "SET @a = f(1, 2), @@sql_mode = ''",
    "SET SESSION sql_mode = ''", "SET PASSWORD = 'x'", "CREATE TABLE t (id INT)", "SET @", "SET @a = 'unterminated",
])
def test_statements_that_may_commit_or_change_settings_commit_alone(sql: str) -> None:
    assert not _commits_with_transaction(sql)
