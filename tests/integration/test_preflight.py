"""Refused input never touches the database: every check a run can make before its first statement,
it makes before it, for every change of the run (issue 13 item 3).

Each test has a first change that is fine and a later one that is not: the run exits 2 naming the
directive's file:line (or the setting) with a `next:` line, and the database is as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import fingerprint, run_cli, status_json
from tests.integration.test_batches import apply, execute, project, query

pytestmark = pytest.mark.integration

FINE = ("CREATE TABLE other (id INT NOT NULL PRIMARY KEY);\n", "DROP TABLE other;\n")


def make_items(url: str) -> None:
    execute(url, "CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)",
            "INSERT INTO items (id, v) VALUES (1, 0), (2, 0), (3, 0)")


def history(url: str) -> list[Any]:
    try:
        return query(url, "SELECT version, direction, success FROM dualpath_history ORDER BY id")
    except Exception:  # noqa: BLE001 - no history table at all: nothing was recorded
        return []


def assert_refused_untouched(url: str, result: Any, where: str, said: str,
                             before: tuple[Any, ...]) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert where in result.output, result.output
    assert said in result.output, result.output
    assert "next:" in result.output, result.output
    assert snapshot(url) == before  # schema, history, data


def snapshot(url: str) -> tuple[Any, ...]:
    return fingerprint(url).digest, history(url), query(url, "SELECT id, v FROM items ORDER BY id")


def test_key_that_is_not_unique_in_a_later_change_is_refused_before_the_first(any_url: str, tmp_path: Path) -> None:
    make_items(any_url)
    bad = "-- dualpath:batch table=items key=v size=10\nUPDATE items SET v = v + 1;\n"
    config = project(tmp_path, any_url, {"other": FINE, "bump": (bad, "UPDATE items SET v = v - 1;\n")})
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "V2__bump.sql:1:", "key=v is not a primary key", before)
    assert [s["state"] for s in status_json(config)] == ["pending", "pending"]


def test_missing_batch_table_no_earlier_change_creates_is_refused_first(any_url: str, tmp_path: Path) -> None:
    make_items(any_url)
    bad = "-- dualpath:batch table=nothere key=id\nUPDATE nothere SET v = 1;\n"
    config = project(tmp_path, any_url, {"other": FINE, "bump": (bad, "UPDATE nothere SET v = 0;\n")})
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "V2__bump.sql:1:", "batch table nothere does not exist",
                             before)


def test_statement_that_cannot_be_batched_in_a_later_change_is_refused_first(any_url: str, tmp_path: Path) -> None:
    make_items(any_url)
    bad = "-- dualpath:batch table=items key=id\nINSERT INTO items (id, v) VALUES (9, 9);\n"
    config = project(tmp_path, any_url, {"other": FINE, "bump": (bad, "DELETE FROM items WHERE id = 9;\n")})
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "V2__bump.sql:2:", "cannot run this statement in batches",
                             before)


def test_batch_size_out_of_range_is_an_input_error_at_the_directive(any_url: str, tmp_path: Path) -> None:
    """It failed at run time (exit 4) after the changes before it had run."""
    make_items(any_url)
    bad = "-- dualpath:batch table=items key=id size=99999999999999999999\nUPDATE items SET v = v + 1;\n"
    config = project(tmp_path, any_url, {"other": FINE, "bump": (bad, "UPDATE items SET v = v - 1;\n")})
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "V2__bump.sql:1:", "size=99999999999999999999 is out of range",
                             before)


@pytest.mark.parametrize("replicas, said", [
    ("not a url at all", "DUALPATH_REPLICA_URLS: replica 1: 'not a url at all' is not a database URL"),
    ("mysql://monitor:s3cret@127.0.0.1:1/shop", "DUALPATH_REPLICA_URLS: replica 1: cannot connect"),
], ids=["malformed", "unreachable"])
def test_bad_replica_urls_are_refused_before_the_first_change(any_url: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              replicas: str, said: str) -> None:
    make_items(any_url)
    good = "-- dualpath:batch table=items key=id size=10\nUPDATE items SET v = v + 1;\n"
    config = project(tmp_path, any_url, {"other": FINE, "bump": (good, "UPDATE items SET v = v - 1;\n")})
    monkeypatch.setenv("DUALPATH_REPLICA_URLS", replicas)
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "DUALPATH_REPLICA_URLS", said, before)
    assert "s3cret" not in refused.output


def test_rollback_checks_every_change_it_will_roll_back_first(any_url: str, tmp_path: Path) -> None:
    make_items(any_url)
    bad_down = "-- dualpath:batch table=items key=v\nUPDATE items SET v = v - 1;\n"
    config = project(tmp_path, any_url, {"bump": ("UPDATE items SET v = v + 1;\n", bad_down), "other": FINE})
    assert apply(config).exit_code == 0
    before = snapshot(any_url)
    refused = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "2")
    assert_refused_untouched(any_url, refused, "U1__bump.sql:1:", "key=v is not a primary key", before)
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    assert query(any_url, "SELECT COUNT(*) FROM other") == [(0,)]


def test_batch_on_a_table_an_earlier_change_creates_is_checked_when_reached(any_url: str, tmp_path: Path) -> None:
    """Pre-flight cannot see a table the run has yet to create: that batch is not refused up front."""
    create = ("CREATE TABLE fresh (id INT NOT NULL PRIMARY KEY, v INT NOT NULL);\n"
              "INSERT INTO fresh (id, v) VALUES (1, 0), (2, 0);\n", "DROP TABLE fresh;\n")
    bump = ("-- dualpath:batch table=fresh key=id size=1\nUPDATE fresh SET v = v + 1;\n",
            "UPDATE fresh SET v = v - 1;\n")
    config = project(tmp_path, any_url, {"fresh": create, "bump": bump})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(any_url, "SELECT v FROM fresh ORDER BY id") == [(1,), (1,)]


def test_ticket_pattern_that_is_not_a_regex_is_refused_before_anything_runs(any_url: str, tmp_path: Path) -> None:
    """It raised mid-run, when the first change's history row was written (after its statements on MySQL)."""
    make_items(any_url)
    config = project(tmp_path, any_url, {"other": FINE})
    config.write_text('ticket_pattern = "[A-Z+-("\n' + config.read_text())
    before = snapshot(any_url)
    refused = apply(config)
    assert_refused_untouched(any_url, refused, "dualpath.toml", "ticket_pattern", before)
