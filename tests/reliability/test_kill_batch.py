"""SIGKILL of `dualpath apply` running a change that holds a `-- dualpath:batch` statement between two
DDL statements, at a seeded random moment; then the same command again.

A batch is a mixture by design, so the bar is the checkpoint: rows up to the checkpoint's last
key are done exactly once, rows after it untouched, and the schema is the one the statements
recorded done (checkpoint rows, and on MariaDB the journal's in-doubt statement) explain. The
re-run finishes with every row changed exactly once.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.dbs import server_database
from tests.integration.helpers import write_config
from tests.integration.test_batches import make_items
from tests.reliability.kill_support import (
    TRACEBACK,
    Books,
    Snapshot,
    books,
    execute,
    kill_after,
    note_landing,
    output_of,
    query,
    run_until_not_locked,
    snapshot,
    start,
    timed_run,
    wait_until_working,
)

ROWS = 4000
SEEDS = {"postgresql": range(20), "mysql": range(10)}  # MariaDB: fewer, for the wall-time budget
CASES = [(server, seed) for server, seeds in SEEDS.items() for seed in seeds]
FORWARD = ("ALTER TABLE items ADD COLUMN m INT NOT NULL DEFAULT 0",
           "UPDATE items SET m = id * 2, n = n + 1",
           "CREATE INDEX items_m ON items (m)")
UP = (f"{FORWARD[0]};\n\n-- dualpath:batch table=items key=id size=100 target_ms=20 max_rows_per_s=4000\n"
      f"{FORWARD[1]};\n\n{FORWARD[2]};\n")
DOWN = "ALTER TABLE items DROP COLUMN m;\n"


@dataclass(frozen=True)
class Reference:
    schemas: list[str]  # schema digest after 0, 1 (ALTER), 2 (batch: same schema), 3 (index) statements
    final: Snapshot
    work_s: float


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    return {}


def write_batch_project(folder: Path, url: str) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / "V1__backfill_m.sql").write_text(UP)
    (migrations / "U1__backfill_m.sql").write_text(DOWN)
    return write_config(folder, url)


def reference_for(server: str, refs: dict[str, Reference], tmp: Path) -> Reference:
    if server not in refs:
        with server_database(server, "ref_kill_batch") as url:
            make_items(url, ROWS)
            schemas = [snapshot(url).schema]
            for sql in FORWARD:
                execute(url, sql)
                schemas.append(snapshot(url).schema)
            final = snapshot(url)
        with server_database(server, "ref_kill_batch_timed") as url:
            make_items(url, ROWS)
            work_s = timed_run(url, write_batch_project(tmp, url), "apply")
            assert snapshot(url) == final, "an uninterrupted batch differs from the statements run by hand"
        refs[server] = Reference(schemas, final, work_s)
    return refs[server]


def checkpoint_rows(url: str) -> dict[int, tuple[str, str | None, int]]:
    """statement index -> (state, last key, rows done)."""
    found = query(url, "SELECT statement_index, state, last_key, rows_done FROM dualpath_batch_checkpoint "
                       "WHERE version = '1' AND direction = 'up'")
    return {int(i): (str(state), last_key, int(done)) for i, state, last_key, done in found}


def allowed_schemas(ref: Reference, marks: dict[int, tuple[str, str | None, int]], seen: Books) -> set[str]:
    """Statement i recorded done (checkpoint) -> its schema; journaled as started -> before or after it."""
    started = {i for i, state in seen.journal.get(("1", "up"), []) if state == "started"}
    done = [i for i in range(3) if marks.get(i, ("",))[0] == "done"]
    assert done == list(range(len(done))), f"statements done out of order: {marks}"
    reached = len(done)
    allowed = {ref.schemas[reached]}
    if reached in started:
        allowed.add(ref.schemas[reached + 1])
    return allowed


def check_rows(url: str, marks: dict[int, tuple[str, str | None, int]], seed: int) -> None:
    """Rows up to the checkpoint's last key changed exactly once, the rest untouched."""
    state, last_key, rows_done = marks.get(1, ("none", None, 0))
    upto = ROWS if state == "done" else (int(json.loads(last_key)[0]) if last_key else 0)
    counts = dict(query(url, "SELECT n, COUNT(*) FROM items GROUP BY n"))
    expected = {n: c for n, c in {1: upto, 0: ROWS - upto}.items() if c}
    assert counts == expected, f"seed {seed}: rows by n {counts}, checkpoint at key {upto} ({marks})"
    assert rows_done == upto, f"seed {seed}: checkpoint says {rows_done} rows done, {upto} keys passed"
    if upto:
        wrong = query(url, f"SELECT COUNT(*) FROM items WHERE id <= {upto} AND m <> id * 2")[0][0]
        assert wrong == 0, f"seed {seed}: {wrong} rows before the checkpoint lack their new value"


@pytest.mark.parametrize(("server", "seed"), CASES, ids=[f"seed{seed}-{server}" for server, seed in CASES])
def test_kill_batch_at_random_moment_then_rerun_finishes(server: str, seed: int, tmp_path: Path,
                                                         references: dict[str, Reference],
                                                         request: pytest.FixtureRequest) -> None:
    ref = reference_for(server, references, tmp_path / "ref")
    rng = random.Random(seed)
    with server_database(server, request.node.name) as url:
        make_items(url, ROWS)
        config = write_batch_project(tmp_path, url)
        proc = start(config, "apply")
        working = wait_until_working(url, proc)
        hit = working and kill_after(proc, rng.uniform(0, ref.work_s * 0.8))
        if not working:
            proc.communicate()
        seen = books(url)
        marks = checkpoint_rows(url)
        where = "after" if not hit or seen.applied else (
            "in-batch" if marks.get(1, ("",))[0] == "running" else f"at-statement-{len(marks)}")
        note_landing(request.node.name, where)
        if seen.applied:  # finished before the kill
            assert seen.applied == ("1",) and snapshot(url) == ref.final
        else:
            schema = snapshot(url).schema
            allowed = allowed_schemas(ref, marks, seen)
            assert schema in allowed, f"seed {seed}: schema {schema[:8]} none of {sorted(allowed)}; {marks} {seen}"
            check_rows(url, marks, seed)

        again = run_until_not_locked(config, "apply")
        assert again.returncode == 0, f"seed {seed} ({where}): re-run failed: {output_of(again)}"
        assert TRACEBACK not in output_of(again)
        assert snapshot(url) == ref.final, f"seed {seed}: the re-run did not end where a clean run ends"
        assert query(url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, ROWS)], f"seed {seed}"
        final = books(url)
        assert final.applied == ("1",) and final.ups["1"] == 1 and final.audit_ok[("apply", "1")] == 1
        assert not any(final.journal.values()), f"seed {seed}: journal left behind: {final.journal}"
        assert all(state == "done" for state, _, _ in checkpoint_rows(url).values())
