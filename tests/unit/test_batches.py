"""Batches without a server: statement rewriting, key encoding, pacing, throttles, directives."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dualpath.batching.keys import decode_key, encode_key
from dualpath.batching.throttle import LagGate, Pace, RateLimit
from dualpath.directives import parse_directive
from dualpath.engines import open_engine
from dualpath.engines.key_range import (
    SENTINEL,
    RewriteError,
    place_range,
    restrict_with_pglast,
    restrict_with_sqlglot,
)
from dualpath.errors import InputError


@pytest.mark.parametrize(("sql", "table", "expected", "qualifier"), [
    ("UPDATE orders SET n = n + 1 WHERE a = 1 OR b = 2", "orders",
     f"UPDATE orders SET n = n + 1 WHERE (a = 1 OR b = 2) AND {SENTINEL}", "orders"),
    ("UPDATE orders o SET n = 1 FROM c WHERE c.id = o.cid", "orders",
     f"UPDATE orders AS o SET n = 1 FROM c WHERE c.id = o.cid AND {SENTINEL}", "o"),
    ("DELETE FROM app.orders", "app.orders", f"DELETE FROM app.orders WHERE {SENTINEL}", "orders"),
    ("INSERT INTO b (id) SELECT x.id FROM a x JOIN c ON c.id = x.cid WHERE x.v > 1", "a",
     f"INSERT INTO b (id) SELECT x.id FROM a AS x INNER JOIN c ON c.id = x.cid WHERE x.v > 1 AND {SENTINEL}", "x"),
])
def test_pglast_ands_the_range_into_the_right_where(sql: str, table: str, expected: str, qualifier: str) -> None:
    assert restrict_with_pglast(sql, table, SENTINEL) == (expected, qualifier)


@pytest.mark.parametrize(("sql", "table", "dialect", "qualifier"), [
    ("UPDATE orders o JOIN c ON c.id = o.cid SET o.n = 1 WHERE o.s = 'a' OR o.x > 1", "orders", "mysql", "o"),
    ("DELETE o FROM orders o JOIN c ON c.id = o.cid WHERE c.x = 1", "orders", "mysql", "o"),
    ("DELETE FROM orders WHERE x IN (SELECT id FROM orders WHERE y = 1)", "orders", "mysql", "orders"),
    ("WITH q AS (SELECT id FROM t) UPDATE t SET n = 1 FROM q WHERE q.id = t.id", "t", "sqlite", "t"),
    ("INSERT INTO b SELECT * FROM a WHERE a.v > 1", "a", "sqlite", "a"),
])
def test_sqlglot_ands_the_range_into_the_outer_where(sql: str, table: str, dialect: str, qualifier: str) -> None:
    rewritten, found = restrict_with_sqlglot(sql, table, SENTINEL, dialect)
    assert found == qualifier
    assert rewritten.count(SENTINEL) == 1 and f"AND {SENTINEL}" in rewritten


@pytest.mark.parametrize("sql", ["INSERT INTO b VALUES (1)", "SELECT * FROM a", "UPDATE a SET x = 1 FROM a a2",
                                 "UPDATE other SET x = 1"])
def test_statements_that_cannot_be_paged_are_refused(sql: str) -> None:
    with pytest.raises(RewriteError):
        restrict_with_pglast(sql, "a", SENTINEL)
    with pytest.raises(RewriteError):
        restrict_with_sqlglot(sql, "a", SENTINEL, "mysql")


def test_place_range_escapes_the_users_colons_only() -> None:
    placed = place_range(f"UPDATE t SET s = ' :x', u = 'a:b', c = x::text WHERE {SENTINEL}", "t.id > :dp_lo_0")
    assert placed == "UPDATE t SET s = ' \\:x', u = 'a:b', c = x::text WHERE (t.id > :dp_lo_0)"


def test_row_compare_is_spelled_out_for_mysql_and_row_values_elsewhere() -> None:
    mysql = open_engine("mysql://u@h/db")
    assert mysql.row_compare(["a", "b"], ">", ["p0", "p1"]) == "((a > :p0) OR (a = :p0 AND b > :p1))"
    assert mysql.row_compare(["a", "b"], "<=", ["p0", "p1"]) == "((a < :p0) OR (a = :p0 AND b <= :p1))"
    assert open_engine("postgresql://u@h/db").row_compare(["a", "b"], ">", ["p0", "p1"]) == "(a, b) > (:p0, :p1)"
    assert open_engine("sqlite:///x.db").row_compare(["a"], "<=", ["p0"]) == "a <= :p0"


@pytest.mark.parametrize(("ddl", "never_null"), [
    ("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)", {"id"}),  # the rowid alias
    ("CREATE TABLE t (id integer, x TEXT, PRIMARY KEY (id))", {"id"}),  # same, spelled as a constraint
    ("CREATE TABLE t (id INTEGER PRIMARY KEY DESC, x TEXT)", set()),  # DESC: not an alias, may hold NULL
    ("CREATE TABLE t (id INT PRIMARY KEY, x TEXT)", set()),  # INT is not INTEGER: not an alias
    ("CREATE TABLE t (a INTEGER, b INTEGER, PRIMARY KEY (a, b))", set()),
    ("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID", set()),  # NOT NULL is reflected there
    ("CREATE TABLE t (x TEXT)", set()),
])
def test_sqlite_knows_its_rowid_alias_is_never_null(tmp_path: Path, ddl: str, never_null: set[str]) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    engine.ensure_exists()
    with engine.connect() as conn:
        conn.exec_driver_sql(ddl)
        assert engine.never_null(conn, "t") == never_null
        assert engine.never_null(conn, "main.t") == never_null


def test_server_engines_trust_reflection_for_not_null() -> None:
    for url in ("postgresql://u@h/db", "mysql://u@h/db"):
        assert open_engine(url).never_null(None, "t") == set()  # type: ignore[arg-type]


def test_deadlock_victims_are_told_apart_from_other_errors() -> None:
    import psycopg.errors
    import pymysql.err
    from sqlalchemy.exc import OperationalError

    from dualpath.batching.runner import retryable

    pg, mysql, sqlite = (open_engine(u) for u in ("postgresql://u@h/db", "mysql://u@h/db", "sqlite:///x.db"))
    pg_deadlock = OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))
    my_deadlock = OperationalError("UPDATE", {}, pymysql.err.OperationalError(1213, "Deadlock found"))
    my_timeout = OperationalError("UPDATE", {}, pymysql.err.OperationalError(1205, "Lock wait timeout"))
    assert pg.is_deadlock(pg_deadlock) and retryable(pg, pg_deadlock) and not pg.is_lock_timeout(pg_deadlock)
    assert mysql.is_deadlock(my_deadlock) and retryable(mysql, my_deadlock)
    assert not mysql.is_deadlock(my_timeout) and retryable(mysql, my_timeout)
    assert not pg.is_deadlock(my_deadlock) and not mysql.is_deadlock(pg_deadlock)
    assert not sqlite.is_deadlock(my_deadlock)
    unique = OperationalError("UPDATE", {}, psycopg.errors.UniqueViolation("duplicate key"))
    assert not retryable(pg, unique)


def test_the_chunk_bound_skips_inside_its_range() -> None:
    from dualpath.batching.chunks import ChunkPlan
    from dualpath.batching.keys import Key

    plan = ChunkPlan(open_engine("postgresql://u@h/db"), Key("t", ("id",)), "", "", '"t"', ('"id"',))
    assert plan.bound_sql(True, 500) == 'SELECT "id" FROM "t" WHERE "id" > :dp_lo_0 ORDER BY "id" LIMIT 1 OFFSET 499'
    assert plan.bound_sql(False, 1) == 'SELECT "id" FROM "t" ORDER BY "id" LIMIT 1'


def test_keys_of_every_type_survive_the_checkpoint() -> None:
    value = (1, "x", uuid.uuid4(), datetime(2024, 1, 2, 3, 4, 5), Decimal("1.50"), b"\x00\xff")
    assert decode_key(encode_key(value)) == value


def test_pace_moves_toward_the_target_and_halves_on_lock_timeouts() -> None:
    pace = Pace(size=1000, target_ms=200, max_size=100_000)
    pace.after_chunk(1000, 50)
    assert pace.size == 2000  # at most x2 per chunk
    pace.after_chunk(2000, 400)
    assert pace.size == 1000
    pace.after_chunk(300, 10)  # a short last chunk says nothing
    assert pace.size == 1000
    pace.after_lock_timeout()
    assert pace.size == 500


def test_rate_limit_sleeps_to_stay_under_the_ceiling() -> None:
    clock = iter([0.0, 0.1, 0.2]).__next__
    limit = RateLimit(1000, clock=clock)
    assert limit.delay_after(500) == pytest.approx(0.4)  # 500 rows may take 0.5 s; 0.1 s went
    assert RateLimit(0).delay_after(10**9) == 0.0


def test_lag_gate_waits_while_a_replica_lags() -> None:
    lags = iter([5.0, 3.0, 0.2])
    slept: list[float] = []
    notes: list[str] = []
    gate = LagGate([lambda: None, lambda: next(lags)], max_lag_s=1.0, note=notes.append, sleep=slept.append)
    assert gate.wait() == 2.0
    assert len(slept) == 2 and "replica lag 5.0 s" in notes[0]


def test_batch_directive_accepts_composite_keys_and_rejects_typos() -> None:
    d = parse_directive("-- dualpath:batch table=app.orders key=tenant_id,id max_lag_ms=500", "m.sql", 3)
    assert d is not None and d.args["key"] == "tenant_id,id"
    with pytest.raises(InputError, match="unknown argument sise="):
        parse_directive("-- dualpath:batch table=orders key=id sise=10", "m.sql", 3)
    with pytest.raises(InputError, match="not a column name"):
        parse_directive("-- dualpath:batch table=orders key=id,id", "m.sql", 3)
