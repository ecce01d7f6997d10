"""Two `dualpath apply` started at the same moment on one target, several rounds: one does the work,
the other exits 3 naming the holder's run, and every change is applied exactly once.

The race is built, not timed: the change waits at a gate the test holds closed, so whichever runner
takes the run lock first still holds it when the other arrives, however slowly either one starts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import pytest
from sqlalchemy import text

from dualpath.engines import open_engine
from tests.reliability.kill_support import (
    TRACEBACK,
    Step,
    books,
    dialect,
    query,
    start,
    write_project,
)

ROUNDS = 3
# the change waits until the test opens the gate: PostgreSQL polls a table (a lock wait would meet
# lock_timeout), MySQL waits for a named lock the test holds (GET_LOCK has its own timeout)
HOLD = {"postgresql": ("DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM race_gate) LOOP PERFORM pg_sleep(0.05); "
                       "END LOOP; END $$"),
        "mysql": "DO GET_LOCK('dp_race_gate', 600)"}


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def round_step(n: int, name: str) -> Step:
    return Step(str(n), f"round{n}", (f"CREATE TABLE r{n} (id INT PRIMARY KEY)", HOLD[name],
                                      f"INSERT INTO r{n} VALUES ({n})"), (f"DROP TABLE r{n}",))


@contextmanager
def gate(url: str, name: str) -> Iterator[None]:
    """Closed while the block runs (the racers' change waits at it), open when it ends."""
    engine = open_engine(url)
    with engine.connect() as conn:
        if name == "postgresql":
            conn.execute(text("CREATE TABLE IF NOT EXISTS race_gate (open int)"))
            conn.execute(text("DELETE FROM race_gate"))
            conn.commit()
            yield
            conn.execute(text("INSERT INTO race_gate VALUES (1)"))
            conn.commit()
        else:
            assert conn.execute(text("SELECT GET_LOCK('dp_race_gate', 10)")).scalar() == 1
            try:
                yield
            finally:
                conn.execute(text("DO RELEASE_LOCK('dp_race_gate')"))


def first_to_end(racers: list[Popen[str]]) -> int:
    """The index of the racer that ends first (the other waits at the gate)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for index, proc in enumerate(racers):
            if proc.poll() is not None:
                return index
        time.sleep(0.05)
    raise AssertionError("neither racer ended while the gate was closed")


def winner_run_id(url: str, version: str) -> str:
    return str(query(url, f"SELECT run_id FROM dualpath_history WHERE version = '{version}' AND success")[0][0])


def test_two_runners_racing_one_works_one_is_refused(server_url: str, tmp_path: Path) -> None:
    name = dialect(server_url)
    steps: list[Step] = []
    for n in range(1, ROUNDS + 1):
        steps.append(round_step(n, name))
        config = write_project(tmp_path, server_url, steps)
        with gate(server_url, name):
            racers = [start(config, "apply"), start(config, "apply")]
            loser = first_to_end(racers)
            assert racers[loser].returncode == 3, racers[loser].communicate()[0]
        results = [(proc.communicate(timeout=120)[0], proc.returncode) for proc in racers]
        codes = sorted(code for _, code in results)
        assert codes == [0, 3], f"round {n}: exit codes {codes}: {results}"
        (won, _), (lost, _) = sorted(results, key=lambda r: r[1])
        assert TRACEBACK not in won + lost
        assert f"applied {n} round{n}" in won, won
        holder = winner_run_id(server_url, str(n))
        assert re.search(rf"target locked by run {holder} since \S+ on \S+", lost), (holder, lost)

        seen = books(server_url)
        versions = tuple(s.version for s in steps)
        assert seen.applied == versions, f"round {n}: {seen}"
        assert all(seen.ups[v] == 1 and seen.audit_ok[("apply", v)] == 1 for v in versions), f"round {n}: {seen}"
        assert query(server_url, f"SELECT id FROM r{n}") == [(n,)]
