"""psql's \\gexec (and \\g) in files psql runs (sqitch on PostgreSQL): read as psql reads them (issue 14).

``SELECT ... \\gexec`` sends the query, then runs each value of its result as a statement. The splitter
marks the statement (Statement.gexec); other layouts, whose tools send the file to the server, refuse it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dualpath.changes import feed_checksum
from dualpath.errors import InputError
from dualpath.sources import read_changes
from dualpath.sql.split import split_statements
from tests.unit.test_sources import write

GEXEC = """\
SELECT format('CREATE TABLE %I (x int)', n) FROM (VALUES ('a'), ('b')) v(n)\\gexec
SELECT 'CREATE DATABASE g OWNER "x";'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'g')
\\gexec
SELECT 1
\\g
SELECT 2;
"""


def test_gexec_ends_a_statement_that_is_marked_and_kept_verbatim() -> None:
    found = split_statements(GEXEC, file="f.sql", dialect="postgresql", psql=True)
    assert [(s.line, s.gexec) for s in found] == [(1, True), (2, True), (5, False), (7, False)]
    assert found[0].text == "SELECT format('CREATE TABLE %I (x int)', n) FROM (VALUES ('a'), ('b')) v(n)"
    assert found[1].text.endswith("datname = 'g')")


def test_a_gexec_query_generating_create_database_runs_outside_a_transaction() -> None:
    """psql runs CREATE DATABASE in autocommit; inside a transaction block PostgreSQL refuses it."""
    first, second, *_ = split_statements(GEXEC, file="f.sql", dialect="postgresql", psql=True)
    assert not first.no_transaction and second.no_transaction


def test_gexec_where_the_file_is_not_run_by_psql_is_refused_with_file_and_line() -> None:
    with pytest.raises(InputError) as caught:
        split_statements("SELECT 1;\nSELECT 'x' \\gexec\n", file="up.sql", dialect="postgresql")
    assert caught.value.where == "up.sql:2" and "not SQL" in caught.value.message
    assert "not through psql" in (caught.value.hint or "")


@pytest.mark.parametrize(("line", "name"), [("\\if :x", "\\if"), ("\\gset", "\\gset"),
                                             ("\\echo hi", "\\echo"), ("SELECT 1 \\gexec x", "\\gexec")])
def test_meta_commands_psql_honours_and_dualpath_cannot_are_refused(line: str, name: str) -> None:
    with pytest.raises(InputError) as caught:
        split_statements(f"SELECT 1;\n{line}\n", file="deploy/a.sql", dialect="postgresql", psql=True)
    assert caught.value.where == "deploy/a.sql:2" and f"'{name}' cannot be honoured" in caught.value.message
    assert caught.value.hint


def test_gexec_after_a_finished_query_is_refused_psql_would_run_it_twice() -> None:
    with pytest.raises(InputError) as caught:
        split_statements("SELECT 'CREATE TABLE t ()';\n\\gexec\n", file="a.sql", dialect="postgresql", psql=True)
    assert caught.value.where == "a.sql:2" and "a second time" in caught.value.message


def test_a_backslash_in_a_string_or_body_is_not_a_meta_command() -> None:
    text = "SELECT E'\\\\gexec' AS a;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
    assert [s.gexec for s in split_statements(text, file="a.sql", dialect="postgresql", psql=True)] == [False] * 2


def test_gexec_changes_the_checksum() -> None:
    def checksum(text: str) -> str:
        digest = hashlib.sha256()
        feed_checksum(digest, split_statements(text, file="a.sql", dialect="postgresql", psql=True))
        return digest.hexdigest()

    assert checksum("SELECT 'SELECT 1'\n\\gexec\n") != checksum("SELECT 'SELECT 1';\n")


def test_sqitch_pg_reads_the_maevsi_shape(tmp_path: Path) -> None:
    """maevsi/sqitch deploy/database_grafana.sql: \\set from a file, then SELECT ... )\\gexec."""
    (tmp_path / "secret").write_text("grafana\n")
    write(tmp_path, {
        "sqitch.conf": "[core]\n\tengine = pg\n",
        "sqitch.plan": "%project=p\n\ndb 2024-01-01T00:00:00Z Me <me@x.org> # db\n",
        "deploy/db.sql": "\\set owner `cat secret`\n\nSELECT 'CREATE DATABASE g OWNER \"' || :'owner' || '\";'\n"
                         "WHERE NOT EXISTS (\n  SELECT FROM pg_database WHERE datname = 'g'\n)\\gexec\n\n"
                         "COMMENT ON DATABASE g IS 'x';\n",
        "revert/db.sql": "DROP DATABASE g;\n"})
    (change,) = read_changes(tmp_path, dialect="postgresql")
    first, second = change.forward
    assert first.gexec and first.no_transaction and first.line == 3
    assert "'grafana'" in first.text and not second.gexec


def test_diesel_files_keep_refusing_gexec(tmp_path: Path) -> None:
    write(tmp_path, {"2024-01-01-000000_a/up.sql": "SELECT 'CREATE TABLE t ()' \\gexec\n",
                     "2024-01-01-000000_a/down.sql": "DROP TABLE t;\n"})
    with pytest.raises(InputError) as caught:
        read_changes(tmp_path, dialect="postgresql")
    assert caught.value.where and caught.value.where.endswith("up.sql:1")
