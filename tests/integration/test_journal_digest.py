"""The MariaDB statement journal at the price of a few round trips (issue 14 item 12), its guarantee kept.

Before a statement that commits alone, the journal records a digest of what it names (one query,
engines/mysql/digest.py) instead of the whole schema's fingerprint (a dozen catalog reads); a row an
earlier dualpath wrote keeps being compared the old way; and a statement that ran but could not be
recorded stays "started", so the next run settles it instead of running it twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from dualpath import history
from dualpath.engines import open_engine
from dualpath.sources import read_changes
from tests.integration.helpers import run_cli
from tests.integration.test_batches import apply, project, query
from tests.reliability.kill_support import books, execute

pytestmark = pytest.mark.integration

ADD_C = ("ALTER TABLE t ADD COLUMN c INT;\n", "ALTER TABLE t DROP COLUMN c;\n")


def digest_of(url: str, sql: str, whole: bool = False) -> str:
    engine = open_engine(url)
    with engine.connect() as conn:
        found = engine.fingerprint(conn).digest if whole else engine.statement_digest(conn, sql)
        conn.rollback()
    return found


# -- what the digest sees ------------------------------------------------------------------------

SETUP = ("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20))",
         "CREATE TABLE child (id INT PRIMARY KEY, t_id INT)")
EFFECTS = [
    "CREATE TABLE fresh (id INT PRIMARY KEY)",
    "ALTER TABLE t ADD COLUMN b INT",
    "ALTER TABLE t MODIFY a VARCHAR(40)",
    "ALTER TABLE t MODIFY a VARCHAR(20) FIRST",
    "CREATE INDEX t_a ON t (a)",
    "ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a <> 'x')",
    "ALTER TABLE child ADD CONSTRAINT child_t FOREIGN KEY (t_id) REFERENCES t (id)",
    "CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 'y'",
    "CREATE PROCEDURE p(IN x INT) BEGIN SELECT x; END",
    "CREATE VIEW v AS SELECT id FROM t",
    "ALTER TABLE t COMMENT 'why'",
    "ALTER TABLE t ENGINE = Aria",
    "RENAME TABLE child TO kid",
    "DROP TABLE t",
]


@pytest.mark.parametrize("sql", EFFECTS, ids=lambda sql: " ".join(sql.split()[:4]))
def test_each_kind_of_ddl_changes_the_digest_of_its_own_statement(mysql_url: str, sql: str) -> None:
    execute(mysql_url, *SETUP)
    before = digest_of(mysql_url, sql)
    assert before.startswith("s1:")
    execute(mysql_url, sql)
    assert digest_of(mysql_url, sql) != before


def test_rows_written_meanwhile_leave_the_digest_alone(mysql_url: str) -> None:
    """The next AUTO_INCREMENT value is part of SHOW CREATE TABLE: other sessions' inserts must not pass for
    the statement's effect."""
    execute(mysql_url, "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a INT)", "INSERT INTO t (a) VALUES (1)")
    sql = "ALTER TABLE t ADD COLUMN b INT"
    before = digest_of(mysql_url, sql)
    execute(mysql_url, "INSERT INTO t (a) VALUES (2), (3)")
    assert digest_of(mysql_url, sql) == before


def test_ddl_on_other_objects_leaves_the_digest_alone(mysql_url: str) -> None:
    """The whole-schema digest changed with any other session's DDL, which then passed for the journaled
    statement's own effect; this one only sees what the statement names."""
    execute(mysql_url, *SETUP)
    sql = "ALTER TABLE t ADD COLUMN b INT"
    before, whole = digest_of(mysql_url, sql), digest_of(mysql_url, sql, whole=True)
    execute(mysql_url, "CREATE TABLE elsewhere (id INT PRIMARY KEY)", "ALTER TABLE child ADD COLUMN z INT")
    assert digest_of(mysql_url, sql) == before
    assert digest_of(mysql_url, sql, whole=True) != whole


# -- journal rows of an earlier dualpath -----------------------------------------------------------


