"""Where a semicolon does not end a statement: inside routine bodies and rule action lists.

Used when no parser can tell us (MySQL, SQLite, and PostgreSQL text pglast cannot parse), and inside
MySQL DELIMITER chunks, which the server runs statement by statement just the same. Only statements
that carry a body (CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT, MariaDB's ``BEGIN NOT ATOMIC`` and
top-level ``IF ... END IF``) count blocks, so a plain ``BEGIN;`` stays a statement: BEGIN/CASE ... END,
and the compound statement a body starts with when it has no BEGIN (``p() WHILE ... END WHILE``).
"""

from __future__ import annotations

from dualpath.sql.tokens import DELIMITER, QUOTED, SEMICOLON, SEND, SET_DELIMITER, SIMPLE, WORD, Token

_BODY_KINDS = {"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"}
_CREATE_MODIFIERS = {"OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT", "AGGREGATE", "IF", "NOT", "EXISTS"}
# END IF / END LOOP ... close blocks we never counted as open
_UNCOUNTED_ENDS = {"IF", "LOOP", "WHILE", "REPEAT", "FOR"}
_HEAD_SIZE = 16
_COMPOUND_STARTS = {"IF", "WHILE", "LOOP", "REPEAT", "CASE"}
# a routine body that is one compound statement without BEGIN: CREATE PROCEDURE p() IF ... END IF
_BODY_STARTS = {"IF", "WHILE", "LOOP", "REPEAT", "FOR"}
_IF_STOPS = {"THEN", "WHEN", "ELSE", "ELSEIF", "END"}
# after these an IF is the IF() function, not a statement: IF IF(a, 1, 0) = 1 THEN
_EXPRESSION_WORDS = {"IF", "ELSEIF", "WHILE", "UNTIL", "WHEN", "RETURN", "SELECT", "AND", "OR", "NOT", "XOR",
                     "WHERE", "HAVING", "ON", "VALUES", "LIKE", "IN", "IS", "BETWEEN", "BY", "DISTINCT"}
