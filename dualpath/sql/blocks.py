"""Where a semicolon does not end a statement: inside routine bodies and rule action lists.

Used when no parser can tell us (MySQL, SQLite, and PostgreSQL text pglast cannot parse).
Only statements that carry a body (CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT, MariaDB's
``BEGIN NOT ATOMIC`` and top-level ``IF ... END IF``) count BEGIN/CASE ... END, so a plain ``BEGIN;`` stays a statement.
"""

from __future__ import annotations

from dualpath.sql.tokens import DELIMITER, QUOTED, SEMICOLON, SET_DELIMITER, SIMPLE, WORD, Token

_BODY_KINDS = {"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"}
_CREATE_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT", "AGGREGATE", "IF", "NOT", "EXISTS"}
# END IF / END LOOP ... close blocks we never counted as open
_UNCOUNTED_ENDS = {"IF", "LOOP", "WHILE", "REPEAT", "FOR"}
_HEAD_SIZE = 16
_COMPOUND_STARTS = {"IF", "WHILE", "LOOP", "REPEAT", "CASE"}
_IF_STOPS = {"THEN", "WHEN", "ELSE", "ELSEIF", "END"}


def has_body(head: list[str]) -> bool:
    """True for CREATE [OR REPLACE] [DEFINER=...] TRIGGER|PROCEDURE|FUNCTION|EVENT."""
    if not head or head[0] != "CREATE":
        return False
    in_definer = False
    for word in head[1:]:
        if word in _BODY_KINDS:
            return True
        if word in ("VIEW", "SQL", "ALGORITHM"):
            return False
        if word == "DEFINER":
            in_definer = True
        elif not in_definer and word not in _CREATE_MODIFIERS:
            return False
    return False


def is_rule(head: list[str]) -> bool:
    """CREATE RULE ... DO (a; b) lists its actions in parentheses, separated by semicolons."""
    words = [w for w in head[:4] if w not in ("OR", "REPLACE")]
    return words[:2] == ["CREATE", "RULE"]


class _Statement:
    """Block state of the statement being read."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text, self.tokens = text, tokens
        self.head: list[str] = []
        self.body: bool | None = None
        self.depth = 0
        self.parens = 0
        self.pending_end = False
        # block openers counted besides BEGIN; END IF/LOOP/... of uncounted ones are skipped
        self.counted = frozenset({"CASE"})

    def can_end(self) -> bool:
        self.settle_end(None)
        if self.parens > 0 and is_rule(self.head):
            return False
        return self.depth <= 0

    def settle_end(self, word: str | None) -> bool:
        """Resolve a previous END with the word after it; True when that word was consumed."""
        if not self.pending_end:
            return False
        self.pending_end = False
        if word in _UNCOUNTED_ENDS and word not in self.counted:
            return True
        self.depth = max(self.depth - 1, 0)
        return word in self.counted

    def feed(self, index: int, word: str) -> None:
        token = self.tokens[index]
        if self.settle_end(word if token.kind == WORD else None):
            return
        if token.kind == "punct":
            self.parens += {"(": 1, ")": -1}.get(word, 0)
        if len(self.head) < _HEAD_SIZE and token.kind in (WORD, QUOTED):
            self.head.append(word)
            self.check_anonymous_block(index, word)
        if token.kind != WORD:
            return
        if self.body is None and word in ("BEGIN", "CASE", "END") and len(self.head) > 1:
            self.body = has_body(self.head)
        if not self.body:
            return
        if word == "BEGIN" or word in self.counted and self.opens(index, word):
            self.depth += 1
        elif word == "END":
            self.pending_end = True

    def check_anonymous_block(self, index: int, word: str) -> None:
        """MariaDB runs BEGIN NOT ATOMIC ... END and IF/WHILE/LOOP/REPEAT/CASE outside routines."""
        if self.head == ["BEGIN", "NOT", "ATOMIC"]:
            self.body, self.depth = True, 1
        elif len(self.head) == 1 and word in _COMPOUND_STARTS and self.opens(index, word):
            self.body, self.counted = True, frozenset({"CASE", word})

    def opens(self, index: int, word: str) -> bool:
        """IF opens a block only as IF ... THEN, REPEAT only when it is not the REPEAT() function."""
        if word == "IF":
            return self.then_follows(index)
        if word == "REPEAT":
            following = next((t for t in self.tokens[index + 1 :] if t.significant), None)
            return following is None or self.text[following.start : following.end] != "("
        return True

    def then_follows(self, index: int) -> bool:
        parens = 0
        for token in self.tokens[index + 1 :]:
            word = self.text[token.start : token.end].upper()
            if token.kind in (SEMICOLON, DELIMITER, SET_DELIMITER):
                return False
            if token.kind == "punct":
                parens += {"(": 1, ")": -1}.get(word, 0)
                if parens < 0 or parens == 0 and word == ",":
                    return False
            elif token.kind == WORD and parens == 0 and word in _IF_STOPS:
                return word == "THEN"
        return False


def block_boundaries(text: str, tokens: list[Token]) -> set[int]:
    """Indices of the tokens that end a statement, tracking BEGIN/CASE ... END depth."""
    ends: set[int] = set()
    state = _Statement(text, tokens)
    for index, token in enumerate(tokens):
        if token.kind in (DELIMITER, SET_DELIMITER):
            ends.add(index)
            state = _Statement(text, tokens)
        elif token.kind == SEMICOLON:
            if state.can_end():
                ends.add(index)
                state = _Statement(text, tokens)
        elif token.significant and token.kind != SIMPLE:  # plain DML opens no block
            state.feed(index, text[token.start : token.end].upper())
    return ends
