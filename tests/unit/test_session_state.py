"""Which MySQL/MariaDB statements only set this session's state (engines/mysql/session.py): a change
resumed after a kill runs those of its done statements again in the new session."""

from __future__ import annotations

import pytest

from dualpath.engines.mysql.session import sets_session_state


@pytest.mark.parametrize("sql", [
    "SET @ddl = CONCAT('ALTER TABLE t ADD c INT')", "set @a := 1, @b = 2", "SET NAMES utf8mb4",
    "SET FOREIGN_KEY_CHECKS = 0", "SET SESSION sql_mode = ''", "SET @@session.time_zone = '+00:00'",
    "SET sql_mode = 'ANSI'", "PREPARE st FROM @ddl", "prepare `s` from 'SELECT 1'", "USE tenant_a",
    "-- the statement\nSET @x = 1", "/* c */ SET character_set_client = utf8",
])
def test_session_state(sql: str) -> None:
    assert sets_session_state(sql)


@pytest.mark.parametrize("sql", [
    "SET GLOBAL max_connections = 500", "SET @@global.read_only = 1", "SET PERSIST x = 1",
    "SET PASSWORD FOR u = 'x'", "SET DEFAULT ROLE r TO u", "SET STATEMENT max_statement_time=1 FOR ALTER TABLE t",
    "EXECUTE st", "DEALLOCATE PREPARE st", "ALTER TABLE t ADD COLUMN c INT", "UPDATE t SET a = 1",
    "SELECT @x", "CREATE TABLE settings (id INT)",
])
def test_not_session_state(sql: str) -> None:
    assert not sets_session_state(sql)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SET search_path TO tenant_a", True), ("SET SESSION lock_timeout = '5s'", True), ("set role migrator", True),
    ("PREPARE q (int) AS SELECT $1", True), ("PREPARE q AS SELECT 1", True),
    ("SET LOCAL lock_timeout = '5s'", False), ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", False),
    ("SET CONSTRAINTS ALL DEFERRED", False), ("CREATE INDEX CONCURRENTLY i ON t (a)", False),
    ("UPDATE t SET a = 1", False), ("EXECUTE q(1)", False),
])
def test_postgresql_session_state(sql: str, expected: bool) -> None:
    from dualpath.engines import open_engine

    assert open_engine("postgresql://u@h/d").sets_session_state(sql) is expected
