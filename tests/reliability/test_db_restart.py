"""The database server restarts (crash: `pg_ctl stop -m immediate` / kill -9 mariadbd, then start)
while `dualpath apply` runs — on private servers, never the shared ones.

Asserted each time: dualpath exits without a traceback, naming the change and telling to run
again; the database is exactly as before the interrupted change (fingerprint and row checksums);
history does not claim it applied; and a re-run after the server is back finishes the job, ending
exactly where an undisturbed run ends (a reference database on the same server). A restart in the
middle of a `-- dualpath:batch` is resumed from its checkpoint with every row changed exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli, status_json, write_config
from tests.reliability.server_support import (
    DUALPATH,
    PrivateMariadb,
    PrivatePostgres,
    database_state,
    private_mariadb,
    private_pg,
    run_dualpath,
)

__all__ = ["private_mariadb", "private_pg"]  # fixtures, imported for pytest

ROWS = 2000
Server = PrivatePostgres | PrivateMariadb


@pytest.fixture(params=["postgresql", "mysql"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue("private_pg" if request.param == "postgresql" else "private_mariadb")


def new_database(server: Server, suffix: str = "") -> str:
    engine = open_engine(server.url)
    url = engine.create_database(f"dp_restart_{secrets.token_hex(4)}{suffix}")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def databases(server: Server) -> Iterator[tuple[str, str]]:
    """(the database under test, a reference database migrated without faults), dropped afterwards."""
    urls = new_database(server), new_database(server, "_ref")
    yield urls
    engine = open_engine(server.url)
    for url in urls:
        engine.drop_database(url.rsplit("/", 1)[1])


def sleep_sql(dialect: str, seconds: int) -> str:
    """A slow step, slow only while a table ``slow_step`` exists: the reference and the re-run need no wait."""
    if dialect == "postgresql":
        return ("SELECT pg_sleep(CASE WHEN to_regclass('slow_step') IS NULL THEN 0 ELSE "
                f"{seconds} END);")
    return ("DO SLEEP(IF((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
            f"AND table_name = 'slow_step') > 0, {seconds}, 0));")


def set_slow(url: str, slow: bool) -> None:
    with open_engine(url).connect() as conn:
        conn.exec_driver_sql("CREATE TABLE slow_step (id INTEGER)" if slow else "DROP TABLE slow_step")
        conn.commit()


def write_project(folder: Path, url: str, dialect: str, change2: str, rollback2: str) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "V1__create_items.sql").write_text(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);\n"
        + "".join(f"INSERT INTO items (id, v) SELECT {i * 500} + n, {i * 500} + n FROM ({numbers(dialect)}) s;\n"
                  for i in range(ROWS // 500)))
    (migrations / "U1__create_items.sql").write_text("DROP TABLE items;\n")
    (migrations / "V2__slow_change.sql").write_text(change2)
    (migrations / "U2__slow_change.sql").write_text(rollback2)
    return write_config(folder, url, statement_timeout_ms=120000)


def numbers(dialect: str) -> str:
    """1..500 as a derived table ``n`` on both servers."""
    if dialect == "postgresql":
        return "SELECT generate_series(1, 500) AS n"
    return "SELECT seq AS n FROM seq_1_to_500"  # MariaDB's Sequence engine


def apply_in_background(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(DUALPATH), "apply", "--config", str(config), "--url", "db"], cwd=config.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(condition: Callable[[], bool], seconds: float, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"dualpath ended before {what}:\n{proc.stdout.read() if proc.stdout else ''}", pytrace=False)
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{what} did not happen within {seconds} s", pytrace=False)
        time.sleep(0.05)


def query(server: Server, sql: str) -> list[tuple[object, ...]]:
    try:
        with open_engine(server.url).connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]
    except Exception:  # the server may be on its way down or up: not yet
        return []


def sleeping(server: Server, url: str) -> bool:
    """Is dualpath's session inside the slow step right now?"""
    database = url.rsplit("/", 1)[1]
    if isinstance(server, PrivatePostgres):
        return bool(query(server, "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND "
                                  f"strpos(query, 'pg_sleep') > 0 AND datname = '{database}' "
                                  "AND pid <> pg_backend_pid()"))
    return bool(query(server, "SELECT 1 FROM information_schema.processlist WHERE LOCATE('DO SLEEP', info) = 1 "
                              f"AND db = '{database}'"))


