"""The server ends dualpath's working connection while a statement runs (`pg_terminate_backend`,
MariaDB `KILL CONNECTION`): a clean exit 4 naming the change and file, no traceback, a state the
history explains, and a plain re-run that finishes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.dbs import server_database
from tests.reliability.kill_support import (
    TRACEBACK,
    Step,
    books,
    dialect,
    execute,
    output_of,
    output_of_proc,
    query,
    reference_states,
    run_until_not_locked,
    snapshot,
    start,
    write_project,
)

# slow only while the table kill_gate exists (the test makes it before the run and drops it after the kill):
# the statement waits until the test has found and ended its session, however slowly the test polls,
# and the reference run and the re-run pass it at once
SLEEP = {"postgresql": "SELECT pg_sleep(CASE WHEN to_regclass('kill_gate') IS NULL THEN 0 ELSE 50 END)",
         "mysql": ("DO SLEEP(IF((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                   "AND table_name = 'kill_gate') > 0, 50, 0))")}
# only this test's database: tests running side by side on the shared server must not end each other's sessions
FIND = {"postgresql": "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(CASE%' "
                      "AND datname = current_database()",
        "mysql": "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'DO SLEEP(IF(%' AND DB = DATABASE()"}
# the columns of this test's table t, not of another test's t on the same server
COLUMNS_OF_T = ("SELECT column_name FROM information_schema.columns WHERE table_name = 't' "
                "AND table_schema = {}")
SCHEMA = {"postgresql": "current_schema()", "mysql": "DATABASE()"}
END = {"postgresql": "SELECT pg_terminate_backend({})", "mysql": "KILL CONNECTION {}"}


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def steps_for(name: str) -> list[Step]:
    return [
        Step("1", "table", ("CREATE TABLE t (id INT PRIMARY KEY)",), ("DROP TABLE t",)),
        Step("2", "slow", ("ALTER TABLE t ADD COLUMN c INT", SLEEP[name], "INSERT INTO t VALUES (1, 2)"),
             ("ALTER TABLE t DROP COLUMN c",)),
    ]


def close_gate(url: str) -> None:
    execute(url, "CREATE TABLE kill_gate (id INT)")


def end_working_session(url: str, name: str) -> None:
    """From a second session, end the connection that runs the slow statement (it waits at the gate),
    then open the gate for the re-run."""
    deadline = time.monotonic() + 60
    while not (found := query(url, FIND[name])):
        assert time.monotonic() < deadline, "the slow statement never started"
        time.sleep(0.05)
    execute(url, END[name].format(found[0][0]))
    execute(url, "DROP TABLE kill_gate")


def test_connection_killed_mid_change_exits_cleanly_and_rerun_finishes(server_url: str, tmp_path: Path) -> None:
    name = dialect(server_url)
    with server_database(name, "ref_connection_kill") as scratch:
        reference = reference_states(scratch, steps_for(name))[-1][0]
    config = write_project(tmp_path, server_url, steps_for(name))
    close_gate(server_url)
    proc = start(config, "apply")
    end_working_session(server_url, name)
    out = output_of_proc(proc)
    assert proc.returncode == 4, out  # RunFailed (dualpath/errors.py)
    assert TRACEBACK not in out
    assert "version 2" in out and "V2__slow.sql" in out, out
    assert "connection" in out.lower(), out

    seen = books(server_url)
    assert seen.applied == ("1",), seen
    columns = {r[0] for r in query(server_url, COLUMNS_OF_T.format(SCHEMA[name]))}
    if name == "postgresql":  # one transaction: the ALTER went with it
        assert columns == {"id"} and seen.states["2"] == "up:failed"
    else:  # the ALTER committed on its own; the journal says so, and the re-run resumes after it
        assert columns == {"id", "c"}
        assert seen.journal.get(("2", "up"), [])[:1] == [(0, "done")], seen.journal
    assert query(server_url, "SELECT COUNT(*) FROM t") == [(0,)]

    again = run_until_not_locked(config, "apply")
    assert again.returncode == 0, output_of(again)
    assert TRACEBACK not in output_of(again)
    assert query(server_url, "SELECT id, c FROM t") == [(1, 2)]
    final = books(server_url)
    assert final.applied == ("1", "2") and final.ups["2"] == 1 and final.audit_ok[("apply", "2")] == 1
    assert not any(final.journal.values()), final.journal
    assert snapshot(server_url) == reference


def test_connection_killed_mid_rollback_keeps_the_change_applied_and_rerun_finishes(server_url: str,
                                                                                      tmp_path: Path) -> None:
    """A failed rollback must not leave a "failed" row that makes the next apply run the change's
    forward statements on top of it: the change is still (at least partly) there."""
    name = dialect(server_url)
    steps = [Step("1", "table", ("CREATE TABLE t (id INT PRIMARY KEY)",), ("DROP TABLE t",)),
             Step("2", "wide", ("ALTER TABLE t ADD COLUMN c INT", "INSERT INTO t VALUES (1, 2)"),
                  ("DELETE FROM t", SLEEP[name], "ALTER TABLE t DROP COLUMN c"))]
    config = write_project(tmp_path, server_url, steps)
    assert run_until_not_locked(config, "apply").returncode == 0
    close_gate(server_url)
    proc = start(config, "rollback", "--to", "1")
    end_working_session(server_url, name)
    out = output_of_proc(proc)
    assert proc.returncode == 4 and TRACEBACK not in out, out
    assert "version 2" in out and "U2__wide.sql" in out, out
    seen = books(server_url)
    assert seen.applied == ("1", "2") and seen.downs["2"] == 0, seen
    rows = query(server_url, "SELECT COUNT(*) FROM t")[0][0]
    assert rows == (1 if name == "postgresql" else 0)  # MariaDB: the DELETE committed, and is journaled
    status = run_until_not_locked(config, "apply")  # nothing to apply: the change is still there
    assert status.returncode == 0 and "nothing to do" in status.stdout, output_of(status)

    again = run_until_not_locked(config, "rollback", "--to", "1")
    assert again.returncode == 0, output_of(again)
    final = books(server_url)
    assert final.applied == ("1",) and final.downs["2"] == 1 and not any(final.journal.values()), final
    assert {r[0] for r in query(server_url, COLUMNS_OF_T.format(SCHEMA[name]))} == {"id"}
