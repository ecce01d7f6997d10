"""SIGKILL of `dualpath apply` at a seeded random moment, then a plain re-run.

After each kill the database must hold a state some prefix of the run explains: on PostgreSQL
the state after exactly the changes history lists as applied; on MariaDB (DDL commits on its
own) the same, or, for the change in flight, the state after exactly the statements its
journal (dualpath_statement_journal) lists as done, plus the one it lists as started. The
re-run then finishes and ends where an uninterrupted run ends, each change applied once.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from dualpath.urls import parse_url
from tests.integration.dbs import server_database
from tests.reliability.kill_support import (
    CHANGE_S,
    TRACEBACK,
    Snapshot,
    Step,
    books,
    execute,
    kill_after,
    kill_at_progress,
    landing,
    note_landing,
    output_of,
    query,
    reached,
    reference_states,
    run_until_not_locked,
    snapshot,
    start,
    timed_run,
    wait_until_working,
    write_project,
)

SEEDS = range(20)
SERVERS = ("postgresql", "mysql")


def pause(dialect: str) -> str:
    """A short statement that does nothing but take time, so kills land inside changes too."""
    return "SELECT pg_sleep(0.03)" if dialect == "postgresql" else "DO SLEEP(0.03)"


def steps_for(dialect: str) -> list[Step]:
    """Four changes mixing DDL and data, each with several statements."""
    wait = pause(dialect)
    return [
        Step("1", "accounts", ("CREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)", wait,
                               "INSERT INTO accounts VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
             ("DROP TABLE accounts",)),
        Step("2", "balance", ("ALTER TABLE accounts ADD COLUMN balance INT NOT NULL DEFAULT 0",
                              "UPDATE accounts SET balance = id * 10", wait,
                              "CREATE INDEX accounts_balance ON accounts (balance)"),
             ("ALTER TABLE accounts DROP COLUMN balance",)),
        Step("3", "entries", ("CREATE TABLE entries (id INT PRIMARY KEY, account_id INT NOT NULL, amount INT NOT NULL)",
                              "INSERT INTO entries SELECT id, id, balance FROM accounts", wait,
                              "ALTER TABLE entries ADD CONSTRAINT entries_account FOREIGN KEY (account_id) "
                              "REFERENCES accounts (id)"),
             ("DROP TABLE entries",)),
        Step("4", "memo", ("ALTER TABLE accounts ADD COLUMN note VARCHAR(20)", "UPDATE accounts SET note = 'x'",
                           wait, "ALTER TABLE accounts RENAME COLUMN note TO memo"),
             ("ALTER TABLE accounts DROP COLUMN memo",)),
    ]


@dataclass(frozen=True)
class Reference:
    states: list[list[Snapshot]]  # states[k][j]: after j statements of change k (see reference_states)
    work_s: float  # an uninterrupted run, from run lock taken to exit


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reference]:
    refs: dict[str, Reference] = {}
    return refs


def reference_for(server: str, refs: dict[str, Reference], tmp: Path) -> Reference:
    if server not in refs:
        steps = steps_for(server)
        with server_database(server, "ref_kill_apply") as url:
            states = reference_states(url, steps)
        with server_database(server, "ref_kill_apply_timed") as url:
            work_s = timed_run(url, write_project(tmp, url, steps), "apply")
            assert snapshot(url) == states[-1][0], "an uninterrupted apply differs from the statements run by hand"
        refs[server] = Reference(states, work_s)
    return refs[server]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_kill_apply_at_random_moment_then_rerun_finishes(server: str, seed: int, tmp_path: Path,
                                                         references: dict[str, Reference],
                                                         request: pytest.FixtureRequest) -> None:
    steps = steps_for(server)
    ref = reference_for(server, references, tmp_path / "ref")
    rng = random.Random(seed)
    with server_database(server, request.node.name) as url:
        config = write_project(tmp_path, url, steps)
        proc = start(config, "apply")
        working = wait_until_working(url, proc)
        # a seeded change to reach, then a seeded delay within about one change's time
        hit = working and kill_at_progress(url, proc, rng.randrange(len(steps)), rng.uniform(0, CHANGE_S))
        if not working:
            proc.communicate()
        seen = books(url)
        versions = tuple(s.version for s in steps)
        where = landing(hit, seen, versions)
        note_landing(request.node.name, where)
        state = snapshot(url)
        allowed = reached(ref.states, seen, versions, [versions[:k] for k in range(len(versions) + 1)], "up",
                          transactional=server == "postgresql")
        assert state in allowed, (f"seed {seed}: state {state.short()} is none of {[s.short() for s in allowed]}; "
                                  f"books: {seen}")
        for version in seen.applied:
            assert seen.ups[version] == 1 and seen.audit_ok[("apply", version)] == 1, f"seed {seed}: {seen}"

        again = run_until_not_locked(config, "apply")
        assert again.returncode == 0, f"seed {seed} ({where}): re-run failed: {output_of(again)}"
        assert TRACEBACK not in output_of(again)
        assert snapshot(url) == ref.states[-1][0], f"seed {seed}: the re-run did not end where a clean run ends"
        final = books(url)
        assert final.applied == tuple(s.version for s in steps)
        assert all(final.ups[s.version] == 1 for s in steps), f"seed {seed}: {final.ups}"
        assert all(final.audit_ok[("apply", s.version)] == 1 for s in steps), f"seed {seed}: {final.audit_ok}"
        assert not any(final.journal.values()), f"seed {seed}: journal left behind: {final.journal}"


def journal_of_first(url: str) -> list[tuple[int, str]]:
    try:
        return [(int(i), str(st)) for i, st in query(url, "SELECT statement_index, state FROM "
                                                          "dualpath_statement_journal WHERE version = '1'")]
    except DBAPIError:
        return []


def wait_for_journal(url: str, state: str, index: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while (index, state) not in journal_of_first(url):
        assert proc.poll() is None, f"the run ended first: {proc.communicate()[0]}"
        assert time.monotonic() < deadline, "the journal never showed the statement"
        time.sleep(0.02)


def test_mariadb_kill_after_ddl_resumes_at_the_next_statement(mysql_url: str, tmp_path: Path) -> None:
    """The bug this suite found: DDL committed, history not yet written, and a re-run failed on
    'Duplicate column name'. Now the journal says the ALTER is done and the re-run skips it."""
    steps = [Step("1", "slow", ("CREATE TABLE t (id INT PRIMARY KEY)", "ALTER TABLE t ADD COLUMN c INT",
                                "DO SLEEP(30)", "INSERT INTO t VALUES (1, 2)"), ("DROP TABLE t",))]
    config = write_project(tmp_path, mysql_url, steps)
    proc = start(config, "apply")
    wait_for_journal(mysql_url, "done", 1, proc)
    kill_after(proc, 0)
    assert books(mysql_url).applied == ()
    again = run_until_not_locked(config, "apply")
    assert again.returncode == 0, output_of(again)
    assert "resuming 1 (apply): an earlier run was interrupted after 2 statement(s)" in again.stdout
    assert query(mysql_url, "SELECT id, c FROM t") == [(1, 2)]
    final = books(mysql_url)
    assert final.applied == ("1",) and final.ups["1"] == 1 and not any(final.journal.values())


BIG = 10_000  # rows the ALTER ... ALGORITHM=COPY copies
# this test's database only: other tests (other xdist workers, other worktrees) alter tables named big too
ORPHAN = ("SELECT ID, STATE FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
          "AND INFO LIKE 'ALTER TABLE big%'")


def hold_metadata_lock(url: str) -> Any:
    """An open transaction that has read ``big``: it holds a shared metadata lock on the table until it
    ends, and an ALTER of the table waits for it ("Waiting for table metadata lock") without taking effect."""
    engine = create_engine(parse_url(url), poolclass=NullPool)
    conn = engine.connect()
    conn.execute(text("SELECT id FROM big LIMIT 1")).all()
    return conn


def wait_for_orphan(url: str, proc: subprocess.Popen[str], *, waiting: bool) -> None:
    """Until the ALTER waits for the metadata lock (``waiting``), or until it has ended; the deadline
    only trips on a hang."""
    deadline = time.monotonic() + 120
    while True:
        states = [state for _, state in query(url, ORPHAN)]
        if ("Waiting for table metadata lock" in states) if waiting else not states:
            return
        assert time.monotonic() < deadline, f"the ALTER: {states}; the run: {proc.poll()}"
        if waiting:
            assert proc.poll() is None, f"the run ended first: {proc.communicate()[0]}"
        time.sleep(0.02)


def wait_stopped(proc: subprocess.Popen[str]) -> None:
    """Until the kernel shows the process stopped (state T); the deadline only trips on a hang."""
    deadline = time.monotonic() + 60
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, "the run did not stop"
        time.sleep(0.01)


@pytest.mark.parametrize("orphan", ["finishes", "is_killed", "is_killed_then_other_ddl"])
def test_mariadb_statement_in_doubt_is_resolved_by_the_schema(mysql_url: str, tmp_path: Path, orphan: str) -> None:
    """The runner dies while MariaDB has its ALTER in flight, and the journal says only "started". The
    re-run waits for that session, then runs the ALTER again only if the schema shows it did not happen.

    By construction, not by timing: another session holds a metadata lock, so the ALTER provably waits
    (PROCESSLIST says so) when the runner dies. "finishes": the runner is frozen (SIGSTOP, its connection
    stays open), the lock goes, the server completes the ALTER, then SIGKILL: it took effect, unrecorded.
    "is_killed": SIGKILL while the ALTER waits; it ends without effect (KILL QUERY, or the server aborts
    the wait once it sees its client gone, whichever first) before the lock goes. "is_killed_then_other_ddl":
    the same, then another session creates a table before the re-run: the schema changed, but not by the
    ALTER, so it still runs again (the journal's digest covers what the statement names)."""
    execute(mysql_url, "CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL)",
            f"INSERT INTO big SELECT seq, seq FROM seq_1_to_{BIG}")
    before = snapshot(mysql_url)
    steps = [Step("1", "wide", ("ALTER TABLE big ADD COLUMN w INT NOT NULL DEFAULT 7, ALGORITHM=COPY",
                                "UPDATE big SET w = 8 WHERE id = 1"), ("ALTER TABLE big DROP COLUMN w",))]
    # the ALTER waits for the held lock as long as the test holds it: the timeout trips on a hang only
    config = write_project(tmp_path, mysql_url, steps, lock_timeout_ms=600_000)
    holder = hold_metadata_lock(mysql_url)
    proc = start(config, "apply")
    try:
        wait_for_journal(mysql_url, "started", 0, proc)
        wait_for_orphan(mysql_url, proc, waiting=True)
        if orphan == "finishes":
            proc.send_signal(signal.SIGSTOP)
            wait_stopped(proc)  # frozen in its wait for the ALTER's answer: it runs no line more
            holder.rollback()  # the lock goes: the ALTER runs to its end for a client that is still there
            wait_for_orphan(mysql_url, proc, waiting=False)
            assert snapshot(mysql_url) != before  # it took effect
            assert kill_after(proc, 0)  # a stopped process dies of SIGKILL too, before it recorded "done"
        else:
            assert kill_after(proc, 0)
            for (session, _) in query(mysql_url, ORPHAN):
                with contextlib.suppress(DBAPIError):  # the server may have ended it already
                    execute(mysql_url, f"KILL QUERY {session}")
            wait_for_orphan(mysql_url, proc, waiting=False)
            assert snapshot(mysql_url) == before  # the killed ALTER left nothing (atomic DDL)
            if orphan == "is_killed_then_other_ddl":
                execute(mysql_url, "CREATE TABLE elsewhere (id INT PRIMARY KEY)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        holder.close()
    seen = books(mysql_url)
    assert seen.journal.get(("1", "up")) == [(0, "started")] and seen.applied == ()
    again = run_until_not_locked(config, "apply")
    assert again.returncode == 0, output_of(again)
    if orphan != "finishes":
        assert "interrupted earlier before it took effect; running it again" in again.stdout, again.stdout
    else:
        assert "interrupted earlier after it took effect (the schema changed)" in again.stdout, again.stdout
    assert query(mysql_url, "SELECT w, COUNT(*) FROM big GROUP BY w ORDER BY w") == [(7, BIG - 1), (8, 1)]
    final = books(mysql_url)
    assert final.applied == ("1",) and final.ups["1"] == 1 and not any(final.journal.values())


def test_mariadb_interrupted_change_edited_since_is_refused_until_repair(mysql_url: str, tmp_path: Path) -> None:
    """The journal belongs to the file as it was: an edited file does not resume old progress."""
    steps = [Step("1", "slow", ("CREATE TABLE t (id INT PRIMARY KEY)", "DO SLEEP(30)"), ("DROP TABLE t",))]
    config = write_project(tmp_path, mysql_url, steps)
    proc = start(config, "apply")
    wait_for_journal(mysql_url, "done", 0, proc)
    kill_after(proc, 0)
    edited = [Step("1", "slow", ("CREATE TABLE t (id INT PRIMARY KEY, v INT)", "DO SLEEP(0)"), ("DROP TABLE t",))]
    write_project(tmp_path, mysql_url, edited)
    refused = run_until_not_locked(config, "apply")
    assert refused.returncode == 3, output_of(refused)
    assert "interrupted half-way by an earlier run and its file changed since" in refused.stdout + refused.stderr
    assert "V1__slow.sql:1" in output_of(refused) and TRACEBACK not in output_of(refused)

    execute(mysql_url, "DROP TABLE t")  # undo by hand what the journal lists, then repair
    repaired = run_until_not_locked(config, "repair")
    assert repaired.returncode == 0, output_of(repaired)
    assert "journal of an interrupted run cleared" in repaired.stdout, output_of(repaired)
    again = run_until_not_locked(config, "apply")
    assert again.returncode == 0, output_of(again)
    assert query(mysql_url, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() "
                            "AND table_name = 't'") == [(2,)]