def restart_around(server: Server, proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Crash the server, let dualpath notice and exit while it is down, then start it again.

    Waiting for the exit makes the run deterministic: dualpath always meets a server that is gone,
    never one already back (how fast it returns is up to the machine's load)."""
    server.crash()
    try:
        return finish(proc)
    finally:
        server.start()


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"dualpath still running {timeout} s after the restart", pytrace=False)
    return proc.returncode, out


def migrate_reference(folder: Path, url: str, dialect: str, change2: str, rollback2: str) -> tuple[str, dict[str, str]]:
    config = write_project(folder / "reference", url, dialect, change2, rollback2)
    ran = run_cli("apply", "--config", str(config), "--url", "db")
    assert ran.exit_code == 0, ran.output
    return database_state(url)


class UncleanExit(AssertionError):
    """dualpath reported the restart as an internal error (or a traceback) rather than explaining it."""


def check_exit(code: int, out: str) -> None:
    """Raised last, after every check of the data, so a known-bad message cannot hide a data bug."""
    if "Traceback" in out or "internal error" in out or code != 4 or "version 2" not in out or "again" not in out:
        raise UncleanExit(f"exit {code}, expected 4 naming version 2 and telling to run again:\n{out}")


# -- a restart in the middle of a change ------------------------------------------------------


def test_restart_mid_change_is_rolled_back_and_a_rerun_finishes(server: Server, databases: tuple[str, str],
                                                                tmp_path: Path) -> None:
    url, reference = databases
    dialect = open_engine(url).name
    # the slow step comes first: on MariaDB (no transactional DDL) nothing of the change has run yet
    change2 = sleep_sql(dialect, 60) + "\nALTER TABLE items ADD COLUMN note VARCHAR(20);\nUPDATE items SET v = v + 1;\n"
    rollback2 = "UPDATE items SET v = v - 1;\nALTER TABLE items DROP COLUMN note;\n"
    expected = migrate_reference(tmp_path, reference, dialect, change2, rollback2)

    config = write_project(tmp_path / "run", url, dialect, change2, rollback2)
    first = run_cli("apply", "--config", str(config), "--url", "db", "--to", "1")
    assert first.exit_code == 0, first.output
    before = database_state(url)
    assert before != expected

    set_slow(url, True)
    proc = apply_in_background(config)
    wait_until(lambda: sleeping(server, url), 60, "the slow step started", proc)
    code, out = restart_around(server, proc)
    set_slow(url, False)

    assert database_state(url) == before, "the interrupted change left part of itself behind"
    states = [s["state"] for s in status_json(config)]
    assert states[0] == "applied" and states[1] in ("pending", "failed"), states
    again = run_dualpath("apply", "--config", str(config), "--url", "db", cwd=config.parent)
    assert again.code == 0, again.output
    assert database_state(url) == expected
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    check_exit(code, out)


# -- a restart in the middle of a batch -------------------------------------------------------


def test_restart_mid_batch_resumes_from_the_checkpoint(server: Server, databases: tuple[str, str],
                                                       tmp_path: Path) -> None:
    url = databases[0]
    dialect = open_engine(url).name
    # v = 3v + 1: a chunk run twice gives 9v + 4, a skipped one leaves v = id: both show in the checksums
    change2 = ("-- dualpath:batch table=items key=id size=100 max_rows_per_s=300\n"
               "UPDATE items SET v = 3 * v + 1;\n")
    rollback2 = ("-- dualpath:batch table=items key=id size=200\n"
                 "UPDATE items SET v = (v - 1) / 3;\n")
    config = write_project(tmp_path / "run", url, dialect, change2, rollback2)
    first = run_cli("apply", "--config", str(config), "--url", "db", "--to", "1")
    assert first.exit_code == 0, first.output
    before = database_state(url)
    assert before[1] == {"items": items_checksum(lambda i: i)}
    expected = (before[0], {"items": items_checksum(lambda i: 3 * i + 1)})  # same schema, every row once

    proc = apply_in_background(config)
    wait_until(lambda: 0 < rows_done(url) < ROWS // 2, 60, "the batch got going", proc)
    code, out = restart_around(server, proc)

    # chunks and checkpoint committed together: exactly the checkpointed rows are changed
    done_at_crash = rows_done(url)
    assert 0 < done_at_crash < ROWS, done_at_crash
    changed = query_db(url, "SELECT COUNT(*) FROM items WHERE v <> id")
    assert int(str(changed[0][0])) == done_at_crash
    states = [s["state"] for s in status_json(config)]
    assert states[0] == "applied" and states[1] != "applied", states

    again = run_dualpath("apply", "--config", str(config), "--url", "db", cwd=config.parent)
    assert again.code == 0, again.output
    assert database_state(url) == expected, "rows changed twice or not at all across the restart"
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    check_exit(code, out)


def rows_done(url: str) -> int:
    rows = query_db(url, "SELECT rows_done FROM dualpath_batch_checkpoint")
    return int(str(rows[0][0])) if rows else 0


def query_db(url: str, sql: str) -> list[tuple[object, ...]]:
    try:
        with open_engine(url).connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]
    except Exception:  # down, restarting, or the table is not there yet
        return []


def items_checksum(value: Callable[[int], int]) -> str:
    """The checksum server_support.row_checksums gives ``items`` when row i holds ``value(i)``."""
    return hashlib.sha256(repr([(str(i), str(value(i))) for i in range(1, ROWS + 1)]).encode()).hexdigest()
