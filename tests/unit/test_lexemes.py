"""One statement's lexemes (dualpath.sql.lexemes): the one lexer's tokens, grouped for the risk readers."""

from __future__ import annotations

import pytest

from dualpath.sql.lexemes import SqlSyntaxError, lexemes


def _pairs(text: str, dialect: str = "mysql") -> list[tuple[str, str]]:
    return [(x.kind, x.text) for x in lexemes(text, dialect)]


@pytest.mark.parametrize(("text", "expected"), [
    ("LIMIT 1.5", [("word", "LIMIT"), ("number", "1.5")]),
    ("1.5e3", [("number", "1.5"), ("word", "e3")]),
    ("1.5.6", [("number", "1.5"), ("punct", "."), ("number", "6")]),
    ("12abc", [("number", "12"), ("word", "abc")]),
    ("t.1", [("word", "t"), ("punct", "."), ("number", "1")]),
    ("SET @@session.x", [("word", "SET"), ("word", "@@session"), ("punct", "."), ("word", "x")]),
    ("'app'@'%'", [("string", "'app'"), ("word", "@"), ("string", "'%'")]),
    ("app@localhost", [("word", "app@localhost")]),
    ("$1 a$b", [("word", "$1"), ("word", "a$b")]),
    ("a<=b <> c != d := e <=> f", [("word", "a"), ("punct", "<="), ("word", "b"), ("punct", "<>"), ("word", "c"),
                                   ("punct", "!="), ("word", "d"), ("punct", ":="), ("word", "e"), ("punct", "<="),
                                   ("punct", ">"), ("word", "f")]),
    ("< =", [("punct", "<"), ("punct", "=")]),
    ("`or``ders` \"x\"", [("quoted", "or``ders"), ("quoted", "x")]),
    ("'it''s' -- note\n/* c */ # hash\n;", [("string", "'it''s'"), ("punct", ";")]),
    ("DELIMITER //", [("word", "DELIMITER"), ("punct", "/"), ("punct", "/")]),
])
def test_mysql_lexemes(text: str, expected: list[tuple[str, str]]) -> None:
    assert _pairs(text) == expected


def test_offsets_point_at_each_lexeme() -> None:
    text = "\ufeffUPDATE `t` SET a = 1.5"
    assert [(x.text, x.offset) for x in lexemes(text, "mysql")] == \
        [("UPDATE", 1), ("t", 8), ("SET", 12), ("a", 16), ("=", 18), ("1.5", 20)]


def test_the_dialect_decides_strings_and_comments() -> None:
    # MySQL: '--' needs a space after it, backslashes escape; SQLite: no backslash escape, [brackets] quote
    assert _pairs("5--1", "mysql") == [("number", "5"), ("punct", "-"), ("punct", "-"), ("number", "1")]
    assert _pairs(r"'a\'b'", "mysql") == [("string", r"'a\'b'")]
    assert _pairs(r"'a\' b", "sqlite") == [("string", r"'a\'"), ("word", "b")]
    assert _pairs("[my col]", "sqlite") == [("quoted", "my col")]


@pytest.mark.parametrize(("text", "offset"), [("SELECT 'abc", 7), ("SELECT `abc", 7), ("x /* open", 2)])
def test_unreadable_text_names_where(text: str, offset: int) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        lexemes(text, "mysql")
    assert caught.value.offset == offset and "unterminated" in caught.value.message
