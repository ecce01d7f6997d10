"""psql variables in sqitch pg scripts (issue 14, F9): read as psql reads them; other meta-commands refused."""
# ruff: noqa: E501  (PSQL_SENDS is a psql transcript, line for line)

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.errors import InputError
from dualpath.sources import read_changes
from dualpath.sources.psql import expand
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
    ("\\set t `cat template.html`", "backtick"),
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
