"""A long transaction holds a lock that `ALTER TABLE` needs. The ALTER waits at most its lock timeout,
gives up, retries with backoff and succeeds once the blocker commits; meanwhile a third session
reading and writing the table every few ms, which queues behind a waiting ALTER, is never held
longer than that lock timeout (plus a margin for a loaded machine)."""

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
MARGIN_S = 1.0  # scheduling noise on a loaded two-core machine
HOLD_S = 5.0  # the blocker holds at least this long: far beyond timeout + margin
ROWS = 200


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


class Traffic(threading.Thread):
    """A third session: a read and a write of a random row, again and again, each op timed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.waits: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        engine = create_engine(parse_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        rng = random.Random(3)
        with engine.connect() as conn:
            # its own waits are not capped: the test measures how long it is really held
            if dialect(self.url) == "postgresql":
                conn.execute(text("SET lock_timeout = '60s'"))
            else:
                conn.execute(text("SET SESSION lock_wait_timeout = 60"))
            while not self.stop.is_set():
                key = rng.randint(1, ROWS)
                for sql in ("SELECT n FROM widgets WHERE id = :k", "UPDATE widgets SET n = n + 1 WHERE id = :k"):
                    began = time.monotonic()
                    try:
                        conn.execute(text(sql), {"k": key}).close()
                    except DBAPIError as exc:
                        self.errors.append(str(exc.orig))
                    self.waits.append(time.monotonic() - began)
                time.sleep(0.003)
        engine.dispose()


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
    timeout_s = LOCK_TIMEOUT_MS[name] / 1000
    execute(server_url, "CREATE TABLE widgets (id INT PRIMARY KEY, n INT NOT NULL)",
            "INSERT INTO widgets VALUES " + ", ".join(f"({i}, 0)" for i in range(1, ROWS + 1)))
    steps = [Step("1", "wider", ("ALTER TABLE widgets ADD COLUMN note VARCHAR(20)",),
                  ("ALTER TABLE widgets DROP COLUMN note",))]
    config = write_project(tmp_path, server_url, steps, lock_timeout_ms=LOCK_TIMEOUT_MS[name],
                           lock_retries=12, retry_backoff_ms=200)
    traffic = Traffic(server_url)
    holding, commit = threading.Event(), threading.Event()
    blocker = threading.Thread(target=hold_lock, args=(server_url, holding, commit), daemon=True)
    blocker.start()
    assert holding.wait(30)
    traffic.start()
    began = time.monotonic()
    proc = start(config, "apply")
    try:
        # commit only after the runner has lost the lock wait twice and the blocker held long enough
        deadline = time.monotonic() + 90
        while lock_timeouts(server_url) < 2 or time.monotonic() - began < HOLD_S:
            assert proc.poll() is None, f"the runner gave up while blocked: {proc.communicate()[0]}"
            assert time.monotonic() < deadline, "the runner never reported a lock timeout"
            time.sleep(0.05)
        held_s = time.monotonic() - began
    finally:
        commit.set()
        blocker.join(30)
    out, _ = proc.communicate(timeout=120)
    time.sleep(0.3)  # traffic after the ALTER, too
    traffic.stop.set()
    traffic.join(30)

    assert proc.returncode == 0, out
    assert TRACEBACK not in out
    assert "lock timeout at" in out and "retry 1/12" in out, out
    assert books(server_url).applied == ("1",)
    assert "note" in {r[0] for r in query(server_url, "SELECT column_name FROM information_schema.columns "
                                                      "WHERE table_name = 'widgets'")}
    assert not traffic.errors, traffic.errors[:3]
    assert len(traffic.waits) > 100, "the third session hardly ran"
    worst = max(traffic.waits)
    print(f"{name}: blocker held {held_s:.1f} s, {lock_timeouts(server_url)} lock timeouts, "
          f"{len(traffic.waits)} traffic ops, worst wait {worst * 1000:.0f} ms "
          f"(lock timeout {timeout_s * 1000:.0f} ms)")
    assert worst < timeout_s + MARGIN_S, f"a session was held {worst:.2f} s behind the waiting ALTER"
    assert held_s > timeout_s + MARGIN_S  # else the bound above would prove nothing
