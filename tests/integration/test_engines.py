"""Engines against real servers: versions, timeouts, lock errors, run locks, fingerprints, errors."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from dualpath.engines import open_engine
from dualpath.engines.base import Engine, Fingerprint
from dualpath.errors import ConnectionFailed, TargetRefused
from tests.integration.dbs import server_database, sqlite_database

pytestmark = pytest.mark.integration

# A run lock holder in another process: prints "locked", then waits to be killed.
HOLD = """
import sys, time
from dualpath.engines import open_engine
with open_engine(sys.argv[1]).run_lock("run-A17", "host-a.example"):
    print("locked", flush=True)
    time.sleep(600)
"""


def _exec(engine: Engine, *statements: str) -> None:
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.commit()


# -- server facts ------------------------------------------------------------------------


def test_version_and_flavor(any_url: str) -> None:
    engine = open_engine(any_url)
    with engine.connect() as conn:
        version, flavor = engine.server_version(conn), engine.server_flavor(conn)
    expected = {"postgresql": ("postgresql", 15), "mysql": ("mariadb", 10), "sqlite": ("sqlite", 3)}
    assert (flavor, version[0]) == expected[engine.name]
    assert engine.flavor == flavor
    assert engine.transactional_ddl is (engine.name != "mysql")


def test_sqlite_ddl_rolls_back_with_its_transaction(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        conn.rollback()
        assert not engine.table_exists(conn, "t")


# -- timeouts ----------------------------------------------------------------------------


def test_pg_timeouts_are_set(pg_url: str) -> None:
    engine = open_engine(pg_url)
    assert engine.timeout_statements(2000, 30000, local=True) == [
        "SET LOCAL lock_timeout = '2000ms'", "SET LOCAL statement_timeout = '30000ms'"]
    with engine.connect() as conn:
        engine.apply_timeouts(conn, 2000, 30000)
        conn.rollback()  # session settings survive a later rollback
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "2s"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"


def test_mariadb_timeouts_are_set(mysql_url: str) -> None:
    engine = open_engine(mysql_url)
    assert engine.timeout_statements(1500, 2500) == [
        "SET SESSION lock_wait_timeout = 2 /* 1500 ms rounded up */",
        "SET SESSION innodb_lock_wait_timeout = 2 /* 1500 ms rounded up */",
        "SET SESSION max_statement_time = 2.5"]
    assert engine.timeout_statements(0, 0)[0] == "SET SESSION lock_wait_timeout = 31536000"  # 0: no limit
    with engine.connect() as conn:
        engine.apply_timeouts(conn, 1500, 2500)
        row = conn.exec_driver_sql(
            "SELECT @@lock_wait_timeout, @@innodb_lock_wait_timeout, @@max_statement_time").one()
    assert tuple(row) == (2, 2, 2.5)


def test_sqlite_busy_timeout_is_set(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    assert engine.timeout_statements(1234, 5000) == ["PRAGMA busy_timeout = 1234"]
    with engine.connect() as conn:
        engine.apply_timeouts(conn, 1234, 5000)
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234


@contextmanager
def _holding_lock(engine: Engine) -> Iterator[None]:
    """Another session holds a lock on table t until the block ends."""
    with engine.connect() as conn:
        conn.exec_driver_sql({"postgresql": "LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
                              "mysql": "SELECT * FROM t",  # an open transaction keeps its metadata lock
                              "sqlite": "INSERT INTO t VALUES (1)"}[engine.name])
        yield
        conn.rollback()


def _blocked_statement(engine: Engine) -> str:
    return {"postgresql": "SELECT * FROM t", "mysql": "ALTER TABLE t ADD COLUMN x INT",
            "sqlite": "INSERT INTO t VALUES (2)"}[engine.name]


def test_lock_timeout_is_recognised(any_url: str) -> None:
    engine = open_engine(any_url)
    _exec(engine, "CREATE TABLE t (id INT)")
    with _holding_lock(engine), engine.connect() as conn:
        engine.apply_timeouts(conn, 200, 30000)
        with pytest.raises(DBAPIError) as caught:
            conn.exec_driver_sql(_blocked_statement(engine))
    assert engine.is_lock_timeout(caught.value)
    assert not engine.is_statement_timeout(caught.value)


@pytest.mark.parametrize("fixture", ["pg_url", "mysql_url"])
def test_statement_timeout_is_recognised(fixture: str, request: pytest.FixtureRequest) -> None:
    engine = open_engine(request.getfixturevalue(fixture))
    sleep = "SELECT pg_sleep(5)" if engine.name == "postgresql" else "SELECT SLEEP(5) FROM DUAL"
    with engine.connect() as conn:
        engine.apply_timeouts(conn, 5000, 200)
        with pytest.raises(DBAPIError) as raised:
            conn.exec_driver_sql(sleep)
    caught = raised.value
    assert engine.is_statement_timeout(caught)
    assert not engine.is_lock_timeout(caught)


# -- run lock ----------------------------------------------------------------------------


@contextmanager
def _holder_process(url: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _acquire_eventually(engine: Engine, seconds: float = 10) -> None:
    """The server notices a dead session a moment after the process dies."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with engine.run_lock("run-B", "host-b"):
                return
        except TargetRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_run_lock_refuses_a_second_run_and_frees_when_holder_dies(any_url: str) -> None:
    engine = open_engine(any_url)
    with _holder_process(any_url):
        with pytest.raises(TargetRefused) as refused:
            with engine.run_lock("run-B", "host-b"):
                pass
        holder = engine.current_holder()
    message = str(refused.value)
    assert "target locked by run run-A17 since " in message and "on host-a.example" in message
    assert refused.value.exit_code == 3 and refused.value.hint
    assert holder is not None and (holder.run_id, holder.host) == ("run-A17", "host-a.example")
    _acquire_eventually(engine)  # killed, never released: the server/kernel dropped it
    assert engine.current_holder() is None


