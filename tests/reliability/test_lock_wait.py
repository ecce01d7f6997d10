"""A long transaction holds a lock that `ALTER TABLE` needs. The ALTER waits at most its lock timeout,
gives up, retries with backoff and succeeds once the blocker commits; meanwhile a third session
reading and writing the table every few ms, which queues behind a waiting ALTER, goes on.

No wall clock decides the outcome: the server bounds how long the third session may wait for a lock
(its own lock timeout, several times the ALTER's and shorter than the blocker's hold: a wait longer than
that is an error the session records), the server shows it queued behind the ALTER, and the blocker
commits only after the third session got through after each lock wait the ALTER lost."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from dualpath.urls import parse_url
from tests.reliability.kill_support import (
    TRACEBACK,
    Step,
    books,
    dialect,
    execute,
    query,
    start,
    write_project,
)

# MariaDB's lock_wait_timeout is whole seconds; PostgreSQL takes milliseconds
LOCK_TIMEOUT_MS = {"postgresql": 500, "mysql": 1000}
# the third session's own lock timeout, enforced by the server: several times the ALTER's, so only a wait
# behind something other than one ALTER attempt (the blocker's whole hold) reaches it
TRAFFIC_LOCK_TIMEOUT_S = {"postgresql": 3, "mysql": 4}
ROWS = 200


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


class Traffic(threading.Thread):
    """A third session: a read and a write of a random row, again and again. The server caps each of its
    lock waits at ``lock_timeout_s``; a wait that long is an error in ``errors``."""

    def __init__(self, url: str, lock_timeout_s: int) -> None:
        super().__init__(daemon=True)
        self.url, self.lock_timeout_s = url, lock_timeout_s
        self.session_id: int | None = None
        self.ready = threading.Event()
        self.ops = 0  # statements completed
        self.waits: list[float] = []  # client-side durations: printed, never asserted
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        engine = create_engine(parse_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        rng = random.Random(3)
        with engine.connect() as conn:
            if dialect(self.url) == "postgresql":
                conn.execute(text(f"SET lock_timeout = '{self.lock_timeout_s}s'"))
                self.session_id = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            else:
                conn.execute(text(f"SET SESSION lock_wait_timeout = {self.lock_timeout_s}"))
                self.session_id = int(conn.execute(text("SELECT CONNECTION_ID()")).scalar_one())
            self.ready.set()
            while not self.stop.is_set():
                key = rng.randint(1, ROWS)
                for sql in ("SELECT n FROM widgets WHERE id = :k", "UPDATE widgets SET n = n + 1 WHERE id = :k"):
                    began = time.monotonic()
                    try:
                        conn.execute(text(sql), {"k": key}).close()
                    except DBAPIError as exc:
                        self.errors.append(str(exc.orig))
                    self.waits.append(time.monotonic() - began)
                    self.ops += 1
                time.sleep(0.003)
        engine.dispose()


def queued_behind_alter(url: str, session_id: int) -> bool:
    """The server shows the third session waiting for a lock on widgets, queued behind the waiting ALTER."""
    if dialect(url) == "postgresql":  # the runner sends a change's BEGIN with its first statement
        sql = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = ANY(pg_blocking_pids(l.pid)) "
               f"WHERE l.pid = {session_id} AND NOT l.granted AND a.query LIKE '%ALTER TABLE widgets%'")
    else:
        sql = ("SELECT count(*) FROM information_schema.PROCESSLIST t JOIN information_schema.PROCESSLIST a "
               f"ON a.INFO LIKE 'ALTER TABLE widgets%' AND a.DB = DATABASE() "
               f"AND a.STATE LIKE 'Waiting for table metadata lock' "
               f"WHERE t.ID = {session_id} AND t.STATE LIKE 'Waiting for table metadata lock'")
    return bool(query(url, sql)[0][0])


def hold_lock(url: str, released: threading.Event, until: threading.Event) -> None:
    """A long transaction that read widgets: it holds a lock every ALTER of the table must wait for."""
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT COUNT(*) FROM widgets")).all()  # AccessShare / shared metadata lock
        released.set()  # (set = "holding")
        until.wait(120)
        conn.commit()
    engine.dispose()


def lock_timeouts(url: str) -> int:
    try:
        return int(query(url, "SELECT COUNT(*) FROM dualpath_audit WHERE action = 'lock-timeout'")[0][0])
    except DBAPIError:
        return 0  # the runner has not created its tables yet


def test_alter_behind_a_long_transaction_waits_no_longer_than_its_lock_timeout(server_url: str,
                                                                               tmp_path: Path) -> None:
    name = dialect(server_url)
    traffic_timeout_s = TRAFFIC_LOCK_TIMEOUT_S[name]
    execute(server_url, "CREATE TABLE widgets (id INT PRIMARY KEY, n INT NOT NULL)",
            "INSERT INTO widgets VALUES " + ", ".join(f"({i}, 0)" for i in range(1, ROWS + 1)))
    steps = [Step("1", "wider", ("ALTER TABLE widgets ADD COLUMN note VARCHAR(20)",),
                  ("ALTER TABLE widgets DROP COLUMN note",))]
    config = write_project(tmp_path, server_url, steps, lock_timeout_ms=LOCK_TIMEOUT_MS[name],
                           lock_retries=12, retry_backoff_ms=200)
    traffic = Traffic(server_url, traffic_timeout_s)
    holding, commit = threading.Event(), threading.Event()
    blocker = threading.Thread(target=hold_lock, args=(server_url, holding, commit), daemon=True)
    blocker.start()
    assert holding.wait(30)
    traffic.start()
    assert traffic.ready.wait(30) and traffic.session_id is not None
    began = time.monotonic()
    proc = start(config, "apply")
    queued = 0  # samples in which the server showed the third session queued behind the waiting ALTER
    marks: list[int] = []  # the third session's completed statements when each lost lock wait was first seen
    try:
        # the blocker commits only once: the ALTER lost its lock wait at least twice; the server showed the
        # third session queued behind it; the third session completed a statement after the last lost wait
        # seen (so after every one: it was never held for the blocker's hold); and the blocker held longer
        # than the third session may wait for a lock, so a wait behind the blocker itself would be an error.
        # A slow machine only makes this take longer; the deadline trips on a hang.
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"the runner gave up while blocked: {proc.communicate()[0]}"
            lost = lock_timeouts(server_url)
            marks.extend([traffic.ops] * (lost - len(marks)))
            queued += queued_behind_alter(server_url, traffic.session_id)
            if (lost >= 2 and queued and traffic.ops > marks[-1]
                    and time.monotonic() - began > traffic_timeout_s):
                break
            assert time.monotonic() < deadline, (
                f"{lost} lock timeout(s) reported, the third session seen queued behind the ALTER {queued} "
                f"time(s), {traffic.ops} statement(s) done (at the last lost wait: {marks[-1:]}), "
                f"errors {traffic.errors[:3]}")
            time.sleep(0.05)
        held_s = time.monotonic() - began
    finally:
        commit.set()
        blocker.join(30)
    out, _ = proc.communicate(timeout=120)
    after_alter = traffic.ops
    deadline = time.monotonic() + 60
    while traffic.ops <= after_alter + 1 and not traffic.errors:  # traffic after the ALTER, too
        assert time.monotonic() < deadline, "the third session made no progress after the ALTER"
        time.sleep(0.01)
    traffic.stop.set()
    traffic.join(30)

    assert proc.returncode == 0, out
    assert TRACEBACK not in out
    assert "lock timeout at" in out and "retry 1/12" in out, out
    assert books(server_url).applied == ("1",)
    assert "note" in {r[0] for r in query(server_url, "SELECT column_name FROM information_schema.columns "
                                                      "WHERE table_name = 'widgets'")}
    # the server never held the third session as long as its lock timeout (several ALTER lock timeouts,
    # shorter than the blocker's hold): it waited behind one ALTER attempt, never behind the blocker
    assert not traffic.errors, traffic.errors[:3]
    assert queued and len(marks) >= 2 and all(traffic.ops > m for m in marks)
    print(f"{name}: blocker held {held_s:.1f} s, {lock_timeouts(server_url)} lock timeouts, "
          f"{traffic.ops} traffic statements, seen queued behind the ALTER in {queued} sample(s), "
          f"client-side worst wait {max(traffic.waits) * 1000:.0f} ms (ALTER lock timeout "
          f"{LOCK_TIMEOUT_MS[name]} ms, third session's {traffic_timeout_s} s)")
