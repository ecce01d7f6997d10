"""SIGKILL of `dualpath apply` at a seeded random moment, then a plain re-run.

After each kill the database must hold a state some prefix of the run explains: on PostgreSQL
the state after exactly the changes history lists as applied; on MariaDB (DDL commits on its
own) the same, or, for the change in flight, the state after exactly the statements its
journal (dualpath_statement_journal) lists as done, plus the one it lists as started. The
re-run then finishes and ends where an uninterrupted run ends, each change applied once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.dbs import server_database
from tests.reliability.kill_support import (
    TRACEBACK,
    Books,
    Snapshot,
    Step,
    books,
    kill_after,
    note_landing,
    output_of,
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


def allowed_states(ref: Reference, steps: list[Step], seen: Books, transactional: bool) -> list[Snapshot]:
    """What the books say may be in the database; asserts the books are themselves coherent."""
    versions = [s.version for s in steps]
    k = len(seen.applied)
    assert list(seen.applied) == versions[:k], f"history lists {seen.applied}: not a prefix of {versions}"
    in_flight = {key: rows for key, rows in seen.journal.items() if rows}
    if transactional or k == len(versions):
        assert not in_flight, f"journal rows left where none can be: {in_flight}"
        return [ref.states[k][0]]
    assert set(in_flight) <= {(versions[k], "up")}, f"journal rows for other changes: {in_flight}"
    rows = in_flight.get((versions[k], "up"), [])
    done = [i for i, state in rows if state == "done"]
    started = [i for i, state in rows if state == "started"]
    assert done == list(range(len(done))), f"journal of {versions[k]}: done out of order {rows}"
    assert len(started) <= 1 and all(i == len(done) for i in started), f"journal of {versions[k]}: {rows}"
    allowed = [ref.states[k][len(done)]]
    if started:
        allowed.append(ref.states[k][len(done) + 1])  # in doubt: the statement may or may not have taken
    return allowed


def landing(hit: bool, seen: Books, total: int) -> str:
    """after: the run had finished; boundary: between changes; mid-change: the journal shows one in flight."""
    if not hit or len(seen.applied) == total:
        return "after"
    return "mid-change" if any(seen.journal.values()) else "boundary"


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
        hit = working and kill_after(proc, rng.uniform(0, ref.work_s * 0.8))
        if not working:
            proc.communicate()
        seen = books(url)
        where = landing(hit, seen, len(steps))
        note_landing(request.node.name, where)
        state = snapshot(url)
        allowed = allowed_states(ref, steps, seen, transactional=server == "postgresql")
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