def test_run_lock_is_released_on_exit_and_reentrant_after(any_url: str) -> None:
    engine = open_engine(any_url)
    with engine.run_lock("run-1", "here"):
        holder = engine.current_holder()
        assert holder is not None and holder.run_id == "run-1"
    assert engine.current_holder() is None
    with engine.run_lock("run-2", "here"):
        pass


def test_pg_holder_survives_a_long_host_name(pg_url: str) -> None:
    engine = open_engine(pg_url)
    host = "build-agent-0042.eu-central-1.compute.internal.example.com"
    with engine.run_lock("0123456789ab", host):
        holder = engine.current_holder()
    assert holder is not None and (holder.run_id, holder.host) == ("0123456789ab", host)


def test_mysql_stale_holder_row_does_not_block(mysql_url: str) -> None:
    engine = open_engine(mysql_url)
    with engine.run_lock("run-1", "here"):
        pass
    _exec(engine, "REPLACE INTO dualpath_run_lock VALUES "
                  f"('dualpath:{engine.url.database}', 'dead-run', 'gone', '2020-01-01T00:00:00Z', 999999)")
    with engine.run_lock("run-2", "here"):  # GET_LOCK is free: the row from "dead-run" is ignored
        holder = engine.current_holder()
    assert holder is not None and (holder.run_id, holder.host) == ("run-2", "here")


def test_run_lock_refusal_in_threads_for_sqlite(sqlite_url: str) -> None:
    # flock belongs to an open file, so even two opens in one process exclude each other.
    engine = open_engine(sqlite_url)
    errors: list[BaseException] = []
    with engine.run_lock("run-1", "here"):
        thread = threading.Thread(target=lambda: _try_lock(engine, errors))
        thread.start()
        thread.join()
    assert len(errors) == 1 and "run-1" in str(errors[0])


def _try_lock(engine: Engine, errors: list[BaseException]) -> None:
    try:
        with engine.run_lock("run-2", "there"):
            pass
    except TargetRefused as exc:
        errors.append(exc)


