"""The words without which no statement destroys data: the backup gate (backup/policy.py) parses only the
statements that hold one, and the plain apply (plain_apply.py) leaves a change holding one to the usual
path, whose gate judges it. Outside backup/: importing that package loads what takes a backup."""

from __future__ import annotations

import re

# Every destructive operation of backup/policy.py (DESTRUCTIVE_OPS) needs one of these words (TYPE, MODIFY,
# CHANGE: a column retyped; AS: CREATE TABLE ... AS; SELECT: MySQL's CREATE TABLE t SELECT ..., which needs no
# AS; the rest run code that may do anything); a statement without any is never destructive, readable or not.
# ALTER alone is not such a word: ALTER TABLE ... ADD COLUMN is most of a real folder, and parsing it for
# nothing was a tenth of a second of a 500-change apply. Nor is AS in GENERATED ... AS IDENTITY (no query
# follows it there: CREATE TABLE ... AS needs one), the usual key of a PostgreSQL CREATE TABLE, whose parse
# was the only reason to import pglast on such an apply.
MAY_DESTROY = re.compile(r"\b(DROP|TRUNCATE|DELETE|UPDATE|TYPE|AS(?!\s+IDENTITY\b)|SELECT|REPLACE|MERGE|DO|CALL|EXEC|"
                         r"EXECUTE|PREPARE|RENAME|CHANGE|MODIFY|SOURCE)\b|\$|\\i", re.IGNORECASE)


def may_destroy(sql: str) -> bool:
    """Could this statement destroy data (a yes may be wrong, a no never is)?"""
    return MAY_DESTROY.search(sql) is not None