def leave_started_row(url: str, folder: Path, schema_before: str, version: str = "1") -> None:
    """The "started" row a killed run left for the first statement of ``version``."""
    change = next(c for c in read_changes(folder / "migrations", dialect="mysql") if c.version == version)
    engine = open_engine(url)
    with engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        history.journal_mark(conn, history.Actor("old-run", "tester", "host", None), version=version,
                             direction="up", index=0, location=change.forward[0].where, checksum=change.checksum,
                             state=history.STARTED, attempt=history.NO_ATTEMPT, schema_before=schema_before)


@pytest.mark.parametrize("took_effect", [False, True], ids=["did_not_run", "took_effect"])
def test_a_whole_schema_digest_from_an_earlier_dualpath_is_compared_the_old_way(
        mysql_url: str, tmp_path: Path, took_effect: bool) -> None:
    config = project(tmp_path, mysql_url, {"add_c": ADD_C})
    execute(mysql_url, "CREATE TABLE t (id INT PRIMARY KEY)")
    leave_started_row(mysql_url, tmp_path, digest_of(mysql_url, "", whole=True))
    if took_effect:
        execute(mysql_url, ADD_C[0].rstrip(";\n"))
    done = apply(config)
    assert done.exit_code == 0, done.output
    said = "after it took effect (the schema changed)" if took_effect else "before it took effect; running it again"
    assert f"interrupted earlier {said}" in done.output
    assert query(mysql_url, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                            "AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'") == [(1,)]
    seen = books(mysql_url)
    assert seen.applied == ("1",) and seen.ups["1"] == 1 and not any(seen.journal.values())


def test_a_batched_change_runs_again_a_statement_started_that_did_not_take_effect(
        mysql_url: str, tmp_path: Path) -> None:
    """The journal row of a batched change's plain statement is replaced when it runs again, not added
    to (a second row of the same statement would break the journal's unique key)."""
    add_w = "ALTER TABLE items ADD COLUMN w INT NOT NULL DEFAULT 0"
    config = project(tmp_path, mysql_url, {
        "items": ("CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL);\n"
                  "INSERT INTO items VALUES (1, 0), (2, 0), (3, 0);\n", "DROP TABLE items;\n"),
        "bump": (f"{add_w};\n\n-- dualpath:batch table=items key=id size=2\nUPDATE items SET v = v + 1;\n",
                 "ALTER TABLE items DROP COLUMN w;\n\nUPDATE items SET v = v - 1;\n")})
    assert apply(config, "--to", "1").exit_code == 0
    leave_started_row(mysql_url, tmp_path, digest_of(mysql_url, add_w), version="2")
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert "interrupted earlier before it took effect; running it again" in done.output
    assert query(mysql_url, "SELECT v, w FROM items ORDER BY id") == [(1, 0)] * 3
    seen = books(mysql_url)
    assert seen.applied == ("1", "2") and seen.ups["2"] == 1 and not any(seen.journal.values())


# -- a statement that ran but could not be recorded --------------------------------------------------


def test_ddl_that_ran_but_could_not_be_recorded_stays_started_and_the_rerun_settles_it(
        mysql_url: str, tmp_path: Path) -> None:
    """The change's history row is written right after its last statement; here the server refuses it
    (a trigger stands for a revoked privilege or a full disk). The ALTER stays: the journal must keep
    saying so, or the next run would run it again ("Duplicate column name")."""
    config = project(tmp_path, mysql_url, {"make_t": ("CREATE TABLE t (id INT PRIMARY KEY);\n", "DROP TABLE t;\n"),
                                          "add_c": ADD_C})
    first = apply(config, "--to", "1")
    assert first.exit_code == 0, first.output
    execute(mysql_url, "CREATE TRIGGER refuse_2 BEFORE INSERT ON dualpath_history FOR EACH ROW "
                       "IF NEW.version = '2' AND NEW.success THEN "
                       "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'history refused'; END IF")
    failed = apply(config)
    assert failed.exit_code == 4, failed.output
    assert "V2__add_c.sql:1: version 2: the statement ran, and recording it failed" in failed.output
    assert "history refused" in failed.output
    assert books(mysql_url).journal == {("2", "up"): [(0, "started")]}

    execute(mysql_url, "DROP TRIGGER refuse_2")
    again = apply(config)
    assert again.exit_code == 0, again.output
    assert "interrupted earlier after it took effect (the schema changed)" in again.output
    seen = books(mysql_url)
    assert seen.applied == ("1", "2") and seen.ups["2"] == 1 and not any(seen.journal.values())


