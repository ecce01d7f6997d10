"""PostgreSQL sends a change's BEGIN with its first statement, and its last statement with its history row
and COMMIT (engines/postgres/transaction.py): one round trip for a one-statement change instead of four,
the same all-or-nothing transaction, each statement's error still its own."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.integration.helpers import run_cli, write_config
from tests.integration.test_batches import query

pytestmark = pytest.mark.integration


def project(tmp_path: Path, url: str, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return write_config(tmp_path, url)


def apply(config: Path) -> Any:
    return run_cli("apply", "--config", str(config), "--url", "db")


@contextmanager
def messages() -> Iterator[Counter[str]]:
    """What reaches the server: statements, and the BEGIN/COMMIT psycopg sends of its own (none on a
    connection in autocommit, where they travel inside the statements)."""
    seen: Counter[str] = Counter()

    def own(conn: Any) -> bool:
        return not conn.connection.dbapi_connection.autocommit

    def statement(conn: Any, *args: Any) -> None:
        seen["sent"] += 1

    def begin(conn: Any) -> None:
        seen["sent"] += own(conn)

    def commit(conn: Any) -> None:
        seen["sent"] += own(conn)

    hooks = (("before_cursor_execute", statement), ("begin", begin), ("commit", commit))
    for name, hook in hooks:
        event.listen(Engine, name, hook)
    try:
        yield seen
    finally:
        for name, hook in hooks:
            event.remove(Engine, name, hook)


def add_tables(folder: Path, numbers: range) -> None:
    for i in numbers:
        (folder / f"V{i}__t{i}.sql").write_text(f"CREATE TABLE t{i} (id INT);\n")
        (folder / f"U{i}__t{i}.sql").write_text(f"DROP TABLE t{i};\n")


def test_a_one_statement_change_is_one_message(pg_url: str, tmp_path: Path) -> None:
    """What a run sends once (its reads, the run lock) is the same whether one change or four run."""
    config = project(tmp_path, pg_url, {})
    add_tables(tmp_path / "migrations", range(1, 2))
    assert apply(config).exit_code == 0  # dualpath's tables, and change 1
    add_tables(tmp_path / "migrations", range(2, 3))
    with messages() as one:
        assert apply(config).exit_code == 0
    add_tables(tmp_path / "migrations", range(3, 7))
    with messages() as four:
        assert apply(config).exit_code == 0
    assert four["sent"] - one["sent"] == 1 * 3, (one, four)


def test_the_recorded_duration_counts_the_statement_sent_with_the_record(pg_url: str, tmp_path: Path) -> None:
    """The last statement runs in the record's message: its time on the server is added there, so the
    estimates' actuals stay true (a lower bound that holds on any machine: the statement sleeps 0.3 s)."""
    config = project(tmp_path, pg_url, {"V1__slow.sql": "SELECT pg_sleep(0.3);\n", "U1__slow.sql": "SELECT 1;\n"})
    assert apply(config).exit_code == 0
    ((duration,),) = query(pg_url, "SELECT duration_ms FROM dualpath_history")
    assert duration >= 300


def test_a_last_statement_ending_in_a_comment_is_still_ended(pg_url: str, tmp_path: Path) -> None:
    """The record follows the statement in the same message: a trailing -- comment must not swallow the ';'."""
    config = project(tmp_path, pg_url, {"V1__c.sql": "CREATE TABLE c (id INT) -- made here, no semicolon after\n",
                                        "U1__c.sql": "DROP TABLE c;\n"})
    done = apply(config)
    assert done.exit_code == 0, done.output
    assert query(pg_url, "SELECT direction, success FROM dualpath_history") == [("up", True)]
    assert query(pg_url, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'") == [(1,)]


def test_the_history_row_keeps_every_character_of_what_it_records(pg_url: str, tmp_path: Path) -> None:
    """The record's values travel as literals (psycopg's quoting): quotes, backslashes, percent signs and
    any letter arrive as written, as they did as parameters."""
    name = "V1__o'neil_back\\slash_100%_grüße"
    config = project(tmp_path, pg_url, {f"{name}.sql": "CREATE TABLE t (id INT);\n",
                                        f"U{name[1:]}.sql": "DROP TABLE t;\n"})
    assert apply(config).exit_code == 0
    (description, detail), = query(pg_url, "SELECT description, detail FROM dualpath_history")
    assert description == "o'neil back\\slash 100% grüße"
    (audit,), = query(pg_url, "SELECT detail FROM dualpath_audit WHERE action = 'apply'")
    assert json.loads(audit)["file"] == str(tmp_path / "migrations" / f"{name}.sql") + ":1"
    assert detail is None


@pytest.mark.parametrize("failing", [1, 2], ids=["first_statement", "second_statement"])
def test_a_failing_statement_rolls_back_its_change_and_is_named(pg_url: str, tmp_path: Path, failing: int) -> None:
    statements = ["CREATE TABLE t (id INT)", "INSERT INTO t VALUES (1)"]
    statements[failing - 1] = "INSERT INTO missing VALUES (1)"
    config = project(tmp_path, pg_url, {"V1__t.sql": ";\n".join(statements) + ";\n", "U1__t.sql": "DROP TABLE t;\n"})
    failed = apply(config)
    assert failed.exit_code == 4, failed.output
    assert f"V1__t.sql:{failing}" in failed.output and "nothing of this change stays" in failed.output
    assert query(pg_url, "SELECT count(*) FROM pg_tables WHERE tablename = 't'") == [(0,)]
    assert query(pg_url, "SELECT direction, success FROM dualpath_history") == [("up", False)]
    (tmp_path / "migrations" / "V1__t.sql").write_text("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n")
    again = apply(config)  # the connection came back to its own mode: the next run records as usual
    assert again.exit_code == 0, again.output
    assert query(pg_url, "SELECT id FROM t") == [(1,)]
