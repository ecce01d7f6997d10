"""Checkpoints and the statement journal belong to one attempt of one change: a round trip
(apply, rollback, apply again) never finds a statement "done" from an earlier, completed run.

Issue 13 item 1: a batched change re-applied after a plain rollback printed `applied` and exit 0
while its rows stayed rolled back (every statement looked done from the first apply's checkpoints).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import dialect_of, run_cli, status_json
from tests.integration.test_batches import apply, checkpoints, project, query

pytestmark = pytest.mark.integration

ITEMS = ("CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v INT NOT NULL);\n"
         "INSERT INTO items (id, v) VALUES (1, 0), (2, 0), (3, 0);\n",
         "DROP TABLE items;\n")
BUMP_UP = "-- dualpath:batch table=items key=id size=10\nUPDATE items SET v = v + 1;\n"
BUMP_DOWN_PLAIN = "UPDATE items SET v = v - 1;\n"
BUMP_DOWN_BATCHED = "-- dualpath:batch table=items key=id size=2\nUPDATE items SET v = v - 1;\n"


def rollback(config: Path, steps: int = 1) -> None:
    back = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", str(steps))
    assert back.exit_code == 0, back.output


def forward(config: Path) -> None:
    done = apply(config)
    assert done.exit_code == 0, done.output


def values(url: str) -> list[int]:
    return [row[0] for row in query(url, "SELECT v FROM items ORDER BY id")]


@pytest.mark.parametrize("down", [BUMP_DOWN_PLAIN, BUMP_DOWN_BATCHED], ids=["plain_down", "batched_down"])
def test_reapply_after_rollback_runs_the_batch_again(any_url: str, tmp_path: Path, down: str) -> None:
    config = project(tmp_path, any_url, {"items": ITEMS, "bump": (BUMP_UP, down)})
    for _round in range(3):  # apply → rollback, three times: each run starts afresh
        forward(config)
        assert values(any_url) == [1, 1, 1]
        rollback(config)
        assert values(any_url) == [0, 0, 0]
        assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    forward(config)
    assert values(any_url) == [1, 1, 1]


def test_reapply_after_rollback_runs_the_ddl_of_the_batched_change_again(any_url: str, tmp_path: Path) -> None:
    """DDL next to the batch: skipped, it left status saying applied and the next rollback failing."""
    up = "ALTER TABLE items ADD COLUMN w INT NOT NULL DEFAULT 0;\n\n" + BUMP_UP.replace("v + 1", "v + 1, w = 7")
    down = "ALTER TABLE items DROP COLUMN w;\n\nUPDATE items SET v = v - 1;\n"
    config = project(tmp_path, any_url, {"items": ITEMS, "bump": (up, down)})
    forward(config)
    rollback(config)
    forward(config)
    assert query(any_url, "SELECT v, w FROM items ORDER BY id") == [(1, 7)] * 3
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    rollback(config)
    assert values(any_url) == [0, 0, 0]
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]


def test_batched_rollback_twice_runs_the_down_batch_again(any_url: str, tmp_path: Path) -> None:
    """The down direction's checkpoints of the first rollback never make the second one a no-op."""
    config = project(tmp_path, any_url, {"items": ITEMS, "bump": (BUMP_UP, BUMP_DOWN_BATCHED)})
    forward(config)
    rollback(config)
    forward(config)
    rollback(config)
    assert values(any_url) == [0, 0, 0]
    assert [(r["direction"], r["state"]) for r in checkpoints(any_url)] == [("down", "done")]


def test_edited_after_a_completed_round_trip_runs_the_new_file(any_url: str, tmp_path: Path) -> None:
    """A rolled-back change may be edited: the first apply's checkpoints are not 'progress' of it."""
    config = project(tmp_path, any_url, {"items": ITEMS, "bump": (BUMP_UP, BUMP_DOWN_PLAIN)})
    forward(config)
    rollback(config)
    (tmp_path / "migrations" / "V2__bump.sql").write_text(BUMP_UP.replace("v + 1", "v + 5"))
    (tmp_path / "migrations" / "U2__bump.sql").write_text(BUMP_DOWN_PLAIN.replace("v - 1", "v - 5"))
    forward(config)
    assert values(any_url) == [5, 5, 5]
    rollback(config)
    assert values(any_url) == [0, 0, 0]


def test_plain_rollback_retires_the_batch_progress_it_undid(any_url: str, tmp_path: Path) -> None:
    """After a plain rollback, `batches status` shows no batch as done that the database no longer holds."""
    config = project(tmp_path, any_url, {"items": ITEMS, "bump": (BUMP_UP, BUMP_DOWN_PLAIN)})
    forward(config)
    assert [(r["direction"], r["state"]) for r in checkpoints(any_url)] == [("up", "done")]
    rollback(config)
    assert checkpoints(any_url) == []
    if dialect_of(any_url) == "mysql":
        assert query(any_url, "SELECT COUNT(*) FROM dualpath_statement_journal") == [(0,)]
