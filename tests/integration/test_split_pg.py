"""The statements split from real PostgreSQL migrations run, one by one, on a real server."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from dualpath.sql import split_statements

pytestmark = pytest.mark.integration

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

MIGRATION = r"""
-- dualpath:ticket OPS-7
/* a header comment; with /* a nested */ semicolon */
CREATE TABLE orders (
  id int PRIMARY KEY,  -- the key; not a delimiter
  note text,
  total numeric NOT NULL DEFAULT 0
);
CREATE TABLE audit (what text, at timestamptz DEFAULT now());

INSERT INTO orders (id, note) VALUES (1, E'it\'s; fine'), (2, 'don''t; split');

CREATE FUNCTION add_audit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  msg text := 'order ' || NEW.id || '; changed';
BEGIN
  INSERT INTO audit (what) VALUES (msg);
  RETURN NEW;
END;
$fn$;

CREATE TRIGGER orders_audit AFTER UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION add_audit();

CREATE FUNCTION make_table() RETURNS void LANGUAGE plpgsql AS $outer$
BEGIN
  EXECUTE $inner$ CREATE TABLE made (a int); $inner$;
  EXECUTE $inner$ INSERT INTO made VALUES (1); $inner$;
END
$outer$;
SELECT make_table();

DO $$
BEGIN
  UPDATE orders SET total = 10 WHERE id = 1;
  RAISE NOTICE 'done; really';
END
$$;

CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN x IS NULL THEN 0 ELSE x * 2 END;
END;

CREATE RULE orders_log AS ON DELETE TO orders DO ALSO (
  INSERT INTO audit (what) VALUES ('deleted');
  INSERT INTO audit (what) VALUES ('deleted again')
);

BEGIN;
UPDATE orders SET total = total + 1;
COMMIT;

-- dualpath:no-transaction
CREATE INDEX CONCURRENTLY orders_note ON orders (note);
VACUUM orders;
"""

PARTITIONS = """
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;
DROP INDEX CONCURRENTLY IF EXISTS missing_index;
"""


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database named after the test, dropped afterwards."""
    name = "dp_split_" + re.sub(r"\W", "_", request.node.name)[:30].lower() + "_" + secrets.token_hex(3)
    try:
        admin = psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not reachable ({exc}); run /work/shared/services.sh")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield SERVER.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_all(url: str, sql: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    for statement in split_statements(sql, file="V1__split.sql", dialect="postgresql"):
        try:
            conn.execute(statement.text)
        except psycopg.Error as exc:
            pytest.fail(f"{statement.where}: {exc}\n{statement.text}")
    return conn


def test_split_migration_runs_on_postgresql(database: str) -> None:
    statements = split_statements(MIGRATION, file="V1__split.sql", dialect="postgresql")
    assert len(statements) == 15
    assert statements[0].line == 4 and statements[0].directive("ticket")
    assert [s.no_transaction for s in statements][-2:] == [True, True]
    with run_all(database, MIGRATION) as conn:
        notes = dict(conn.execute("SELECT id, note FROM orders").fetchall())
        assert notes == {1: "it's; fine", 2: "don't; split"}
        assert conn.execute("SELECT total FROM orders WHERE id = 1").fetchone() == (11,)
        audit = [r[0] for r in conn.execute("SELECT what FROM audit ORDER BY at, what").fetchall()]
        assert "order 1; changed" in audit
        assert conn.execute("SELECT twice(4), count(*) FROM made").fetchone() == (8, 1)
        conn.execute("DELETE FROM orders WHERE id = 2")
        assert conn.execute("SELECT count(*) FROM audit WHERE what LIKE 'deleted%'").fetchone() == (2,)


def test_split_without_dialect_agrees_with_postgresql() -> None:
    pg = split_statements(MIGRATION, file="m.sql", dialect="postgresql")
    unknown = split_statements(MIGRATION, file="m.sql")
    assert [(s.text, s.line) for s in unknown] == [(s.text, s.line) for s in pg]


def test_statements_that_refuse_a_transaction_run_in_autocommit(database: str) -> None:
    statements = split_statements(PARTITIONS, file="V2__parts.sql", dialect="postgresql")
    assert [s.no_transaction for s in statements] == [False, False, True, True]
    with run_all(database, PARTITIONS) as conn:
        attached = conn.execute("SELECT count(*) FROM pg_inherits").fetchone()
        assert attached == (0,)
