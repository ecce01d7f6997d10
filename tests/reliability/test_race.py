"""Two `dualpath apply` started at the same moment on one target, several rounds: one does the work,
the other exits 3 naming the holder's run, and every change is applied exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
# long enough that the second runner meets the lock even on a loaded machine's start-up jitter
HOLD = {"postgresql": "SELECT pg_sleep(4)", "mysql": "DO SLEEP(4)"}


@pytest.fixture(params=["pg_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def round_step(n: int, name: str) -> Step:
    return Step(str(n), f"round{n}", (f"CREATE TABLE r{n} (id INT PRIMARY KEY)", HOLD[name],
                                      f"INSERT INTO r{n} VALUES ({n})"), (f"DROP TABLE r{n}",))


def winner_run_id(url: str, version: str) -> str:
    return str(query(url, f"SELECT run_id FROM dualpath_history WHERE version = '{version}' AND success")[0][0])


def test_two_runners_racing_one_works_one_is_refused(server_url: str, tmp_path: Path) -> None:
    name = dialect(server_url)
    steps: list[Step] = []
    for n in range(1, ROUNDS + 1):
        steps.append(round_step(n, name))
        config = write_project(tmp_path, server_url, steps)
        racers = [start(config, "apply"), start(config, "apply")]
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
