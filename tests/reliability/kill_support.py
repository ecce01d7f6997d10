"""Shared steps for the kill, race and lock tests: a project on disk, the real CLI as a subprocess,
state snapshots (schema fingerprint + row checksums) and what dualpath's own tables say.

The CLI runs as ``.venv/bin/dualpath`` in its own process so a SIGKILL is a real one: no
finally-blocks, no atexit, sockets closed by the kernel.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.engines import open_engine
from dualpath.history import latest_rows
from tests.integration.helpers import dialect_of, write_config

REPO = Path(__file__).resolve().parents[2]
DUALPATH = REPO / ".venv" / "bin" / "dualpath"
TRACEBACK = "Traceback (most recent call last)"
CHANGE_S = 0.1  # within about one small change of these tests (a 30 ms sleep, a few statements, a history row)


@dataclass(frozen=True)
class Step:
    """One migration: version, forward statements, rollback statements (each without ';')."""

    version: str
    name: str
    up: tuple[str, ...]
    down: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """The user-visible state: schema digest and a checksum of each user table's rows."""

    schema: str
    rows: tuple[tuple[str, str], ...]

    def short(self) -> str:
        return f"{self.schema[:8]}/" + ",".join(f"{t}:{c[:6]}" for t, c in self.rows)


def dualpath_cmd(*args: str) -> list[str]:
    if not DUALPATH.exists():
        pytest.fail(f"{DUALPATH} is missing — install dualpath: python3 -m venv .venv && "
                    ".venv/bin/pip install -e '.[dev]'", pytrace=False)
    return [str(DUALPATH), *args]


