"""What the mysql/mariadb client sends for a statement (dualpath/sql/mysql_client.py): its comments left out,
as mariadb 10.11 stores a routine body sent through it (checked with ROUTINE_DEFINITION)."""

from __future__ import annotations

import pytest

from dualpath.sql.mysql_client import as_client_sends


@pytest.mark.parametrize(("written", "sent"), [
    ("SELECT 1 # note\n, 2", "SELECT 1 \n, 2"),
    ("SELECT 1 -- note\n, 2", "SELECT 1 \n, 2"),
    ("SELECT 3 /* block */ , 4", "SELECT 3  , 4"),
    ("SELECT 4 /*! , 5 */", "SELECT 4 /*! , 5 */"),  # the server reads it: kept
    ("SELECT '# kept', \"-- kept\", '/* kept */'", "SELECT '# kept', \"-- kept\", '/* kept */'"),
    ("SELECT 5--1", "SELECT 5--1"),  # arithmetic, not a comment
])
def test_comments_are_left_out_as_the_client_does(written: str, sent: str) -> None:
    assert as_client_sends(written, "a.sql") == sent
