"""Batches next to live traffic: a concurrent writer, kill -9 at random points, pause/resume/cancel
from another process. PostgreSQL and MariaDB (SQLite has one writer at a time by design)."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from dualpath.batching.progress import BatchProgress, Echo, EchoProgress
from dualpath.urls import parse_url
from tests.integration.helpers import dialect_of, run_cli, status_json
from tests.integration.test_batches import make_items, project, query

pytestmark = pytest.mark.integration

LOCK_TIMEOUT_MS = 1000  # MariaDB's lock waits are whole seconds


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


class Writer(threading.Thread):
    """Updates random rows one by one, each in its own transaction, and records how long each took."""

    def __init__(self, url: str, rows: int) -> None:
        super().__init__(daemon=True)
        self.url, self.rows = url, rows
        self.waits: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.wrote = threading.Condition()

    def run(self) -> None:
        engine = create_engine(parse_url(self.url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        rng = random.Random(7)
        try:
            with engine.connect() as conn:
                if dialect_of(self.url) == "postgresql":
                    conn.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
                else:
                    conn.execute(text(f"SET innodb_lock_wait_timeout = {LOCK_TIMEOUT_MS // 1000}"))
                while not self.stop.is_set():
                    started = time.monotonic()
                    try:
                        conn.execute(text("UPDATE items SET w = w + 1 WHERE id = :id"),
                                     {"id": rng.randint(1, self.rows)})
                    except DBAPIError as exc:
                        self.errors.append(str(exc.orig))
                    with self.wrote:
                        self.waits.append(time.monotonic() - started)
                        self.wrote.notify_all()
        finally:
            engine.dispose()
            with self.wrote:
                self.wrote.notify_all()  # a writer that died wakes whoever waits for its next write

    def writes(self) -> int:
        with self.wrote:
            return len(self.waits)

    def wait_beyond(self, count: int, timeout_s: float = 120) -> bool:
        """Until a write after the first ``count`` has finished. The server's lock timeout bounds each
        write, so the deadline only trips on a writer that hangs or died."""
        with self.wrote:
            self.wrote.wait_for(lambda: len(self.waits) > count or not self.is_alive(), timeout_s)
            return len(self.waits) > count


class WriteBetweenChunks:
    """The batch's progress hook: after each chunk commits, the batch goes on only once the writer has
    finished a write begun after it, so writes and chunks interleave from the first chunk to the last."""

    def __init__(self, inner: BatchProgress, writer: Writer) -> None:
        self.inner, self.writer = inner, writer
        self.chunks = 0
        self.starved: list[int] = []  # chunks after which no write came (a hung or dead writer)

    def started(self, label: str, total: int | None, keys_done: int, rows_done: int) -> None:
        self.inner.started(label, total, keys_done, rows_done)

    def advanced(self, keys_done: int, rows_done: int, chunk_size: int) -> None:
        self.chunks += 1
        if not self.writer.wait_beyond(self.writer.writes()):
            self.starved.append(self.chunks)
        self.inner.advanced(keys_done, rows_done, chunk_size)

    def noted(self, message: str) -> None:
        self.inner.noted(message)

    def finished(self, keys_done: int, rows_done: int, complete: bool = True) -> None:
        self.inner.finished(keys_done, rows_done, complete)


def test_backfill_never_blocks_a_writer_past_the_lock_timeout(server_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's lock timeout is set on the server: a write the backfill held up that long fails and
    lands in ``writer.errors``. No error proves the bound, whatever the client's clock says."""
    rows = 200_000
    make_items(server_url, rows)
    up = "-- dualpath:batch table=items key=id size=1000\nUPDATE items SET n = n + 1;\n"
    config = project(tmp_path, server_url, {"backfill": (up, "UPDATE items SET n = 0;\n")},
                     lock_timeout_ms=LOCK_TIMEOUT_MS)
    writer = Writer(server_url, rows)
    hooks: list[WriteBetweenChunks] = []

    def progress(echo: Echo) -> BatchProgress:
        hooks.append(WriteBetweenChunks(EchoProgress(echo), writer))
        return hooks[-1]

    monkeypatch.setattr("dualpath.apply.batches.default_progress", progress)
    writer.start()
    try:
        assert writer.wait_beyond(0), f"the writer never wrote: {writer.errors}"
        before = writer.writes()
        done = run_cli("apply", "--config", str(config), "--url", "db")
        after = writer.writes()
        assert writer.wait_beyond(after), f"the writer stopped writing: {writer.errors}"
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert done.exit_code == 0, done.output
    assert query(server_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, rows)]
    [hook] = hooks
    print(f"writer: {len(writer.waits)} writes, {after - before} during the apply's {hook.chunks} chunks; "
          f"max wait {max(writer.waits) * 1000:.0f} ms by the client's clock (not asserted)")
    assert writer.errors == []
    assert hook.chunks > 1 and hook.starved == [], (hook.chunks, hook.starved)
    assert after - before >= hook.chunks
    # every write went through: each committed its increment
    assert query(server_url, "SELECT SUM(w) FROM items")[0][0] == len(writer.waits)


