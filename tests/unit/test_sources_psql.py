"""psql variables in sqitch pg scripts (issue 14, F9): read as psql reads them; other meta-commands refused."""
# ruff: noqa: E501  (PSQL_SENDS is a psql transcript, line for line)

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.errors import InputError
from dualpath.sources import read_changes
from dualpath.sources.psql import Shell, expand
from tests.unit.test_sources import texts, write

SCRIPT = """\
\\set v 'x''y'
\\set id my"t"ab
\\set n 42
\\set b 'a\\\\b'
\\set cat 'ab' 'cd' :n
SELECT :'v' AS a, :n AS b, ':n' AS c, 1::int AS d, $$:n$$ AS e, :'b' AS f, :'cat' AS g, :'undefined' AS h -- :n
;
SELECT :"id" FROM x /* :n */, E'it\\':n' AS i;
"""
# what psql 15 sends for SCRIPT (psql --echo-queries -f), line for line
PSQL_SENDS = """\





SELECT 'x''y' AS a, 42 AS b, ':n' AS c, 1::int AS d, $$:n$$ AS e,  E'a\\\\b' AS f, 'abcd42' AS g, :'undefined' AS h -- :n
;
SELECT "my""t""ab" FROM x /* :n */, E'it\\':n' AS i;
"""


def test_set_and_variables_are_expanded_as_psql_does() -> None:
    assert expand(SCRIPT, "t.sql") == PSQL_SENDS


@pytest.mark.parametrize(("line", "what"), [
    ("\\i other.sql", "'\\i'"),
    ("\\echo hello", "'\\echo'"),
    ("\\set t `date +%s`", "backtick"),
    ("\\set t `cat a.html b.html`", "backtick"),
    ("\\set t 'open", "unterminated"),
])
def test_other_meta_commands_are_refused_with_file_and_line(line: str, what: str) -> None:
    with pytest.raises(InputError) as caught:
        expand(f"SELECT 1;\n{line}\nSELECT 2;\n", "deploy/t.sql")
    assert what in caught.value.message and caught.value.where == "deploy/t.sql:2" and caught.value.hint


def test_a_backslash_inside_a_body_is_no_meta_command() -> None:
    text = "CREATE FUNCTION f() RETURNS text AS $$\n\\set x 1\n$$ LANGUAGE sql;\n"
    assert expand(text, "t.sql") == text


def test_sqitch_pg_script_with_set_reads_like_psql(tmp_path: Path) -> None:
    """The Registry shape: \\set then DEFAULT :'v' in a sqitch deploy script (sqitch runs it with psql)."""
    write(tmp_path, {"sqitch.plan": "%project=p\n\nt 2024-01-01T00:00:00Z Me <me@x.org> # t\n",
                     "deploy/t.sql": "BEGIN;\n\\set v 'x'\nCREATE TABLE t (v text DEFAULT :'v');\nCOMMIT;\n",
                     "revert/t.sql": "DROP TABLE t;\n"})
    (change,) = read_changes(tmp_path, dialect="postgresql")
    assert texts(change.forward) == ["CREATE TABLE t (v text DEFAULT 'x')"]
    assert change.forward[0].line == 3


# psql 15 (psql -X --echo-queries -f sql/deploy/a.sql, run in the project directory) sends, for a
# template holding a quote, a backslash and two trailing newlines:
TEMPLATE = "<p class=\"x\">it's a \\ back</p>\n\n"
CAT_SENDS = "SELECT  E'<p class=\"x\">it''s a \\\\ back</p>\n' AS v;"


def test_cat_file_is_read_relative_to_psqls_working_directory(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.html").write_text(TEMPLATE)
    script = "\\set tpl `cat templates/t.html`\nSELECT :'tpl' AS v;\n"
    assert expand(script, "a.sql", Shell(tmp_path)).strip() == CAT_SENDS


def test_a_file_cat_cannot_read_leaves_the_variable_unset_with_a_note(tmp_path: Path) -> None:
    """maevsi/sqitch reads deployment secrets: `cat /run/secrets/...`. Reading the folder must still work."""
    notes: list[str] = []
    script = "\\set user `cat secrets/user`\nDROP ROLE IF EXISTS :user;\n"
    assert expand(script, "d.sql", Shell(tmp_path, notes=notes)).strip() == "DROP ROLE IF EXISTS :user;"
    assert len(notes) == 1 and notes[0].startswith("d.sql:1: `cat secrets/user` could not read")


def test_the_checksum_text_keeps_the_command_not_its_output(tmp_path: Path) -> None:
    script = "\\set tpl `cat t.html`\nSELECT :'tpl';\n"
    assert expand(script, "a.sql", Shell(run=False)).strip() == "SELECT '`cat t.html`';"


SQITCH_PROJECT = {
    "sqitch.conf": "[core]\n\tengine = pg\n\ttop_dir = ./sql\n",
    "sql/sqitch.plan": "%project=p\n\npage 2024-01-01T00:00:00Z Me <me@x.org> # a page\n",
    "sql/deploy/page.sql": "BEGIN;\n\\set body `cat templates/page.html`\n"
                           "INSERT INTO pages (body) VALUES (:'body');\nCOMMIT;\n",
    "sql/revert/page.sql": "DELETE FROM pages;\n",
    "templates/page.html": "<h1>v1</h1>\n",
}


def test_sqitch_cat_reads_from_the_project_directory_and_an_edited_file_is_no_drift(tmp_path: Path) -> None:
    """Tamarou/Registry: sqitch.conf (top_dir = ./sql) in the repository root, where sqitch runs psql,
    and a deploy script that loads templates/... into a table."""
    write(tmp_path, SQITCH_PROJECT)
    (change,) = read_changes(tmp_path / "sql", dialect="postgresql")
    assert texts(change.forward) == ["INSERT INTO pages (body) VALUES ('<h1>v1</h1>')"]
    (tmp_path / "templates" / "page.html").write_text("<h1>v2</h1>\n")
    (again,) = read_changes(tmp_path / "sql", dialect="postgresql")
    assert texts(again.forward) == ["INSERT INTO pages (body) VALUES ('<h1>v2</h1>')"]
    assert again.checksum == change.checksum  # sqitch hashes the script, not what it cats


def test_sqitch_folder_reads_when_a_catted_file_is_missing_and_detect_says_so(tmp_path: Path) -> None:
    write(tmp_path, {**SQITCH_PROJECT, "templates/page.html": b""})
    (tmp_path / "templates" / "page.html").unlink()
    notes: list[str] = []
    (change,) = read_changes(tmp_path / "sql", dialect="postgresql", notes=notes)
    assert texts(change.forward) == ["INSERT INTO pages (body) VALUES (:'body')"]  # fails there when run
    assert any("page.sql:2: `cat templates/page.html` could not read" in n for n in notes)
