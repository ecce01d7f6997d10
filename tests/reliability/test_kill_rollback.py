"""SIGKILL of `dualpath rollback --to 1` at a seeded random moment, then the same command again.

Same bar as apply: after the kill the state is the one history (and, on MariaDB, the journal of
the change in flight) explains; the re-run ends where an uninterrupted rollback ends, each change
rolled back exactly once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.dbs import server_database
from tests.integration.helpers import run_cli
from tests.reliability.kill_support import (
    CHANGE_S,
    TRACEBACK,
    Snapshot,
    Step,
    books,
    kill_at_progress,
    landing,
    note_landing,
    output_of,
    reached,
    reference_states,
    run_until_not_locked,
    snapshot,
    start,
    timed_run,
    wait_until_working,
    write_project,
)
from tests.reliability.test_kill_apply import pause

SEEDS = {"postgresql": range(20), "mysql": range(10)}  # MariaDB: fewer, for the wall-time budget
CASES = [(server, seed) for server, seeds in SEEDS.items() for seed in seeds]


def steps_for(dialect: str) -> list[Step]:
    """Rollbacks of several statements each, so a kill can land between two of them."""
    wait = pause(dialect)
    return [
        Step("1", "accounts", ("CREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
                               "INSERT INTO accounts VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
             ("DROP TABLE accounts",)),
        Step("2", "balance", ("ALTER TABLE accounts ADD COLUMN balance INT NOT NULL DEFAULT 0",
                              "UPDATE accounts SET balance = id * 10"),
             ("UPDATE accounts SET balance = 0", wait, "ALTER TABLE accounts DROP COLUMN balance")),
        Step("3", "entries", ("CREATE TABLE entries (id INT PRIMARY KEY, amount INT NOT NULL)",
                              "INSERT INTO entries SELECT id, balance FROM accounts"),
             ("DELETE FROM entries WHERE id > 1", wait, "DROP TABLE entries")),
        Step("4", "memo", ("ALTER TABLE accounts ADD COLUMN note VARCHAR(20)", "UPDATE accounts SET note = 'x'",
                           "ALTER TABLE accounts RENAME COLUMN note TO memo"),
             ("ALTER TABLE accounts RENAME COLUMN memo TO note", wait, "ALTER TABLE accounts DROP COLUMN note")),
    ]


ORDER = ("4", "3", "2")  # what `rollback --to 1` undoes, in this order
APPLIED_AFTER = [("1", "2", "3", "4"), ("1", "2", "3"), ("1", "2"), ("1",)]


@dataclass(frozen=True)
class Reference:
    states: list[list[Snapshot]]
    work_s: float


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    return {}


def apply_all(url: str, config: Path) -> None:
    done = run_cli("apply", "--config", str(config), "--url", "db")
    assert done.exit_code == 0, done.output


def reference_for(server: str, refs: dict[str, Reference], tmp: Path) -> Reference:
    if server not in refs:
        steps = steps_for(server)
        by_version = {s.version: s for s in steps}
        with server_database(server, "ref_kill_rollback") as url:
            apply_all(url, write_project(tmp / "a", url, steps))
            states = reference_states(url, [by_version[v] for v in ORDER], direction="down")
        with server_database(server, "ref_kill_rollback_timed") as url:
            config = write_project(tmp / "b", url, steps)
            apply_all(url, config)
            work_s = timed_run(url, config, "rollback", "--to", "1")
            assert snapshot(url) == states[-1][0], "an uninterrupted rollback differs from the statements run by hand"
        refs[server] = Reference(states, work_s)
    return refs[server]


@pytest.mark.parametrize(("server", "seed"), CASES, ids=[f"seed{seed}-{server}" for server, seed in CASES])
def test_kill_rollback_at_random_moment_then_rerun_finishes(server: str, seed: int, tmp_path: Path,
                                                            references: dict[str, Reference],
                                                            request: pytest.FixtureRequest) -> None:
    steps = steps_for(server)
    ref = reference_for(server, references, tmp_path / "ref")
    rng = random.Random(seed)
    with server_database(server, request.node.name) as url:
        config = write_project(tmp_path, url, steps)
        apply_all(url, config)
        proc = start(config, "rollback", "--to", "1")
        working = wait_until_working(url, proc)
        # the 4 rows of the apply, a seeded number of rollbacks more, then a seeded delay
        hit = working and kill_at_progress(url, proc, 4 + rng.randrange(len(ORDER)), rng.uniform(0, CHANGE_S))
        if not working:
            proc.communicate()
        seen = books(url)
        note_landing(request.node.name, landing(hit, seen, APPLIED_AFTER[-1]))
        state = snapshot(url)
        allowed = reached(ref.states, seen, ORDER, APPLIED_AFTER, "down", transactional=server == "postgresql")
        assert state in allowed, (f"seed {seed}: state {state.short()} is none of {[s.short() for s in allowed]}; "
                                  f"books: {seen}")
        for version in ORDER:
            gone = version not in seen.applied
            assert seen.downs[version] == int(gone), f"seed {seed}: {seen}"
            assert seen.audit_ok[("rollback", version)] == int(gone), f"seed {seed}: {seen}"

        again = run_until_not_locked(config, "rollback", "--to", "1")
        assert again.returncode == 0, f"seed {seed}: re-run failed: {output_of(again)}"
        assert TRACEBACK not in output_of(again)
        assert snapshot(url) == ref.states[-1][0], f"seed {seed}: the re-run did not end where a clean rollback ends"
        final = books(url)
        assert final.applied == ("1",)
        assert all(final.downs[v] == 1 and final.audit_ok[("rollback", v)] == 1 for v in ORDER), f"seed {seed}"
        assert all(final.ups[s.version] == 1 for s in steps), f"seed {seed}: {final.ups}"
        assert not any(final.journal.values()), f"seed {seed}: journal left behind: {final.journal}"
