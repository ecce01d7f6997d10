"""Hostile state in the target: what earlier runs left behind never makes a statement look done, and
refused input never changes the database (issue 13, items 1 and 3).

- Round trips: apply → rollback → apply → rollback of a change holding DDL and a batch, on all three
  engines, end exactly where a single apply or rollback ends (schema fingerprint and rows).
- Leftovers: checkpoint and journal rows of an earlier attempt (as a completed run would leave them,
  same checksum, every statement "done") are ignored; rows written by a dualpath that did not key
  them yet (tables without the ``attempt`` column) resume an interrupted first apply, and are refused,
  untouched, when the change has completed a run since.
- Refusals: for each kind of bad input in a later change (apply) or an earlier one (rollback), the
  run exits 2 and the schema fingerprint, the history and the rows are what they were.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import dialect_of, fingerprint, run_cli, status_json
from tests.integration.test_batches import apply, execute, project, query

ITEMS = ("CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v INT NOT NULL);\n"
         "INSERT INTO items (id, v) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0);\n",
         "DROP TABLE items;\n")
UP = ("ALTER TABLE items ADD COLUMN w INT NOT NULL DEFAULT 0;\n\n"
      "-- dualpath:batch table=items key=id size=2\nUPDATE items SET v = v + 1, w = 7;\n\n"
      "CREATE INDEX items_w ON items (w);\n")
DOWN = {"mysql": "DROP INDEX items_w ON items;\n\nALTER TABLE items DROP COLUMN w;\n\nUPDATE items SET v = v - 1;\n",
        "other": "DROP INDEX items_w;\n\nALTER TABLE items DROP COLUMN w;\n\nUPDATE items SET v = v - 1;\n"}
STATEMENTS_UP = 3


def two_changes(tmp_path: Path, url: str) -> Path:
    down = DOWN["mysql" if dialect_of(url) == "mysql" else "other"]
    return project(tmp_path, url, {"items": ITEMS, "bump": (UP, down)})


def ok(result: Any) -> None:
    assert result.exit_code == 0, result.output


def rollback(config: Path, steps: int = 1) -> Any:
    return run_cli("rollback", "--config", str(config), "--url", "db", "--steps", str(steps))


def history(url: str) -> list[Any]:
    try:
        return query(url, "SELECT id, version, direction, success FROM dualpath_history ORDER BY id")
    except Exception:  # noqa: BLE001 - no history table: nothing recorded
        return []


def state(url: str) -> tuple[str, list[Any]]:
    return fingerprint(url).digest, query(url, "SELECT * FROM items ORDER BY id")


def file_checksum(folder: Path, url: str, version: str) -> str:
    from dualpath.sources import detect_layout, read_changes

    migrations = folder / "migrations"
    changes = read_changes(migrations, dialect=dialect_of(url), layout=detect_layout(migrations))
    return next(c.checksum for c in changes if c.version == version)


def checksum_of_version(url: str, version: str) -> str:
    return str(query(url, f"SELECT checksum FROM dualpath_history WHERE version = '{version}' ORDER BY id")[-1][0])


def leave_rows(url: str, version: str, checksum: str, attempt: str | None, indexes: range,
               state_: str = "done", with_attempt_column: bool = True) -> None:
    """Checkpoint rows (and journal rows) saying each statement of ``version`` (up) is done."""
    at = datetime(2020, 1, 1).isoformat(sep=" ")
    column = ", attempt" if with_attempt_column else ""
    value = (", NULL" if attempt is None else f", '{attempt}'") if with_attempt_column else ""
    for i in indexes:
        batch = i == 1
        table, last = ("'items'", "'[5]'") if batch else ("NULL", "NULL")
        execute(url, "INSERT INTO dualpath_batch_checkpoint (version, direction, statement_index, location, checksum, "
                     "table_name, last_key, rows_done, keys_done, chunk_size, state, run_id, updated_at, updated_by"
                     f"{column}) VALUES ('{version}', 'up', {i}, 'V2__bump.sql:{i + 1}', '{checksum}', "
                     f"{table}, {last}, 5, 5, 2, "
                     f"'{state_ if batch else 'done'}', 'old-run', '{at}', NULL{value})")
        execute(url, "INSERT INTO dualpath_statement_journal (version, direction, statement_index, location, "
                     f"checksum, state, schema_before, session_id, run_id, updated_at{column}) VALUES ('{version}', "
                     f"'up', {i}, 'V2__bump.sql:{i + 1}', '{checksum}', 'done', NULL, NULL, 'old-run', '{at}'{value})")


# -- round trips ---------------------------------------------------------------------------------


def test_round_trips_end_where_one_apply_or_rollback_ends(any_url: str, tmp_path: Path) -> None:
    config = two_changes(tmp_path, any_url)
    ok(apply(config, "--to", "1"))
    before = state(any_url)
    ok(apply(config))
    after = state(any_url)
    assert after[1] == [(i, 1, 7) for i in range(1, 6)]
    for _ in range(2):
        ok(rollback(config))
        assert state(any_url) == before
        ok(apply(config))
        assert state(any_url) == after
        assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


# -- leftovers of earlier runs ---------------------------------------------------------------------


@pytest.mark.parametrize("left", ["done", "cancelled", "paused"])
def test_rows_of_an_earlier_attempt_never_count(any_url: str, tmp_path: Path, left: str) -> None:
    """As if the first apply's rows had survived its rollback: same checksum, every statement done."""
    config = two_changes(tmp_path, any_url)
    ok(apply(config))
    ok(rollback(config))
    pending = state(any_url)
    # the first apply ran as attempt "0" (no successful row before it)
    leave_rows(any_url, "2", checksum_of_version(any_url, "2"), "0", range(STATEMENTS_UP), left)
    ok(apply(config))
    assert state(any_url)[1] == [(i, 1, 7) for i in range(1, 6)]
    ok(rollback(config))
    assert state(any_url) == pending


