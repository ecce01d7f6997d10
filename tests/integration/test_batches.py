"""Batched data changes on real servers: keys of every kind, statements of every kind, clear refusals.

The concurrency stories (a writer next to a batch, kill -9, pause/resume/cancel from another
process) are in test_batches_concurrency.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.integration.helpers import dialect_of, run_cli, status_json, write_config

pytestmark = pytest.mark.integration


# -- helpers shared with test_batches_concurrency.py ------------------------------------------


def execute(url: str, *statements: str) -> None:
    from dualpath.urls import parse_url

    engine = create_engine(parse_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        engine.dispose()


def query(url: str, sql: str) -> list[Any]:
    from dualpath.urls import parse_url

    engine = create_engine(parse_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def series(url: str, rows: int) -> str:
    """A SELECT of 1..rows as column ``i`` in the server's dialect."""
    dialect = dialect_of(url)
    if dialect == "postgresql":
        return f"SELECT generate_series(1, {rows}) AS i"
    if dialect == "mysql":
        return f"SELECT seq AS i FROM seq_1_to_{rows}"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) SELECT i FROM s"


def make_items(url: str, rows: int, table: str = "items") -> None:
    """items(id PK, n, w): n is what batches change, w what a concurrent writer changes."""
    execute(url, f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, n INT NOT NULL DEFAULT 0, "
                 "w INT NOT NULL DEFAULT 0)",
            f"INSERT INTO {table} (id) {series(url, rows)}")


def project(tmp_path: Path, url: str, changes: dict[str, tuple[str, str]], **safety: int) -> Path:
    """Flyway files V<n>__<name>.sql / U<n>__<name>.sql and a dualpath.toml; returns the config path."""
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for i, (name, (up, down)) in enumerate(changes.items(), start=1):
        (folder / f"V{i}__{name}.sql").write_text(up)
        (folder / f"U{i}__{name}.sql").write_text(down)
    return write_config(tmp_path, url, **safety)


def checkpoints(url: str) -> list[dict[str, Any]]:
    result = run_cli("batches", "status", "--url", url, "--format", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def apply(config: Path, *extra: str) -> Any:
    return run_cli("apply", "--config", str(config), "--url", "db", *extra)


BUMP = ("-- dualpath:batch table=items key=id size=50\nUPDATE items SET n = n + 1;\n",
        "-- dualpath:batch table=items key=id size=70\nUPDATE items SET n = n - 1;\n")


# -- tests ---------------------------------------------------------------------------------------


def test_batch_runs_once_per_row_and_rolls_back_through_batches(any_url: str, tmp_path: Path) -> None:
    make_items(any_url, 1000)
    config = project(tmp_path, any_url, {"bump": BUMP})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(any_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, 1000)]
    [row] = checkpoints(any_url)
    assert (row["state"], row["rows_done"], row["keys_done"], row["last_key"]) == ("done", 1000, 1000, [1000])
    assert [s["state"] for s in status_json(config)] == ["applied"]

    back = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "1")
    assert back.exit_code == 0, back.output
    assert query(any_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(0, 1000)]
    assert [(r["direction"], r["state"]) for r in checkpoints(any_url)] == [("down", "done")]

    again = apply(config)  # a second round trip starts afresh, not from the first one's checkpoint
    assert again.exit_code == 0, again.output
    assert query(any_url, "SELECT n, COUNT(*) FROM items GROUP BY n") == [(1, 1000)]


def test_composite_key_pages_across_groups(any_url: str, tmp_path: Path) -> None:
    execute(any_url, "CREATE TABLE order_lines (tenant INT NOT NULL, seq INT NOT NULL, n INT NOT NULL DEFAULT 0, "
                     "PRIMARY KEY (tenant, seq))",
            f"INSERT INTO order_lines (tenant, seq) SELECT a.i, b.i FROM ({series(any_url, 17)}) a "
            f"CROSS JOIN ({series(any_url, 13)}) b")
    up = ("-- dualpath:batch table=order_lines key=tenant,seq size=5 target_ms=100000\n"
          "UPDATE order_lines SET n = n + 1;\n")
    config = project(tmp_path, any_url, {"bump": (up, "UPDATE order_lines SET n = 0;\n")})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(any_url, "SELECT n, COUNT(*) FROM order_lines GROUP BY n") == [(1, 17 * 13)]
    [row] = checkpoints(any_url)
    assert row["last_key"] == [17, 13] and row["keys_done"] == 17 * 13