# -- the built-in gates' queries ------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["pg_url", "mysql_url"])
def test_the_lock_waits_gate_counts_a_session_waiting_for_a_row_lock(fixture: str,
                                                                    request: pytest.FixtureRequest) -> None:
    from dualpath.config import GateConfig
    from dualpath.engines.probes import poll
    from dualpath.gates import check_gate

    url = request.getfixturevalue(fixture)
    engine = open_engine(url)
    _exec(engine, "CREATE TABLE gated (id int PRIMARY KEY, n int)", "INSERT INTO gated VALUES (1, 0)")
    gate, results = GateConfig(name="waits", kind="lock_waits"), []
    with engine.connect() as holder:
        holder.exec_driver_sql("UPDATE gated SET n = 1 WHERE id = 1")  # the row stays locked until rollback
        waiter = threading.Thread(target=_exec, args=(engine, "UPDATE gated SET n = 2 WHERE id = 1"))
        waiter.start()
        try:  # the waiter is queued behind the holder by construction; the gate sees it once it is
            poll(lambda: results.append(check_gate(gate, url)) or not results[-1].passed, timeout_s=60)
        finally:
            holder.rollback()
            waiter.join()
    # (the server is shared: other sessions' waits may count too, so no assertion once ours is gone)
    assert not results[-1].passed and float(results[-1].observed) >= 1, results[-1]


# -- connection errors -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql://alice:s3cr3t-pw@127.0.0.1:1/app",
                                 "mysql://alice:s3cr3t-pw@127.0.0.1:1/app"])
def test_unreachable_server_names_endpoint_not_password(url: str) -> None:
    with pytest.raises(ConnectionFailed) as failed:
        with open_engine(url).connect():
            pass
    text = str(failed.value) + repr(failed.value.args)
    assert "127.0.0.1:1" in text and "s3cr3t-pw" not in text
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert "running" in (failed.value.hint or "")


@pytest.mark.parametrize("fixture", ["pg_url", "mysql_url"])
def test_missing_database_says_how_to_create_it(fixture: str, request: pytest.FixtureRequest) -> None:
    engine = open_engine(request.getfixturevalue(fixture))
    missing = open_engine(engine.url.set(database="dp_no_such_db_here"))
    with pytest.raises(ConnectionFailed) as failed:
        with missing.connect():
            pass
    assert "'dp_no_such_db_here' does not exist" in str(failed.value)
    assert "CREATE DATABASE" in (failed.value.hint or "")


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(ConnectionFailed, match="does not exist"):
        with open_engine(f"sqlite:///{path}").connect():
            pass
    assert not path.exists()


# -- tables ------------------------------------------------------------------------------


def test_tables_are_listed(any_url: str) -> None:
    engine = open_engine(any_url)
    _exec(engine, f"CREATE TABLE {engine.quote_ident('Odd Name')} (id INT)", "CREATE TABLE plain (id INT)")
    with engine.connect() as conn:
        assert list(engine.iter_tables(conn)) == sorted(["Odd Name", "plain"])
        assert engine.table_exists(conn, "Odd Name") and not engine.table_exists(conn, "nope")


# -- fingerprints ------------------------------------------------------------------------

_SQLITE_ORDERS = ("CREATE TABLE {name} (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                  "REFERENCES customers(id) ON DELETE CASCADE, total NUMERIC NOT NULL DEFAULT {default}, "
                  "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP{check})")
_SQLITE_CHECK = ", CONSTRAINT orders_total_check CHECK (total >= 0)"
_SQLITE_AROUND_ORDERS = [
    "CREATE INDEX orders_created_idx ON orders (created_at)",
    "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
    "CREATE TRIGGER orders_touch AFTER UPDATE ON orders BEGIN SELECT 1; END",
]