def _progress(url: str) -> tuple[int, str] | None:
    try:
        found = query(url, "SELECT rows_done, state FROM dualpath_batch_checkpoint WHERE table_name = 'items'")
    except DBAPIError:
        return None  # not created yet
    return (int(found[0][0]), str(found[0][1])) if found else None


def _wait_for_progress(url: str, beyond: int, proc: subprocess.Popen[Any] | None = None,
                       timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _progress(url)
        if now is not None and now[0] > beyond:
            return now[0]
        if proc is not None and proc.poll() is not None:
            return -1
        time.sleep(0.02)
    raise AssertionError(f"no progress beyond {beyond} rows in {timeout_s} s")


def _apply_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "dualpath.cli", "apply", "--config", str(config), "--url", "db"]


def _apply_until_not_locked(config: Path) -> Any:
    """After kill -9 the server may take a moment to drop the dead session's run lock: retry until it has
    (a generous deadline that only a lock that never goes hits, not a slow server)."""
    deadline = time.monotonic() + 120
    while True:
        result = run_cli("apply", "--config", str(config), "--url", "db")
        if result.exit_code != 3 or "target locked" not in result.output or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


def test_kill_dash_nine_at_random_points_processes_every_row_once(server_url: str, tmp_path: Path) -> None:
    rows, seed = 30_000, random.randrange(1_000_000)
    rng = random.Random(seed)
    make_items(server_url, rows)
    up = ("-- dualpath:batch table=items key=id size=100 target_ms=20 max_rows_per_s=3000\n"
          "UPDATE items SET n = n + 1;\n")
    config = project(tmp_path, server_url, {"bump": (up, "UPDATE items SET n = 0;\n")})
    done, kills = 0, 0
    for _ in range(10):
        proc = subprocess.Popen(_apply_cmd(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reached = _wait_for_progress(server_url, done, proc)
        if reached < 0:
            code = proc.wait()
            assert code in (0, 3), f"apply exited {code} (seed {seed})"
            continue  # lock of the killed run still held, or finished: try again
        time.sleep(rng.uniform(0, 0.3))  # anywhere: mid-chunk, between chunks, in a pause
        proc.kill()
        proc.wait()
        kills += 1
        done = _progress(server_url)[0]  # type: ignore[index]
    print(f"kills: {kills}, rows done before the final run: {done}")
    assert kills >= 8, f"only {kills} kills landed mid-batch (seed {seed})"
    assert done < rows, f"the batch finished before the last kill (seed {seed})"
    final = _apply_until_not_locked(config)
    assert final.exit_code == 0, f"{final.output} (seed {seed})"
    assert query(server_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, rows)], f"seed {seed}"
    assert _progress(server_url) == (rows, "done")


def _hold_row(url: str, row: int) -> Any:
    """A transaction of another session that holds row ``row`` of items locked until it ends: the chunk
    that reaches it waits there, before it commits (or touches its checkpoint row)."""
    engine = create_engine(parse_url(url), poolclass=NullPool)
    conn = engine.connect()
    conn.execute(text("SELECT id FROM items WHERE id = :id FOR UPDATE"), {"id": row})
    return engine, conn


def _release(held: Any) -> None:
    engine, conn = held
    conn.rollback()
    conn.close()
    engine.dispose()


def _wait_for_line(lines: list[str], wanted: str, proc: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 120  # trips on a hang only
    while not any(wanted in line for line in list(lines)):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.02)


def test_pause_resume_cancel_from_another_process(server_url: str, tmp_path: Path) -> None:
    """Pause and cancel each land while the batch provably has rows left: another session holds a row
    ahead of the batch locked, and lets it go only once the command is in. No rate limit, no window."""
    # chunks start at 100 rows and grow to at most 10 000 (spec.max_size), so the chunk that holds row
    # PAUSE_AT ends before CANCEL_AT, and the one that holds CANCEL_AT ends before the last row
    rows, pause_at, cancel_at = 40_000, 5_000, 20_000
    make_items(server_url, rows)
    up = "-- dualpath:batch table=items key=id size=100\nUPDATE items SET n = n + 1;\n"
    # a chunk waits on a held row for as long as the test holds it: the lock timeout trips on a hang only
    config = project(tmp_path, server_url, {"bump": (up, "UPDATE items SET n = 0;\n")},
                     lock_timeout_ms=600_000)
    first, second = _hold_row(server_url, pause_at), _hold_row(server_url, cancel_at)
    proc = subprocess.Popen(_apply_cmd(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # the run's output, line by line as it comes (it flushes each line into the pipe)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        first_chunk = _wait_for_progress(server_url, 0, proc)
        assert 0 < first_chunk < pause_at, "".join(lines)  # rows 1..100, the first chunk
        paused = run_cli("batches", "pause", "--url", server_url)
        assert paused.exit_code == 0, paused.output
        _release(first)
        # the runner says "paused" when it reads the state between chunks: wherever that is (before the
        # chunk that waits for row PAUSE_AT on a slow machine, after it on a fast one), row CANCEL_AT is
        # still held, so rows are left, and no chunk starts until resume
        _wait_for_line(lines, "paused: waiting", proc)
        held = _progress(server_url)
        assert held is not None and held[1] == "paused" and first_chunk <= held[0] < cancel_at, held
        time.sleep(1.0)  # a window to catch a chunk that runs while paused: slowness only narrows it
        assert _progress(server_url) == held

        assert run_cli("batches", "resume", "--url", server_url).exit_code == 0
        _wait_for_line(lines, "resumed", proc)  # the next chunk has begun: it waits at row CANCEL_AT at the latest
        cancelled = run_cli("batches", "cancel", "--url", server_url)
        assert cancelled.exit_code == 0, cancelled.output
        _release(second)
        assert proc.wait(timeout=120) == 4
        reader.join(30)
        output = "".join(lines)
        assert "cancelled" in output, output
        assert "stopped, not done" in output and ": done," not in output, output
    finally:
        for lock in (first, second):
            if not lock[1].closed:
                _release(lock)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stopped_at = _progress(server_url)
    assert stopped_at is not None and stopped_at[1] == "cancelled" and held[0] < stopped_at[0] < rows, stopped_at
    assert [s["state"] for s in status_json(config)] == ["failed"]

    refused = run_cli("apply", "--config", str(config), "--url", "db")
    assert refused.exit_code == 3 and "cancelled" in refused.output, refused.output
    assert run_cli("batches", "resume", "--url", server_url).exit_code == 0
    status = run_cli("batches", "status", "--url", server_url)
    assert status.exit_code == 0 and "running" in status.output
    finished = run_cli("apply", "--config", str(config), "--url", "db")
    assert finished.exit_code == 0, finished.output
    assert query(server_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, rows)]


def _chunk_waits_for_a_lock(url: str) -> bool:
    """Some session of this test's database waits for a row lock (the batch's chunk)."""
    if dialect_of(url) == "postgresql":
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock'")
    else:
        sql = ("SELECT count(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p "
               "ON p.ID = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()")
    return bool(query(url, sql)[0][0])


def _sessions(url: str) -> list[Any]:
    if dialect_of(url) == "postgresql":
        return query(url, "SELECT pid, state, wait_event_type, left(query, 100) FROM pg_stat_activity "
                          "WHERE datname = current_database()")
    return query(url, "SELECT ID, DB, COMMAND, TIME, STATE, LEFT(INFO, 100) FROM information_schema.PROCESSLIST")


# MariaDB is left out: which transaction InnoDB picks as the victim, and when its lock wait shows in
# INNODB_TRX, varied under load (2 runs in 12 never showed the wait); its errno 1213 is classified in
# tests/unit/test_batches.py and retried by the same code path.
@pytest.mark.parametrize("server_url", ["pg_url"], indirect=True)
def test_a_chunk_chosen_as_deadlock_victim_is_retried(server_url: str, tmp_path: Path) -> None:
    """Another transaction locks row 50, the first chunk (rows 1..50) locks 1..49 and waits for 50, then
    the other one asks for row 1: a real deadlock. The server rolls the chunk back; the batch retries it."""
    make_items(server_url, 100)
    mysql = dialect_of(server_url) == "mysql"
    if mysql:  # InnoDB rolls back the transaction that changed fewer rows: make the other one heavier
        from tests.integration.test_batches import execute, series

        execute(server_url, "CREATE TABLE ballast (id INT NOT NULL PRIMARY KEY)")
    up = "-- dualpath:batch table=items key=id size=50\nUPDATE items SET n = n + 1;\n"
    config = project(tmp_path, server_url, {"bump": (up, "UPDATE items SET n = 0;\n")},
                     lock_timeout_ms=20_000, lock_retries=3)
    other = create_engine(parse_url(server_url), poolclass=NullPool)
    with other.connect() as conn:
        if mysql:
            conn.execute(text(f"INSERT INTO ballast (id) {series(server_url, 5000)}"))
        else:  # PostgreSQL: the session that waits longest checks first; keep this one from checking early
            conn.execute(text("SET deadlock_timeout = '15s'"))
        conn.execute(text("UPDATE items SET w = w + 1 WHERE id = 50"))
        proc = subprocess.Popen(_apply_cmd(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 90
            while not _chunk_waits_for_a_lock(server_url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the chunk never waited for row 50; sessions: {_sessions(server_url)}")
                time.sleep(0.01)
            conn.execute(text("UPDATE items SET w = w + 1 WHERE id = 1"))  # closes the cycle
            conn.commit()
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    other.dispose()
    output = proc.stdout.read() if proc.stdout else ""
    assert code == 0, output
    assert "retry 1/3" in output, output
    assert query(server_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, 100)]
    assert query(server_url, "SELECT id, w FROM items WHERE w > 0 ORDER BY id") == [(1, 1), (50, 1)]