def test_uuid_and_text_keys(any_url: str, tmp_path: Path) -> None:
    uuid_type = {"postgresql": "UUID", "mysql": "CHAR(36)", "sqlite": "TEXT"}[dialect_of(any_url)]
    new_uuid = {"postgresql": "gen_random_uuid()", "mysql": "UUID()",
                "sqlite": "lower(hex(randomblob(16)))"}[dialect_of(any_url)]
    execute(any_url, f"CREATE TABLE tokens (id {uuid_type} NOT NULL PRIMARY KEY, n INT NOT NULL DEFAULT 0)",
            f"INSERT INTO tokens (id) SELECT {new_uuid} FROM ({series(any_url, 500)}) s",
            "CREATE TABLE words (word VARCHAR(40) NOT NULL, n INT NOT NULL DEFAULT 0)",
            "CREATE UNIQUE INDEX words_word ON words (word)",
            f"INSERT INTO words (word) SELECT {_concat(any_url)} FROM ({series(any_url, 300)}) s")
    ups = ("-- dualpath:batch table=tokens key=id size=7 target_ms=100000\nUPDATE tokens SET n = n + 1;\n\n"
           "-- dualpath:batch table=words key=word size=9 target_ms=100000\n"
           "UPDATE words SET n = n + 1 WHERE word <> 'w:none';\n")
    config = project(tmp_path, any_url, {"bump": (ups, "UPDATE tokens SET n = 0;\nUPDATE words SET n = 0;\n")})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(any_url, "SELECT n, COUNT(*) FROM tokens GROUP BY n") == [(1, 500)]
    assert query(any_url, "SELECT n, COUNT(*) FROM words GROUP BY n") == [(1, 300)]
    rows = {r["table"]: r for r in checkpoints(any_url)}
    assert rows["tokens"]["keys_done"] == 500 and isinstance(rows["tokens"]["last_key"][0], dict | str)
    assert rows["words"]["rows_done"] == 300


def _concat(url: str) -> str:
    return "CONCAT('w:', i)" if dialect_of(url) == "mysql" else "'w:' || i"


def test_insert_select_and_delete_in_batches(any_url: str, tmp_path: Path) -> None:
    make_items(any_url, 600)
    execute(any_url, "CREATE TABLE archive (id BIGINT NOT NULL PRIMARY KEY, n INT NOT NULL)")
    up = ("-- dualpath:batch table=items key=id size=40 target_ms=100000\n"
          "INSERT INTO archive (id, n) SELECT i.id, i.n FROM items i WHERE i.id % 3 = 0;\n\n"
          "-- dualpath:batch table=items key=id size=40 target_ms=100000\n"
          "DELETE FROM items WHERE id % 3 = 0;\n")
    down = ("-- dualpath:batch table=archive key=id size=40\n"
            "INSERT INTO items (id, n) SELECT id, n FROM archive;\n\nDELETE FROM archive;\n")
    config = project(tmp_path, any_url, {"archive": (up, down)})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(any_url, "SELECT COUNT(*) FROM archive") == [(200,)]
    assert query(any_url, "SELECT COUNT(*) FROM items") == [(400,)]
    assert [r["rows_done"] for r in checkpoints(any_url)] == [200, 200]
    back = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "1")
    assert back.exit_code == 0, back.output
    assert query(any_url, "SELECT COUNT(*) FROM items") == [(600,)]


def test_table_without_unique_key_is_refused_with_the_fix(any_url: str, tmp_path: Path) -> None:
    execute(any_url, "CREATE TABLE events (id INT, n INT NOT NULL DEFAULT 0)", "INSERT INTO events (id) VALUES (1)")
    up = "-- dualpath:batch table=events key=id\nUPDATE events SET n = n + 1;\n"
    config = project(tmp_path, any_url, {"bump": (up, "UPDATE events SET n = 0;\n")})
    refused = apply(config)
    assert refused.exit_code == 2, refused.output
    assert "V1__bump.sql:1:" in refused.output and "no usable unique key" in refused.output  # the directive
    assert "ADD PRIMARY KEY (id)" in refused.output
    assert query(any_url, "SELECT n FROM events") == [(0,)]


def test_sqlite_integer_primary_key_pages_as_a_key(sqlite_url: str, tmp_path: Path) -> None:
    """The rowid alias is never NULL though SQLite reflects it nullable; other nullable keys stay refused."""
    execute(sqlite_url, "CREATE TABLE people (id INTEGER PRIMARY KEY, n INT NOT NULL DEFAULT 0)",
            f"INSERT INTO people (id) {series(sqlite_url, 120)}",
            "CREATE TABLE codes (code TEXT PRIMARY KEY, n INT NOT NULL DEFAULT 0)",
            "INSERT INTO codes (code) VALUES ('a')")
    people = ("-- dualpath:batch table=people key=id size=50\nUPDATE people SET n = n + 1;\n",
              "UPDATE people SET n = 0;\n")
    config = project(tmp_path, sqlite_url, {"bump": people})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(sqlite_url, "SELECT n, COUNT(*) FROM people GROUP BY n") == [(1, 120)]

    codes = "-- dualpath:batch table=codes key=code\nUPDATE codes SET n = n + 1;\n"
    config = project(tmp_path, sqlite_url, {"bump": people, "codes": (codes, "UPDATE codes SET n = 0;\n")})
    refused = apply(config)  # a TEXT primary key of a rowid table may hold NULL in SQLite
    assert refused.exit_code == 2, refused.output
    assert "no usable unique key" in refused.output