SCHEMAS = {
    "postgresql": [
        "CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE)",
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int NOT NULL "
        "REFERENCES customers(id) ON DELETE CASCADE, total numeric(10,2) NOT NULL DEFAULT 0 "
        "CONSTRAINT orders_total_check CHECK (total >= 0), created_at timestamptz NOT NULL DEFAULT now())",
        "CREATE INDEX orders_created_idx ON orders (created_at)",
        "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
        "CREATE SEQUENCE invoice_no START 1000",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE TABLE dualpath_history (id serial PRIMARY KEY)",
        "CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY)",
    ],
    "mysql": [
        "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL, "
        "UNIQUE KEY customers_email_key (email))",
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, "
        "total DECIMAL(10,2) NOT NULL DEFAULT 0, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
        "CONSTRAINT orders_total_check CHECK (total >= 0), CONSTRAINT orders_customer_fk "
        "FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE)",
        "CREATE INDEX orders_created_idx ON orders (created_at)",
        "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.total = NEW.total",
        "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
        "CREATE TABLE dualpath_history (id INT AUTO_INCREMENT PRIMARY KEY)",
    ],
    "sqlite": [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)",
        _SQLITE_ORDERS.format(name="orders", default=0, check=_SQLITE_CHECK),
        *_SQLITE_AROUND_ORDERS,
        "CREATE TABLE dualpath_history (id INTEGER PRIMARY KEY)",
    ],
}


def _sqlite_rebuild_orders(default: int, check: str) -> list[str]:
    """SQLite's way to change a default or drop a constraint: build a new table and swap."""
    return ["DROP VIEW big_orders", _SQLITE_ORDERS.format(name="orders_new", default=default, check=check),
            "INSERT INTO orders_new SELECT * FROM orders", "DROP TABLE orders",
            "ALTER TABLE orders_new RENAME TO orders", *_SQLITE_AROUND_ORDERS]


# (forward, backward, the one diff line expected)
CHANGES = {
    "postgresql": [
        (["DROP INDEX orders_created_idx"], ["CREATE INDEX orders_created_idx ON orders (created_at)"],
         "index orders_created_idx: missing after"),
        (["ALTER TABLE orders ALTER COLUMN total SET DEFAULT 1"],
         ["ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0"], "column orders.total: default 0 → 1"),
        (["ALTER TABLE orders DROP CONSTRAINT orders_total_check"],
         ["ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0)"],
         "constraint orders.orders_total_check: missing after"),
        (["ALTER TABLE orders ADD COLUMN note text"], ["ALTER TABLE orders DROP COLUMN note"],
         "column orders.note: extra after"),
        (["ALTER SEQUENCE invoice_no INCREMENT 5"], ["ALTER SEQUENCE invoice_no INCREMENT 1"],
         "sequence invoice_no: increment 1 → 5"),
        (["CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$"],
         ["CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"],
         "function touch(): body_sha256 "),
        (["ALTER TABLE orders DISABLE TRIGGER orders_touch"], ["ALTER TABLE orders ENABLE TRIGGER orders_touch"],
         "trigger orders.orders_touch: enabled origin → disabled"),
    ],
    "mysql": [
        (["DROP INDEX orders_created_idx ON orders"], ["CREATE INDEX orders_created_idx ON orders (created_at)"],
         "index orders.orders_created_idx: missing after"),
        (["ALTER TABLE orders ALTER COLUMN total SET DEFAULT 1"],
         ["ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0"], "column orders.total: default 0.00 → 1.00"),
        (["ALTER TABLE orders DROP CONSTRAINT orders_total_check"],
         ["ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0)"],
         "constraint orders.orders_total_check: missing after"),
        (["ALTER TABLE orders ADD COLUMN note TEXT"], ["ALTER TABLE orders DROP COLUMN note"],
         "column orders.note: extra after"),
        (["DROP TRIGGER orders_touch"],
         ["CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.total = NEW.total"],
         "trigger orders.orders_touch: missing after"),
    ],
    "sqlite": [
        (["DROP INDEX orders_created_idx"], ["CREATE INDEX orders_created_idx ON orders (created_at)"],
         "index orders_created_idx: missing after"),
        (_sqlite_rebuild_orders(1, _SQLITE_CHECK), _sqlite_rebuild_orders(0, _SQLITE_CHECK),
         "column orders.total: default 0 → 1"),
        (_sqlite_rebuild_orders(0, ""), _sqlite_rebuild_orders(0, _SQLITE_CHECK),
         "constraint orders.orders_total_check: missing after"),
        (["ALTER TABLE orders ADD COLUMN note TEXT"], ["ALTER TABLE orders DROP COLUMN note"],
         "column orders.note: extra after"),
    ],
}

