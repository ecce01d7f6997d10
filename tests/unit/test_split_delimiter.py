"""MySQL DELIMITER chunks holding several statements are cut where the server's grammar ends each one.

The mysql client sends a whole chunk (everything up to the custom delimiter) with multi-statements on,
and the server runs it statement by statement: a ';' ends a statement unless it stands inside a routine
body. dualpath sends those statements one by one, so it must find the same ends.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualpath.errors import InputError
from dualpath.sql import split_statements, tokens
from dualpath.sql.stream import iter_split
from tests.unit.test_big_files import _split_both
from tests.unit.test_split_coverage import CHUNK_TEXTS, check_covers


def texts(sql: str, dialect: str | None = "mysql") -> list[str]:
    return [s.text for s in split_statements(sql, file="m.sql", dialect=dialect)]


BOTH = pytest.mark.parametrize("dialect", ["mysql", None])


@BOTH
def test_drop_if_exists_before_the_routine_is_its_own_statement(dialect: str | None) -> None:
    sql = ("DELIMITER //\nDROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND //\n"
           "DELIMITER ;\nCALL p();\n")
    got = split_statements(sql, file="m.sql", dialect=dialect)
    assert [s.text for s in got] == ["DROP PROCEDURE IF EXISTS p", "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND",
                                     "CALL p()"]
    assert [s.line for s in got] == [2, 3, 8]
    assert all(s.span is not None and sql[s.span[0]:s.span[1]] == s.text for s in got)


@BOTH
def test_statements_after_a_routine_in_the_same_chunk_are_kept_and_cut(dialect: str | None) -> None:
    sql = ("DELIMITER //\nCREATE TABLE t (a int); CREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END; "
           "CALL p(); DROP PROCEDURE p //\nDELIMITER ;\n")
    assert texts(sql, dialect) == ["CREATE TABLE t (a int)", "CREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END",
                                   "CALL p()", "DROP PROCEDURE p"]


def test_a_trailing_semicolon_before_the_delimiter_adds_nothing() -> None:
    assert texts("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END; //\nDELIMITER ;") == [
        "CREATE PROCEDURE p() BEGIN SELECT 1; END"]


TRIGGER = """\
DELIMITER $$
DROP TRIGGER IF EXISTS orders_bi$$
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SET NEW.total = 0;
  ELSEIF NEW.total > 100 THEN
    SET NEW.label = CASE WHEN NEW.total > 1000 THEN 'huge' ELSE 'big' END;
  END IF;