_EXPRESSION_PUNCT = set("=(,+-*/<>!%&|^~")
_ENDS_STATEMENT = (SEMICOLON, DELIMITER, SET_DELIMITER, SEND)


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
        self.open: list[str] = []  # the blocks open, innermost last: BEGIN, CASE, or a counted compound
        self.parens = 0
        self.previous = ""  # the previous code token, upper-cased
        self.skip = -1  # the token after an END that the END consumed (END IF, END CASE)
        # block openers counted besides BEGIN; END IF/LOOP/... of uncounted ones are skipped
        self.counted = frozenset({"CASE"})

    def can_end(self) -> bool:
        if self.parens > 0 and is_rule(self.head):
            return False
        return not self.open

    def feed(self, index: int, word: str) -> None:
        if index != self.skip:
            self.read(index, word)
        self.previous = word

    def read(self, index: int, word: str) -> None:
        token = self.tokens[index]
        if token.kind == "punct":
            self.parens += {"(": 1, ")": -1}.get(word, 0)
        if len(self.head) < _HEAD_SIZE and token.kind in (WORD, QUOTED):
            self.head.append(word)
            self.check_anonymous_block(index, word)
        if token.kind != WORD:
            return
        if self.body is None and (word in ("BEGIN", "CASE", "END") or word in _BODY_STARTS) and len(self.head) > 1:
            self.body = has_body(self.head)
        if not self.body:
            return
        if word == "END":
            self.close(index)
        elif word == "BEGIN" or word in self.counted and self.opens(index, word):
            self.open.append(word)
        elif self.starts_body(index, word):
            self.counted = frozenset({"CASE", word})
            self.open.append(word)

    def starts_body(self, index: int, word: str) -> bool:
        """A routine whose body is one compound statement without BEGIN (``... p() IF a THEN ... END IF``);
        not the IF of ``CREATE PROCEDURE IF NOT EXISTS``."""
        return (not self.open and self.counted == {"CASE"} and word in _BODY_STARTS
                and self.previous not in _BODY_KINDS and self.opens(index, word))

    def close(self, index: int) -> None:
        """END closes the innermost block: END IF/LOOP/... an uncounted one (nothing to do), END CASE a
        CASE, a plain END a CASE expression or a BEGIN block. A BEGIN block's END stands before ';', the
        delimiter or a label; any other END is a name (MySQL lets a column be called ``end``)."""
        after = self.next_code(index)
        word = self.word_at(after)
        if word in _UNCOUNTED_ENDS or word == "CASE":
            self.skip = after if after is not None else -1
            if (word in self.counted or word == "CASE") and self.open:
                self.open.pop()
            return
        if self.open and (self.open[-1] == "CASE" or self.ends_block(after)):
            self.open.pop()

    def ends_block(self, after: int | None) -> bool:
        if after is None or self.tokens[after].kind in _ENDS_STATEMENT:
            return True
        if self.tokens[after].kind not in (WORD, QUOTED):
            return False
        label_after = self.next_code(after)  # END label;
        return label_after is None or self.tokens[label_after].kind in _ENDS_STATEMENT

    def next_code(self, index: int) -> int | None:
        return next((i for i in range(index + 1, len(self.tokens)) if self.tokens[i].significant
                     or self.tokens[i].kind in _ENDS_STATEMENT), None)

    def word_at(self, index: int | None) -> str | None:
        if index is None or self.tokens[index].kind != WORD:
            return None
        token = self.tokens[index]
        return self.text[token.start : token.end].upper()

    def check_anonymous_block(self, index: int, word: str) -> None:
        """MariaDB runs BEGIN NOT ATOMIC ... END and IF/WHILE/LOOP/REPEAT/CASE outside routines."""
        if self.head == ["BEGIN", "NOT", "ATOMIC"]:
            self.body = True
            self.open.append("BEGIN")
        elif len(self.head) == 1 and word in _COMPOUND_STARTS and self.opens(index, word):
            self.body, self.counted = True, frozenset({"CASE", word})

    def opens(self, index: int, word: str) -> bool:
        """IF opens a block only as IF ... THEN, REPEAT only when it is not the REPEAT() function, FOR only
        as FOR x IN (not a trigger's FOR EACH ROW, nor SELECT ... FOR UPDATE)."""
        if word == "IF":
            after_operator = self.previous in _EXPRESSION_WORDS or self.previous[-1:] in _EXPRESSION_PUNCT
            return not after_operator and self.then_follows(index)
        if word == "REPEAT":
            following = self.next_code(index)
            return following is None or self.text[self.tokens[following].start : self.tokens[following].end] != "("
        if word == "FOR":
            name = self.next_code(index)
            return name is not None and self.tokens[name].kind in (WORD, QUOTED) \
                and self.word_at(self.next_code(name)) == "IN"
        return True

    def then_follows(self, index: int) -> bool:
        parens = 0
        for token in self.tokens[index + 1 :]:
            word = self.text[token.start : token.end].upper()
            if token.kind in _ENDS_STATEMENT:
                return False
            if token.kind == "punct":
                parens += {"(": 1, ")": -1}.get(word, 0)
                if parens < 0 or parens == 0 and word == ",":
                    return False
            elif token.kind == WORD and parens == 0 and word in _IF_STOPS:
                return word == "THEN"
        return False


def block_boundaries(text: str, tokens: list[Token]) -> set[int]:
    """Indices of the tokens that end a statement, tracking BEGIN/CASE ... END blocks.

    In a DELIMITER chunk too a ';' ends a statement where no block is open: the mysql client sends the
    chunk whole and the server runs it statement by statement (``DROP PROCEDURE IF EXISTS p; CREATE
    PROCEDURE p() BEGIN ... END; CALL p()``); dualpath sends those statements one by one.
    """
    ends: set[int] = set()
    state = _Statement(text, tokens)
    for index, token in enumerate(tokens):
        if token.kind in (DELIMITER, SET_DELIMITER, SEND):  # psql sends its buffer at \g whatever it holds
            ends.add(index)
            state = _Statement(text, tokens)
        elif token.kind == SEMICOLON:
            if state.can_end():
                ends.add(index)
                state = _Statement(text, tokens)
        elif token.significant and token.kind != SIMPLE:  # plain DML opens no block
            state.feed(index, text[token.start : token.end].upper())
    return ends
