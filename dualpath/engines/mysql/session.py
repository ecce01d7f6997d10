"""MySQL/MariaDB statements that only set session state: they commit nothing, so the statement journal
treats them as it treats DML (no "started" row, no digest of the schema before them)."""

from __future__ import annotations

import re

from dualpath.errors import InputError
from dualpath.sql.tokens import COMMENTS, PUNCT, lex

_SET = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*set\s+@(?!@)", re.IGNORECASE | re.DOTALL)


def sets_user_variables_only(sql: str) -> bool:
    """``SET @a = ..., @b := ...``: every assignment's target a user variable. ``SET @a = 1, autocommit = 1``
    commits, and ``SET @@x`` / ``SET SESSION x`` change the session's settings: those commit alone."""
    if _SET.match(sql) is None:
        return False
    try:
        tokens = [t for t in lex(sql, file="<statement>", dialect="mysql") if t.kind not in COMMENTS]
    except InputError:
        return False
    depth, expect_target = 0, True
    for token, following in zip(tokens[1:], [*tokens[2:], None], strict=True):  # after SET
        char = sql[token.start:token.end] if token.kind == PUNCT else ""
        if expect_target:
            if char != "@" or following is None or sql[following.start:following.end] == "@":
                return False
            expect_target = False
        elif char and char in "([":
            depth += 1
        elif char and char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            expect_target = True
    return not expect_target
