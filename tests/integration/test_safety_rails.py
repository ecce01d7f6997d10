"""The run lock, lock timeouts with retries, and half-way failures on real servers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.engines import open_engine
from dualpath.history import audit_rows
from dualpath.urls import parse_url
from tests.integration.helpers import dialect_of, fingerprint, run_cli, status_json, write_config
from tests.unit.layouts import write_layout

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
from dualpath.engines import open_engine
with open_engine(sys.argv[1]).run_lock("holder42", "host-a"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_second_run_is_refused_while_another_holds_the_lock(any_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, any_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = run_cli("apply", "--config", str(config), "--url", "db")
        assert refused.exit_code == 3, refused.output
        assert "target locked by run holder42" in refused.output and "host-a" in refused.output
        assert [s["state"] for s in status_json(config)] == ["pending", "pending"]
    finally:
        holder.kill()  # a crashed holder must not leave the target locked
        holder.wait()
    done = run_cli("apply", "--config", str(config), "--url", "db")
    assert done.exit_code == 0, done.output


def test_two_processes_racing_only_one_applies(any_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    cmd = [sys.executable, "-m", "dualpath.cli", "apply", "--config", str(config), "--url", "db"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read() if p.stdout else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 3]), results
    if codes == [0, 3]:
        assert any("target locked by run" in out for _, out in results)
    engine = open_engine(any_url)
    with engine.connect() as conn:
        applies = [r for r in audit_rows(conn) if r["action"] == "apply"]
    assert len(applies) == 2  # each change applied exactly once, whoever won
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


@contextmanager
def _blocker(url: str) -> Iterator[object]:
    """Hold a lock on widgets in another session, as a long transaction in production would."""
    engine = create_engine(parse_url(url), poolclass=NullPool)
    conn = engine.connect()
    if dialect_of(url) == "postgresql":
        conn.execute(text("LOCK TABLE widgets IN ACCESS EXCLUSIVE MODE"))
    else:  # an open transaction that read the table holds its metadata lock
        conn.execute(text("SELECT COUNT(*) FROM widgets")).all()
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def test_lock_timeout_retries_then_fails_cleanly(server_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(server_url))
    config = write_config(tmp_path, server_url, lock_timeout_ms=300, lock_retries=2, retry_backoff_ms=50)
    first = status_json(config)[0]["version"]
    assert run_cli("apply", "--config", str(config), "--url", "db", "--to", str(first)).exit_code == 0
    between = fingerprint(server_url)

    with _blocker(server_url):
        failed = run_cli("apply", "--config", str(config), "--url", "db")
    assert failed.exit_code == 4, failed.output
    assert "lock not granted" in failed.output and "3 attempts" in failed.output
    assert fingerprint(server_url).diff(between) == []  # consistent: nothing of the change stayed
    assert [s["state"] for s in status_json(config)] == ["applied", "failed"]
    engine = open_engine(server_url)
    with engine.connect() as conn:
        assert len([r for r in audit_rows(conn) if r["action"] == "lock-timeout"]) == 2

    again = run_cli("apply", "--config", str(config), "--url", "db")  # blocker gone: the retry goes through
    assert again.exit_code == 0, again.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


def test_lock_timeout_retry_succeeds_when_blocker_leaves(server_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(server_url))
    config = write_config(tmp_path, server_url, lock_timeout_ms=300, lock_retries=5, retry_backoff_ms=300)
    first = status_json(config)[0]["version"]
    assert run_cli("apply", "--config", str(config), "--url", "db", "--to", str(first)).exit_code == 0

    with _blocker(server_url) as held:
        # leave only once the runner has met the lock and logged its first retry: no race with timing
        release = threading.Thread(target=_release_after_first_retry, args=(server_url, held))
        release.start()
        done = run_cli("apply", "--config", str(config), "--url", "db")
        release.join()
    assert done.exit_code == 0, done.output
    assert "retry 1/5" in done.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


def _release_after_first_retry(url: str, held: Any) -> None:
    engine = open_engine(url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if any(r["action"] == "lock-timeout" for r in audit_rows(conn)):
                    return
            time.sleep(0.05)
    finally:
        held.rollback()


def test_mysql_half_way_failure_lists_what_ran(mysql_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__two_steps.sql").write_text(
        "CREATE TABLE gadgets (id INT PRIMARY KEY);\n\nALTER TABLE no_such_table ADD COLUMN x INT;\n")
    (folder / "U1__two_steps.sql").write_text("DROP TABLE gadgets;\n")
    config = write_config(tmp_path, mysql_url)
    failed = run_cli("apply", "--config", str(config), "--url", "db")
    assert failed.exit_code == 4, failed.output
    assert "V1__two_steps.sql:1" in failed.output  # the statement that ran and stays
    assert "V1__two_steps.sql:3" in failed.output  # the one that failed
    assert [s["state"] for s in status_json(config)] == ["failed"]

    refused = run_cli("apply", "--config", str(config), "--url", "db")
    assert refused.exit_code == 3 and "failed half-way" in refused.output

    engine = create_engine(parse_url(mysql_url), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE gadgets"))  # the operator undoes what ran
    engine.dispose()
    assert run_cli("repair", "--config", str(config), "--url", "db").exit_code == 0
    assert [s["state"] for s in status_json(config)] == ["pending"]
