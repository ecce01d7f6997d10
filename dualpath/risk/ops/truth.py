"""A WHERE clause that is true for every row (``1 = 1``, ``true``, ``id = id``) filters nothing.

This module reads MySQL/MariaDB and SQLite tokens; pgtruth.py reads PostgreSQL's parse tree.

Only what is true whatever the data is recognised here: constants, comparisons of constants,
a column compared with itself, and AND/OR/NOT of those. ``x = x`` is false where x is NULL,
which a key column never is: for a mass-change warning that is close enough.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from dualpath.sql.lexemes import Lexeme, split_top

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
SAME_SIDES = {"=", "<=", ">=", "<=>"}


def compare(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None or op not in _COMPARE or type(left) is not type(right):
        return None
    try:
        return bool(_COMPARE[op](left, right))
    except TypeError:
        return None


def tokens_always_true(where: list[Lexeme]) -> bool:
    """The same for MySQL/MariaDB, from the tokens after WHERE (up to ORDER BY / LIMIT)."""
    if not where:
        return False
    alternatives = _split_word(where, "OR")
    if len(alternatives) > 1:
        return any(tokens_always_true(part) for part in alternatives)
    return all(_true_term(part) for part in _split_word(where, "AND"))


def _split_word(tokens: list[Lexeme], word: str) -> list[list[Lexeme]]:
    return [p for p in split_top([Lexeme("punct", "\x00", t.offset) if t.upper == word else t for t in tokens],
                                 sep="\x00")]


def _true_term(term: list[Lexeme]) -> bool:
    while len(term) > 2 and term[0].text == "(" and term[-1].text == ")":
        term = term[1:-1]
    if len(term) == 2 and term[0].upper == "NOT":
        return _token_value(term[1:]) in (0.0, False)
    if len(term) == 1:
        tok = term[0]
        return tok.upper == "TRUE" or (tok.kind == "number" and float(tok.text) != 0)
    at = next((k for k, t in enumerate(term) if t.kind == "punct" and t.text in _COMPARE | {"<=>": None}), -1)
    if at <= 0:
        return False
    left, op, right = term[:at], term[at].text, term[at + 1:]
    if op in SAME_SIDES and [t.text.lower() for t in left] == [t.text.lower() for t in right] \
            and all(t.kind in ("word", "quoted") or t.text == "." for t in left):
        return True
    values = [_token_value(side) for side in (left, right)]
    return compare(op, values[0], values[1]) is True


def _token_value(side: list[Lexeme]) -> Any:
    if len(side) != 1:
        return None
    tok = side[0]
    if tok.kind == "number":
        return float(tok.text)
    if tok.kind == "string":
        return tok.text[1:-1]
    return {"TRUE": 1.0, "FALSE": 0.0}.get(tok.upper)
