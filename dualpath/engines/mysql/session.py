"""MySQL/MariaDB statements that only set session state. User variables commit nothing, so the statement
journal treats them as it treats DML (no "started" row, no digest of the schema before them); and every
statement of session state (variables, session settings, prepared statements, USE) is run again when a
change resumes after a kill in a new session, which has lost it."""

from __future__ import annotations

import re

from dualpath.errors import InputError
from dualpath.sql.tokens import COMMENTS, PUNCT, lex

_LEAD = r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*"
_SET = re.compile(_LEAD + r"set\s+@(?!@)", re.IGNORECASE | re.DOTALL)
# SET of the session (not GLOBAL or PERSIST, not a password, a default role, or MariaDB's SET STATEMENT ... FOR,
# which runs a statement), PREPARE name FROM ..., USE db
_SESSION = re.compile(_LEAD + r"(?:set\s+(?!global\b|persist\b|persist_only\b|@@global\.|@@persist|password\b"
                      r"|default\s+role\b|statement\b)|prepare\s+\S+\s+from\b|use\s+\S)",
                      re.IGNORECASE | re.DOTALL)


def sets_session_state(sql: str) -> bool:
    """``SET @v = ...``, ``SET NAMES ...``, ``SET FOREIGN_KEY_CHECKS = 0``, ``SET SESSION x = ...``, ``PREPARE s
    FROM ...``, ``USE db``: what only this session remembers."""
    return _SESSION.match(sql) is not None


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