# Changes the fingerprint must not see: data, counters, dualpath's and other tools' tables.
NOISE = {
    "postgresql": ["INSERT INTO customers (email) VALUES ('a@example.com')", "SELECT nextval('invoice_no')",
                   "ALTER TABLE dualpath_history ADD COLUMN note text", "DROP TABLE flyway_schema_history"],
    "mysql": ["INSERT INTO customers (email) VALUES ('a@example.com')",
              "ALTER TABLE dualpath_history ADD COLUMN note TEXT"],
    "sqlite": ["INSERT INTO customers (email) VALUES ('a@example.com')",
               "ALTER TABLE dualpath_history ADD COLUMN note TEXT"],
}


def _fingerprint(engine: Engine) -> Fingerprint:
    with engine.connect() as conn:
        return engine.fingerprint(conn)


def test_fingerprint_sees_the_schema_objects(any_url: str) -> None:
    engine = open_engine(any_url)
    _exec(engine, *SCHEMAS[engine.name])
    objects = _fingerprint(engine).objects
    assert set(objects["table"]) == {"customers", "orders"}
    assert {"view", "index", "constraint", "column", "trigger"} <= set(objects)
    assert "big_orders" in objects["view"]
    kinds = {attrs["type"] for attrs in objects["constraint"].values()}
    assert {"primary key", "foreign key", "check"} <= kinds
    if engine.name == "postgresql":
        assert {"invoice_no", "touch()"} <= set(objects["sequence"]) | set(objects["function"])


def test_fingerprint_diff_names_exactly_the_change(any_url: str) -> None:
    engine = open_engine(any_url)
    _exec(engine, *SCHEMAS[engine.name])
    base = _fingerprint(engine)
    for forward, backward, expected in CHANGES[engine.name]:
        _exec(engine, *forward)
        changed = _fingerprint(engine)
        lines = base.diff(changed)
        assert len(lines) == 1 and lines[0].startswith(expected), (forward, lines)
        assert changed.digest != base.digest
        _exec(engine, *backward)
        again = _fingerprint(engine)
        assert again == base and again.digest == base.digest, (backward, base.diff(again))


def test_fingerprint_ignores_data_counters_and_history_tables(any_url: str) -> None:
    engine = open_engine(any_url)
    _exec(engine, *SCHEMAS[engine.name])
    base = _fingerprint(engine)
    _exec(engine, *NOISE[engine.name])
    assert base.diff(_fingerprint(engine)) == []


def test_same_schema_in_another_database_has_the_same_digest(any_url: str, tmp_path: Path) -> None:
    engine = open_engine(any_url)
    _exec(engine, *SCHEMAS[engine.name])
    if engine.name == "sqlite":
        shadow_of = sqlite_database(tmp_path, "shadow")
    else:
        shadow_of = server_database(engine.name, "shadow")
    with shadow_of as shadow_url:
        shadow = open_engine(shadow_url)
        _exec(shadow, *SCHEMAS[engine.name])
        assert _fingerprint(engine).diff(_fingerprint(shadow)) == []


def test_mariadb_url_names_the_flavor_before_connecting() -> None:
    engine = open_engine("mariadb://root@127.0.0.1:1/x")  # nothing listens: it must not connect
    assert engine.flavor == "mariadb"
    assert engine.timeout_statements(2000, 1500)[-1] == "SET SESSION max_statement_time = 1.5"