def write_project(folder: Path, url: str, steps: Sequence[Step], **safety: int) -> Path:
    """Flyway files V<n>__name.sql / U<n>__name.sql and a dualpath.toml with target 'db'."""
    migrations = folder / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    for step in steps:
        (migrations / f"V{step.version}__{step.name}.sql").write_text(";\n\n".join(step.up) + ";\n")
        (migrations / f"U{step.version}__{step.name}.sql").write_text(";\n\n".join(step.down) + ";\n")
    return write_config(folder, url, **safety)


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(dualpath_cmd(*args, "--config", str(config), "--url", "db"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(config: Path, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(dualpath_cmd(*args, "--config", str(config), "--url", "db"),
                          capture_output=True, text=True, timeout=timeout_s, check=False)


def run_until_not_locked(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A re-run right after kill -9: the server may need a moment to end the dead run's lock session."""
    deadline = time.monotonic() + 30
    while True:
        done = run(config, *args)
        if done.returncode != 3 or "target locked" not in done.stdout + done.stderr:
            return done
        if time.monotonic() > deadline:
            return done
        time.sleep(0.2)


def output_of(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout or "") + (done.stderr or "")


# -- the database -------------------------------------------------------------------------------

def snapshot(url: str) -> Snapshot:
    engine = open_engine(url)
    with engine.connect() as conn:
        schema = engine.fingerprint(conn).digest
        rows = tuple((t, table_checksum(conn, engine.quote_ident(t)))
                     for t in engine.iter_tables(conn) if not t.startswith("dualpath_"))
        conn.rollback()
    return Snapshot(schema, rows)


def table_checksum(conn: Connection, quoted: str) -> str:
    rows = sorted(json.dumps([str(v) for v in r]) for r in conn.exec_driver_sql(f"SELECT * FROM {quoted}"))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def execute(url: str, *statements: str) -> None:
    """Plain SQL in autocommit, the way a person at a SQL prompt would run it."""
    engine = open_engine(url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for sql in statements:
            conn.exec_driver_sql(sql)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = open_engine(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
        conn.rollback()
    return found


@dataclass(frozen=True)
class Books:
    """What dualpath's own tables say after a run."""

    applied: tuple[str, ...]  # versions whose latest history row is a successful up
    states: dict[str, str]  # version -> latest direction/success, e.g. "up:ok"
    ups: Counter[str]  # successful up rows per version
    downs: Counter[str]  # successful down rows per version
    audit_ok: Counter[tuple[str, str]]  # (action, version) with success True
    journal: dict[tuple[str, str], list[tuple[int, str]]]  # (version, direction) -> [(index, state)]


def books(url: str) -> Books:
    engine = open_engine(url)
    with engine.connect() as conn:
        latest = latest_rows(conn)
        ups: Counter[str] = Counter()
        downs: Counter[str] = Counter()
        audit_ok: Counter[tuple[str, str]] = Counter()
        journal: dict[tuple[str, str], list[tuple[int, str]]] = {}
        if latest:
            for version, direction, success in conn.execute(text(
                    "SELECT version, direction, success FROM dualpath_history ORDER BY id")):
                if success and direction == "up":
                    ups[version] += 1
                elif success and direction == "down":
                    downs[version] += 1
            for action, version, detail in conn.execute(text(
                    "SELECT action, version, detail FROM dualpath_audit ORDER BY id")):
                if json.loads(detail or "{}").get("success"):
                    audit_ok[(action, version)] += 1
        journal = journal_rows(conn)
        conn.rollback()
    applied = tuple(v for v, r in latest.items() if r.is_applied)
    states = {v: f"{r.direction}:{'ok' if r.success else 'failed'}" for v, r in latest.items()}
    return Books(applied, states, ups, downs, audit_ok, journal)


def journal_rows(conn: Connection) -> dict[tuple[str, str], list[tuple[int, str]]]:
    try:
        found = conn.execute(text("SELECT version, direction, statement_index, state "
                                  "FROM dualpath_statement_journal ORDER BY statement_index")).all()
    except DBAPIError:
        conn.rollback()
        return {}
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for version, direction, index, state in found:
        out.setdefault((version, direction), []).append((int(index), state))
    return out


def history_started(url: str) -> bool:
    """dualpath's tables exist and the runner is past its setup: the changes start next."""
    try:
        query(url, "SELECT COUNT(*) FROM dualpath_statement_journal")
    except DBAPIError:
        return False
    return True


def wait_until_working(url: str, proc: subprocess.Popen[str], timeout_s: float = 60) -> bool:
    """True once the runner holds the run lock and has created its tables (the point kills are timed
    from, so they land in the work rather than in Python's start-up); False if it exited first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if history_started(url):
            return True
        time.sleep(0.02)
    raise AssertionError(f"the runner did not start its work within {timeout_s} s")


def kill_at_progress(url: str, proc: subprocess.Popen[str], rows: int, jitter_s: float) -> bool:
    """SIGKILL ``jitter_s`` after history holds ``rows`` rows: a seeded change boundary plus a seeded
    delay, so kills land inside the work however slow the machine is; True when the kill hit.
    One open session polls, so the boundary is seen within milliseconds."""
    engine = open_engine(url)
    deadline = time.monotonic() + 120
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        while int(conn.exec_driver_sql("SELECT COUNT(*) FROM dualpath_history").scalar() or 0) < rows:
            if proc.poll() is not None:
                proc.communicate()
                return False
            assert time.monotonic() < deadline, f"history never reached {rows} rows"
            time.sleep(0.002)
    return kill_after(proc, jitter_s)


def note_landing(test: str, where: str) -> None:
    """DUALPATH_KILL_LOG=file collects where each kill landed, for the suite's report."""
    log = os.environ.get("DUALPATH_KILL_LOG")
    if log:
        with open(log, "a") as out:
            out.write(f"{test} {where}\n")


def kill_after(proc: subprocess.Popen[str], delay_s: float) -> bool:
    """SIGKILL after ``delay_s``; True when the kill hit a running process."""
    time.sleep(delay_s)
    if proc.poll() is not None:
        proc.communicate()
        return False
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return True


def timed_run(url: str, config: Path, *args: str) -> float:
    """Seconds of work in an uninterrupted run, from the run lock seen to exit."""
    proc = start(config, *args)
    assert wait_until_working(url, proc), output_of_proc(proc)
    began = time.monotonic()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return time.monotonic() - began


def output_of_proc(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=60)
    return f"exit {proc.returncode}: {out}"


def reference_states(url: str, steps: Sequence[Step], direction: str = "up") -> list[list[Snapshot]]:
    """states[k][j]: the state after j statements of step k (run by hand, one per autocommit),
    starting from what ``url`` holds now. states[k][0] is the state before step k; the last list
    holds the final state alone. Run statement by statement so every mid-change state is known."""
    states: list[list[Snapshot]] = []
    for step in steps:
        current = [snapshot(url)]
        for sql in (step.up if direction == "up" else step.down):
            execute(url, sql)
            current.append(snapshot(url))
        states.append(current)
    states.append([snapshot(url)])
    return states


def dialect(url: str) -> str:
    return dialect_of(url)


def reached(states: list[list[Snapshot]], seen: Books, order: Sequence[str], applied_after: Sequence[tuple[str, ...]],
            direction: str, transactional: bool) -> list[Snapshot]:
    """The states the books allow after a kill, asserting the books are coherent themselves.

    ``order``: the versions in the order the run handles them; ``applied_after[k]``: what history
    must list as applied once k of them are done; ``states[k][j]``: the state after j statements
    of change order[k] (see reference_states)."""
    assert seen.applied in applied_after, f"history lists {seen.applied}: none of {list(applied_after)}"
    k = list(applied_after).index(seen.applied)
    in_flight = {key: rows for key, rows in seen.journal.items() if rows}
    if transactional or k == len(order):
        assert not in_flight, f"journal rows left where none can be: {in_flight}"
        return [states[k][0]]
    assert set(in_flight) <= {(order[k], direction)}, f"journal rows for other changes: {in_flight}"
    rows = in_flight.get((order[k], direction), [])
    done = [i for i, state in rows if state == "done"]
    started = [i for i, state in rows if state == "started"]
    assert done == list(range(len(done))), f"journal of {order[k]}: done out of order {rows}"
    assert len(started) <= 1 and all(i == len(done) for i in started), f"journal of {order[k]}: {rows}"
    allowed = [states[k][len(done)]]
    if started:
        allowed.append(states[k][len(done) + 1])  # in doubt: the statement may or may not have taken
    return allowed


def landing(hit: bool, seen: Books, finished: tuple[str, ...]) -> str:
    """after: the run had finished; boundary: between changes; mid-change: the journal shows one in flight."""
    if not hit or seen.applied == finished:
        return "after"
    return "mid-change" if any(seen.journal.values()) else "boundary"
