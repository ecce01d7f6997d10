"""The splitter accounts for every character: statements + comments + whitespace + delimiters = the file.

Whatever the input, either the splitter refuses it with file:line, or each character of the
text lies inside a statement it returns, a comment, a delimiter, or whitespace the servers skip.
Nothing is silently dropped (a NUL byte once made PostgreSQL lose a whole statement).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualpath.errors import InputError
from dualpath.sql.split import split_with_directives
from dualpath.sql.tokens import COMMENTS, DELIMITER, SEMICOLON, SET_DELIMITER, lex

WHITESPACE = set(" \t\n\r\f\v")
BETWEEN = (SEMICOLON, DELIMITER, SET_DELIMITER, *COMMENTS)

PIECES = [
    "SELECT 1", ";", " ", "\n", "\t", "\r", "\f", "'", "''", '"', "`", "[", "]", "$$", "$f$", "$1", "--", "-- c\n",
    "/*", "*/", "/*! x */", "#", "E'\\''", "\\", "DELIMITER //\n", "DELIMITER ;\n", "//", "BEGIN", "END",
    "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1 $f$ LANGUAGE sql;", "CREATE TRIGGER t BEGIN", "CASE",
    "IF x THEN", "END IF", "CREATE RULE r AS ON INSERT TO t DO (", ")", "-- dualpath:no-transaction\n",
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u00a0", "\u200b", "\u2028", "\ufeff", "é", "😀", "x", "1",
]
TEXTS = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=30).map("".join)
# MySQL DELIMITER chunks: several statements, routines with and without BEGIN, the word DELIMITER where
# it is a command, a column name, or text in a string or comment
CHUNK_PIECES = [
    "DELIMITER //\n", "DELIMITER $$\n", "DELIMITER ;;\n", "DELIMITER ;\n", "\nDELIMITER ;\n", "//", "$$", ";;", ";",
    " ", "\n", "DROP PROCEDURE IF EXISTS p", "CREATE PROCEDURE p() ",
    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW ", "BEGIN", "END", "END IF", "IF x THEN", "IF(a, 1, 0)",
    "WHILE x DO", "END WHILE", "lbl: LOOP", "END LOOP lbl", "REPEAT", "UNTIL x END REPEAT", "FOR i IN 1..2 DO",
    "END FOR", "CASE", "WHEN 1 THEN", "END CASE", "SELECT end FROM t",
    "CALL p()", "'a;b//DELIMITER ;'", "-- x; // DELIMITER ;\n", "# ; $$\n", "/* ; // */", "/*!50003 x; */", "delimiter",
    "`c;//`", '"d;$$"',
]
CHUNK_TEXTS = st.lists(st.sampled_from(CHUNK_PIECES) | st.text(max_size=2), max_size=30).map("".join)


def check_covers(text: str, dialect: str | None) -> None:
    try:
        statements, _ = split_with_directives(text, file="f.sql", dialect=dialect)
    except InputError as exc:
        assert exc.where and exc.where.startswith("f.sql"), exc
        return
    spans = [s.span for s in statements]
    assert all(span is not None for span in spans)
    covered = bytearray(len(text))
    for statement in statements:
        assert statement.span is not None
        start, end = statement.span
        assert statement.text == text[start:end]
        assert statement.line == text.count("\n", 0, start) + 1
        covered[start:end] = b"\1" * (end - start)
    for token in lex(text, file="f.sql", dialect=dialect):
        if token.kind in BETWEEN and not covered[token.start]:
            covered[token.start:token.end] = b"\1" * (token.end - token.start)
    lost = [(i, text[i]) for i, done in enumerate(covered)
            if not done and text[i] not in WHITESPACE and not (i == 0 and text[i] == "\ufeff")]
    assert not lost, f"characters no statement, comment or delimiter accounts for: {lost[:5]} in {text!r}"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite", None])
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_every_character_is_accounted_for(dialect: str | None, text: str) -> None:
    check_covers(text, dialect)


@pytest.mark.parametrize("dialect", ["mysql", None])
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=CHUNK_TEXTS)
def test_every_character_of_delimiter_chunks_is_accounted_for(dialect: str | None, text: str) -> None:
    check_covers(text, dialect)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite", None])
@pytest.mark.parametrize("text", [
    "CREATE TABLE n (a int);\n\x00\nCREATE TABLE y (a int);\nCREATE TABLE z (a int);\n",
    "SELECT 1;\u00a0SELECT 2;",
    "SELECT 1;\x1c\nSELECT 2;",
    "\ufeffSELECT 1; -- c\n/* d */ ; ;",
    "SELECT 'unterminated",
    "SELECT 1; /* unterminated",
])
def test_known_oddities_are_accounted_for_or_refused(dialect: str | None, text: str) -> None:
    check_covers(text, dialect)


def test_a_nul_byte_in_code_is_refused_where_it_stands() -> None:
    with pytest.raises(InputError, match="U\\+0000") as caught:
        split_with_directives("CREATE TABLE n (a int);\n\x00\nCREATE TABLE y (a int);", file="f.sql",
                              dialect="postgresql")
    assert caught.value.where == "f.sql:2"