# -- what a change costs ----------------------------------------------------------------------------


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Statements sent to the server by any engine, by what they read or write."""
    seen: Counter[str] = Counter()

    def note(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen["catalog" if "information_schema" in sql.lower() else
             "journal" if "dualpath_statement_journal" in sql else "other"] += 1
        seen["all"] += 1

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def test_a_ddl_change_reads_the_catalog_once_and_writes_its_journal_twice(mysql_url: str, tmp_path: Path) -> None:
    """One digest query, the "started" row, the statement, the history and audit rows, the journal's end:
    the whole-schema fingerprint read a dozen catalog tables per statement, and every journal mark
    was a delete and an insert."""
    tables = {f"t{i}": (f"CREATE TABLE t{i} (id INT PRIMARY KEY);\n", f"DROP TABLE t{i};\n") for i in range(1, 6)}
    config = project(tmp_path, mysql_url, tables)
    assert apply(config, "--to", "1").exit_code == 0
    with counting() as run:
        assert apply(config).exit_code == 0
    with counting() as idle:
        assert apply(config).exit_code == 0
    changes = 4
    extra = {kind: run[kind] - idle[kind] for kind in ("catalog", "journal", "all")}
    assert extra["catalog"] <= changes, extra
    assert extra["journal"] <= 2 * changes + 1, extra  # + one read of every change's journal for the run
    assert extra["all"] <= 7 * changes, extra
    assert run_cli("rollback", "--config", str(config), "--url", "db", "--all").exit_code == 0


def test_a_resumed_change_sets_the_session_up_again_before_it_goes_on(mysql_url: str, tmp_path: Path) -> None:
    """Mattermost's pattern (SET @v, PREPARE, EXECUTE, DEALLOCATE), interrupted after the PREPARE: the new
    session has no @name, no @ddl and no prepared statement, so EXECUTE failed ("Unknown prepared statement
    handler"). The done SETs and PREPARE run again first; the done CREATE TABLE does not."""
    up = ("SET @name = 'resumed_t';\nCREATE TABLE first_t (id INT PRIMARY KEY);\n"
          "SET @ddl = CONCAT('CREATE TABLE ', @name, ' (id INT PRIMARY KEY)');\nPREPARE st FROM @ddl;\n"
          "EXECUTE st;\nDEALLOCATE PREPARE st;\n")
    config = project(tmp_path, mysql_url, {"prepared": (up, "DROP TABLE resumed_t;\nDROP TABLE first_t;\n")})
    change = next(c for c in read_changes(tmp_path / "migrations", dialect="mysql") if c.version == "1")
    engine = open_engine(mysql_url)
    execute(mysql_url, "CREATE TABLE first_t (id INT PRIMARY KEY)")  # what the killed run did
    with engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        for index in range(4):  # SET, CREATE, SET, PREPARE: done, then the kill
            history.journal_mark(conn, history.Actor("old-run", "tester", "host", None), version="1",
                                 direction="up", index=index, location=change.forward[index].where,
                                 checksum=change.checksum, state=history.DONE, attempt=history.NO_ATTEMPT)
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert done.output.count("sets this session's state, which a new session has lost") == 3  # 2 SETs, PREPARE
    assert query(mysql_url, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                            "AND TABLE_NAME IN ('first_t', 'resumed_t')") == [(2,)]
    seen = books(mysql_url)
    assert seen.applied == ("1",) and seen.ups["1"] == 1 and not any(seen.journal.values())