def test_key_that_is_not_unique_names_the_usable_one(any_url: str, tmp_path: Path) -> None:
    make_items(any_url, 10)
    up = "-- dualpath:batch table=items key=n\nUPDATE items SET w = 1;\n"
    config = project(tmp_path, any_url, {"bump": (up, "UPDATE items SET w = 0;\n")})
    refused = apply(config)
    assert refused.exit_code == 2, refused.output
    assert "key=n is not a primary key" in refused.output and "key=id" in refused.output


def test_failed_batch_resumes_without_redoing_anything(any_url: str, tmp_path: Path) -> None:
    """A mixed change (DDL, batch, DDL) fails mid-batch; after the data is fixed, apply resumes it."""
    make_items(any_url, 400)
    execute(any_url, "CREATE TABLE flags (bad INT NOT NULL)", "INSERT INTO flags VALUES (1)")
    up = ("ALTER TABLE items ADD COLUMN note VARCHAR(20);\n\n"
          "-- dualpath:batch table=items key=id size=10 target_ms=100000\n"
          "UPDATE items SET n = CASE WHEN id = 150 AND (SELECT bad FROM flags) = 1 THEN NULL ELSE n + 1 END, "
          "note = 'x:1';\n\n"
          "CREATE INDEX items_note ON items (note);\n")
    config = project(tmp_path, any_url, {"backfill": (up, "DROP INDEX items_note ON items;\n"
                                                          if dialect_of(any_url) == "mysql"
                                                          else "DROP INDEX items_note;\n")})
    failed = apply(config)
    assert failed.exit_code == 4, failed.output
    assert "resume" in failed.output
    assert [s["state"] for s in status_json(config)] == ["failed"]
    done_before = query(any_url, "SELECT COUNT(*) FROM items WHERE n = 1")[0][0]
    assert 0 < done_before < 150

    execute(any_url, "UPDATE flags SET bad = 0")
    resumed = apply(config)
    assert resumed.exit_code == 0, resumed.output
    assert query(any_url, "SELECT n, note, COUNT(*) FROM items GROUP BY n, note") == [(1, "x:1", 400)]
    assert [s["state"] for s in status_json(config)] == ["applied"]


def test_dry_run_shows_the_chunk_statements(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, {"bump": BUMP})
    shown = apply(config, "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert "batched over items by (id)" in shown.output
    assert "dp_lo_0" in shown.output and "dp_hi_0" in shown.output


def test_edited_file_does_not_resume_old_progress(any_url: str, tmp_path: Path) -> None:
    make_items(any_url, 100)
    config = project(tmp_path, any_url, {"bump": BUMP})
    run_cli("batches", "status", "--url", any_url)  # no table yet: still fine
    execute(any_url, "CREATE TABLE stop_here (id INT)")  # the apply below fails after the batch
    up = BUMP[0] + "\nCREATE TABLE stop_here (id INT);\n"
    (tmp_path / "migrations" / "V1__bump.sql").write_text(up)
    assert apply(config).exit_code == 4
    (tmp_path / "migrations" / "V1__bump.sql").write_text(up.replace("n + 1", "n + 2"))
    refused = apply(config)
    assert refused.exit_code == 3 and "edited after its batch started" in refused.output
    assert run_cli("batches", "reset", "--url", any_url, "--version", "1").exit_code == 0


def test_a_timed_progress_keeps_each_batch_for_the_timeline(any_url: str, tmp_path: Path) -> None:
    """What tasks/tenant.py hands the runner: every batched statement's stretch, its rows and how it ended,
    while the lines still reach the inner progress."""
    from dualpath.batching.progress import EchoProgress, TimedProgress
    from dualpath.session import open_session

    make_items(any_url, 230)
    plain = ("UPDATE items SET w = 1;\n", "UPDATE items SET w = 0;\n")
    config = project(tmp_path, any_url, {"bump": BUMP, "plain": plain})
    session = open_session("db", None, config)
    runner = session.runner()
    lines: list[str] = []
    timed = TimedProgress(EchoProgress(lines.append))
    runner.progress = timed
    done = runner.apply().done
    assert [version for version, _, _ in done] == ["1", "2"]
    assert len(timed.spans) == 1, timed.spans  # the plain change has no batch
    label, start, end, rows, complete = timed.spans[0]
    assert label.startswith("1 ") and rows == 230 and complete and start <= end
    assert any("done, 230 row(s) changed" in line for line in lines)