END$$
DELIMITER ;
"""


def test_trigger_with_begin_end_and_if_inside() -> None:
    got = texts(TRIGGER)
    assert got[0] == "DROP TRIGGER IF EXISTS orders_bi"
    assert got[1].startswith("CREATE TRIGGER orders_bi") and got[1].endswith("END IF;\nEND")
    assert len(got) == 2


@pytest.mark.parametrize(("body", "rest"), [
    ("IF 1 THEN SELECT 1; IF 2 THEN SELECT 2; END IF; END IF", "SELECT 'after'"),
    ("WHILE @n < 3 DO SET @n = @n + 1; END WHILE", "SELECT 'after'"),
    ("lbl: LOOP SET @n = @n + 1; IF @n > 3 THEN LEAVE lbl; END IF; END LOOP lbl", "SELECT 'after'"),
    ("REPEAT SET @n = @n + 1; UNTIL @n > 3 END REPEAT", "SELECT REPEAT('a;', 2)"),
    ("FOR i IN 1..3 DO SELECT i; END FOR", "SELECT 'after'"),
    ("CASE @n WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE", "SELECT 'after'"),
    ("IF IF(@n, 1, 0) = 1 THEN SELECT 1; END IF", "SELECT 'after'"),
])
def test_a_routine_body_without_begin_ends_with_its_compound_statement(body: str, rest: str) -> None:
    sql = f"DELIMITER //\nCREATE PROCEDURE p() {body}; {rest} //\nDELIMITER ;\n"
    assert texts(sql) == [f"CREATE PROCEDURE p() {body}", rest]


def test_a_trigger_body_without_begin() -> None:
    sql = ("DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW IF NEW.a IS NULL THEN SET NEW.a = 1; "
           "END IF; INSERT INTO y VALUES (1)//\n")
    assert texts(sql) == ["CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW IF NEW.a IS NULL THEN SET NEW.a = 1; "
                          "END IF", "INSERT INTO y VALUES (1)"]


def test_a_single_statement_body_ends_at_its_semicolon() -> None:
    """As the server reads it: the body of RETURN 5 is one statement, then SELECT g() is another."""
    sql = "DELIMITER //\nCREATE FUNCTION g() RETURNS INT RETURN 5; SELECT g() //\n"
    assert texts(sql) == ["CREATE FUNCTION g() RETURNS INT RETURN 5", "SELECT g()"]


def test_if_not_exists_is_not_the_body() -> None:
    sql = "DELIMITER //\nCREATE PROCEDURE IF NOT EXISTS p() IF 1 THEN SELECT 1; END IF; SELECT 3 //"
    assert texts(sql) == ["CREATE PROCEDURE IF NOT EXISTS p() IF 1 THEN SELECT 1; END IF", "SELECT 3"]


def test_a_column_called_end_does_not_close_the_body() -> None:
    body = "BEGIN SELECT end FROM r; IF 1 THEN SELECT a, end FROM r; END IF; SELECT 1; END lbl"
    assert texts(f"DELIMITER //\nCREATE PROCEDURE p() {body}; SELECT 2//\n") == [f"CREATE PROCEDURE p() {body}",
                                                                                "SELECT 2"]


def test_strings_and_comments_hold_semicolons_delimiters_and_the_word_delimiter() -> None:
    sql = ("DELIMITER //\nDROP PROCEDURE IF EXISTS p; -- gone; // DELIMITER ;\n"
           "CREATE PROCEDURE p()\nBEGIN\n  # DELIMITER ; and //\n  SELECT 'x;y//DELIMITER ;' AS s, \"a;//\" AS t;\n"
           "  /* ; // DELIMITER ; */ SELECT `c;//` FROM q;\nEND //\nDELIMITER ;\nSELECT 'DELIMITER //';\n")
    got = texts(sql)
    assert got[0] == "DROP PROCEDURE IF EXISTS p"
    assert got[1].startswith("CREATE PROCEDURE p()") and got[1].endswith("FROM q;\nEND")
    assert got[2:] == ["SELECT 'DELIMITER //'"]


@pytest.mark.parametrize("sql", [
    "DELIMITER //\nCREATE PROCEDURE r() BEGIN SELECT 1; END;\nDELIMITER ;\nCALL r();\n",
    "DELIMITER //\nSELECT 1;\n-- note\nDELIMITER ;\nSELECT 2;\n",
])
def test_a_delimiter_command_inside_an_unended_chunk_is_refused_where_it_stands(sql: str) -> None:
    """The mysql client reads DELIMITER only at the start of a chunk: it would send the line to the server
    as SQL (error 1064) after running the statements before it. Refused before anything runs."""
    with pytest.raises(InputError) as caught:
        split_statements(sql, file="m.sql", dialect="mysql")
    assert caught.value.where == f"m.sql:{sql.count(chr(10), 0, sql.index('DELIMITER ;'))+1}"
    assert "not ended by '//'" in caught.value.message and "END //" in (caught.value.hint or "")


def test_a_column_called_delimiter_stays_sql_in_a_chunk() -> None:
    sql = "DELIMITER //\nCREATE TABLE t (a int,\ndelimiter int);\nCREATE TABLE u (\ndelimiter int) //\n"
    assert texts(sql) == ["CREATE TABLE t (a int,\ndelimiter int)", "CREATE TABLE u (\ndelimiter int)"]


CHUNKS = [
    "DELIMITER //\nDROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p() BEGIN SELECT 1; END; CALL p();\n"
    "DROP PROCEDURE p //\nDELIMITER ;\nSELECT 1;\n",
    TRIGGER,
    "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\n"
    "DELIMITER ;\n",
]


@pytest.mark.parametrize("sql", CHUNKS)
@pytest.mark.parametrize("window", [1, 20, 1 << 18])
def test_windows_split_delimiter_chunks_as_the_whole_text(sql: str, window: int) -> None:
    text = sql * 30
    whole = split_statements(text, file="m.sql", dialect="mysql")
    pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
    streamed = list(iter_split(pieces, file="m.sql", dialect="mysql", window=window))
    assert [(s.text, s.line, s.span) for s in streamed] == [(s.text, s.line, s.span) for s in whole]


def test_a_window_that_starts_inside_a_chunk_reads_no_delimiter_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window cut at a ';' inside a chunk resumes inside it: the DELIMITER line after it is refused as
    in the whole text, not read as a command."""
    monkeypatch.setattr(tokens, "_MARGIN", 0)  # cut right after the first piece's last ';'
    pieces = ["DELIMITER //\nSELECT 1;\n", "DELIMITER ;\nSELECT 2;\n"]
    with pytest.raises(InputError) as whole:
        split_statements("".join(pieces), file="m.sql", dialect="mysql")
    with pytest.raises(InputError) as streamed:
        list(iter_split(pieces, file="m.sql", dialect="mysql", window=1))
    assert streamed.value.where == whole.value.where == "m.sql:3"


@pytest.mark.parametrize("sql", [*CHUNKS, "DELIMITER //\nSELECT 1; SELECT 'a//b';\n// ; //\nDELIMITER ;"])
def test_every_character_of_a_delimiter_chunk_is_accounted_for(sql: str) -> None:
    check_covers(sql, "mysql")
    check_covers(sql, None)


@pytest.mark.parametrize("dialect", ["mysql", None])
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(text=CHUNK_TEXTS.map(lambda t: t * 3), window=st.integers(1, 300), piece=st.integers(1, 300))
def test_windows_split_random_delimiter_chunks_as_the_whole_text(dialect: str | None, text: str, window: int,
                                                                 piece: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokens, "_MARGIN", 8)  # windows cut often, even in short texts
        got, want = _split_both(text, dialect, window, piece)
    assert got == want