def test_unkeyed_rows_after_a_completed_run_are_refused_untouched(any_url: str, tmp_path: Path) -> None:
    """Rows from before attempts were kept, for a change applied and rolled back since: a run cannot tell
    an interrupted run from a finished one, so it refuses (exit 3) and changes nothing."""
    config = two_changes(tmp_path, any_url)
    ok(apply(config))
    ok(rollback(config))
    leave_rows(any_url, "2", checksum_of_version(any_url, "2"), None, range(STATEMENTS_UP))
    before, recorded = state(any_url), history(any_url)
    refused = apply(config)
    assert refused.exit_code == 3, refused.output
    assert "batches reset --version 2" in refused.output and "next:" in refused.output
    assert (state(any_url), history(any_url)) == (before, recorded)
    ok(run_cli("batches", "reset", "--url", any_url, "--version", "2"))
    ok(apply(config))
    assert state(any_url)[1] == [(i, 1, 7) for i in range(1, 6)]


def test_tables_of_an_earlier_dualpath_resume_an_interrupted_first_apply(any_url: str, tmp_path: Path) -> None:
    """Tables without the attempt column, left by an older dualpath killed after the ALTER of a change
    never applied: the new run adds the column and resumes after the ALTER (running it again would fail)."""
    config = two_changes(tmp_path, any_url)
    ok(apply(config, "--to", "1"))
    for table in ("dualpath_batch_checkpoint", "dualpath_statement_journal"):
        execute(any_url, f"ALTER TABLE {table} DROP COLUMN attempt")
    execute(any_url, "ALTER TABLE items ADD COLUMN w INT NOT NULL DEFAULT 0")  # what the killed run did
    leave_rows(any_url, "2", file_checksum(tmp_path, any_url, "2"), None, range(1), with_attempt_column=False)
    ok(apply(config))
    assert state(any_url)[1] == [(i, 1, 7) for i in range(1, 6)]
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


# -- refusals change nothing ---------------------------------------------------------------------

BAD_UP = {
    "key_not_unique": "-- dualpath:batch table=items key=v\nUPDATE items SET v = v + 1;\n",
    "table_missing": "-- dualpath:batch table=gone key=id\nUPDATE gone SET v = 1;\n",
    "size_out_of_range": "-- dualpath:batch table=items key=id size=99999999999999999999\nUPDATE items SET v = 1;\n",
    "not_batchable": "-- dualpath:batch table=items key=id\nINSERT INTO items (id, v) VALUES (9, 9);\n",
}


@pytest.mark.parametrize("bad", sorted(BAD_UP))
def test_bad_later_change_leaves_the_database_as_it_was(any_url: str, tmp_path: Path, bad: str) -> None:
    config = project(tmp_path, any_url, {"items": ITEMS, "more": ("CREATE TABLE more_items (id INT);\n",
                                                                  "DROP TABLE more_items;\n"),
                                         "bad": ("UPDATE items SET v = 2;\n", "UPDATE items SET v = 0;\n")})
    ok(apply(config, "--to", "1"))
    (tmp_path / "migrations" / "V3__bad.sql").write_text(BAD_UP[bad])  # a parse error refuses `--to 1` too
    before, recorded = state(any_url), history(any_url)
    refused = apply(config)
    assert refused.exit_code == 2, refused.output
    assert "V3__bad.sql:" in refused.output and "next:" in refused.output
    assert (state(any_url), history(any_url)) == (before, recorded)


@pytest.mark.parametrize("replicas", ["::::", "mysql://x:pw@127.0.0.1:1/db,"], ids=["malformed", "unreachable"])
def test_bad_replica_setting_leaves_the_database_as_it_was(any_url: str, tmp_path: Path, replicas: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config = two_changes(tmp_path, any_url)
    ok(apply(config, "--to", "1"))
    before, recorded = state(any_url), history(any_url)
    monkeypatch.setenv("DUALPATH_REPLICA_URLS", replicas)
    refused = apply(config)
    assert refused.exit_code == 2 and "DUALPATH_REPLICA_URLS" in refused.output, refused.output
    assert (state(any_url), history(any_url)) == (before, recorded)


def test_bad_rollback_of_an_earlier_change_leaves_the_database_as_it_was(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, {"items": ITEMS,
                                         "bump": ("UPDATE items SET v = v + 1;\n", BAD_UP["key_not_unique"]),
                                         "more": ("CREATE TABLE more_items (id INT);\n", "DROP TABLE more_items;\n")})
    ok(apply(config))
    before, recorded = state(any_url), history(any_url)
    refused = rollback(config, steps=2)
    assert refused.exit_code == 2 and "U2__bump.sql:1:" in refused.output, refused.output
    assert (state(any_url), history(any_url)) == (before, recorded)


def test_refused_first_run_leaves_no_table_of_dualpath(any_url: str, tmp_path: Path) -> None:
    """Pre-flight runs before dualpath creates its own tables: a refused first run leaves no trace
    (beyond MySQL's run-lock table, which the lock itself needs)."""
    from sqlalchemy import inspect

    from dualpath.engines import open_engine

    execute(any_url, "CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)")
    config = project(tmp_path, any_url, {"more": ("CREATE TABLE more_items (id INT);\n", "DROP TABLE more_items;\n"),
                                         "bad": (BAD_UP["key_not_unique"], "UPDATE items SET v = 0;\n")})
    refused = apply(config)
    assert refused.exit_code == 2 and "V2__bad.sql:1:" in refused.output, refused.output
    with open_engine(any_url).connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert tables - {"dualpath_run_lock"} == {"items"}
