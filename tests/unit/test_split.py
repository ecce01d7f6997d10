"""Statement splitting per dialect: strings, comments, bodies, delimiters, lines, directives."""

from __future__ import annotations

import pytest

from dualpath.errors import InputError
from dualpath.sql import split_statements, split_with_directives, statement_kind
from dualpath.sql.split import parser_boundaries
from dualpath.sql.tokens import lex


def texts(sql: str, dialect: str | None = "postgresql", **kw: object) -> list[str]:
    return [s.text for s in split_statements(sql, file="m.sql", dialect=dialect, **kw)]  # type: ignore[arg-type]


def lines(sql: str, dialect: str | None = "postgresql", start_line: int = 1) -> list[int]:
    return [s.line for s in split_statements(sql, file="m.sql", dialect=dialect, start_line=start_line)]


# --- PostgreSQL ---------------------------------------------------------------------------

PG_FUNCTION = """\
CREATE OR REPLACE FUNCTION add_audit() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  n int;
BEGIN
  n := 1;
  INSERT INTO audit(what) VALUES ('changed; really');
  RETURN NEW;
END;
$fn$;
CREATE TRIGGER orders_audit AFTER UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION add_audit();
"""


def test_plpgsql_function_body_keeps_its_semicolons() -> None:
    got = texts(PG_FUNCTION)
    assert len(got) == 2
    assert got[0].startswith("CREATE OR REPLACE FUNCTION add_audit()")
    assert got[0].endswith("$fn$")
    assert "RETURN NEW;" in got[0]
    assert got[1].startswith("CREATE TRIGGER orders_audit")


def test_do_block_is_one_statement() -> None:
    sql = "DO $$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $$;\nSELECT 2;"
    assert texts(sql) == ["DO $$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $$", "SELECT 2"]


PG_NESTED_DOLLARS = """\
CREATE FUNCTION make_table() RETURNS void LANGUAGE plpgsql AS $outer$
BEGIN
  EXECUTE $inner$ CREATE TABLE made (a int); $inner$;
  EXECUTE $inner$ INSERT INTO made VALUES (1); $inner$;
END
$outer$;
SELECT make_table();
"""


def test_nested_dollar_quotes_with_different_tags() -> None:
    got = texts(PG_NESTED_DOLLARS)
    assert len(got) == 2
    assert got[0].endswith("END\n$outer$") and got[1] == "SELECT make_table()"
    sql = "SELECT $a$ x; $b$ y; $a $b$ z; $a$;\nSELECT 3;"
    assert texts(sql, None) == ["SELECT $a$ x; $b$ y; $a $b$ z; $a$", "SELECT 3"]


@pytest.mark.parametrize("dialect", ["postgresql", None])
def test_escaped_strings(dialect: str | None) -> None:
    sql = "INSERT INTO t VALUES (E'it\\'s; fine', 'don''t; split');\nSELECT 1;"
    assert texts(sql, dialect) == ["INSERT INTO t VALUES (E'it\\'s; fine', 'don''t; split')", "SELECT 1"]


def test_standard_string_backslash_is_not_an_escape_in_postgresql() -> None:
    assert texts("SELECT 'C:\\';\nSELECT 2;") == ["SELECT 'C:\\'", "SELECT 2"]


def test_nested_block_comments_in_postgresql() -> None:
    sql = "SELECT 1 /* outer /* inner ; */ still comment ; */ + 1;\nSELECT 2;"
    assert texts(sql) == ["SELECT 1 /* outer /* inner ; */ still comment ; */ + 1", "SELECT 2"]


def test_line_comment_with_semicolon_does_not_split() -> None:
    sql = "SELECT 1 -- not here; nor here\n  + 2;\nSELECT 3;"
    assert texts(sql) == ["SELECT 1 -- not here; nor here\n  + 2", "SELECT 3"]


def test_quoted_identifiers_hide_semicolons() -> None:
    assert texts('CREATE TABLE "a;b" ("c;""d" int);SELECT 1') == ['CREATE TABLE "a;b" ("c;""d" int)', "SELECT 1"]


def test_leading_comments_are_dropped_inner_kept() -> None:
    sql = "-- explains the table\n/* more */\nCREATE TABLE t (\n  a int -- the key\n);\n"
    (only,) = split_statements(sql, file="m.sql", dialect="postgresql")
    assert only.text == "CREATE TABLE t (\n  a int -- the key\n)"
    assert only.line == 3


def test_begin_and_commit_alone_are_statements() -> None:
    assert texts("BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;") == ["BEGIN", "UPDATE t SET a = 1", "COMMIT"]


def test_empty_statements_and_comment_only_text() -> None:
    assert texts(";;\nSELECT 1;;\n") == ["SELECT 1"]
    assert texts("-- nothing here\n/* at all */\n") == []
    assert texts("") == []


def test_last_statement_without_semicolon() -> None:
    assert texts("SELECT 1;\nSELECT 2\n-- trailing note\n") == ["SELECT 1", "SELECT 2"]


def test_sql_standard_function_body_and_rule_actions() -> None:
    sql = (
        "CREATE FUNCTION one() RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;\n"
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n"
    )
    assert len(texts(sql)) == 2
    # the same text with one statement pglast cannot parse goes through the fallback
    broken = sql + "SELECT FROM WHERE NEWER SYNTAX;\n"
    assert parser_boundaries(broken, lex(broken, file="m.sql", dialect="postgresql")) is None
    got = texts(broken)
    assert len(got) == 3
    assert got[0].endswith("END") and got[1].endswith("(2))")


def test_unparseable_postgresql_is_still_split() -> None:
    sql = "ALTER TABLE t ADD COLUMN x int FUTURE SYNTAX;\nDO $$ BEGIN NULL; END $$;\nSELECT 'x;';"
    assert texts(sql) == ["ALTER TABLE t ADD COLUMN x int FUTURE SYNTAX", "DO $$ BEGIN NULL; END $$", "SELECT 'x;'"]


def test_pglast_decides_boundaries_when_it_can_parse() -> None:
    assert parser_boundaries(PG_FUNCTION, lex(PG_FUNCTION, file="m.sql", dialect="postgresql")) is not None


def test_byte_order_mark_is_not_code() -> None:
    assert texts("\ufeffSELECT 1;") == ["SELECT 1"]


@pytest.mark.parametrize(("alias", "first"), [("postgres", "DO $$ x; $$"), ("mariadb", "DO $$ x")])
def test_dialect_spellings_from_urls(alias: str, first: str) -> None:
    assert texts("DO $$ x; $$;", alias)[0] == first


def test_psql_variables_other_than_meta_commands_are_left_to_the_server() -> None:
    assert texts("SELECT :'name';") == ["SELECT :'name'"]


# --- MySQL / MariaDB ----------------------------------------------------------------------

MYSQL_PROCEDURE = """\
DROP PROCEDURE IF EXISTS fill;
DELIMITER //
CREATE PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO t VALUES (i);
    SET i = i + 1;
  END WHILE;
END //
DELIMITER ;
CALL fill(3);
"""


@pytest.mark.parametrize("dialect", ["mysql", None])
def test_mysql_delimiter_procedure_and_back(dialect: str | None) -> None:
    got = split_statements(MYSQL_PROCEDURE, file="m.sql", dialect=dialect)
    assert [s.text.split("\n")[0] for s in got] == [
        "DROP PROCEDURE IF EXISTS fill", "CREATE PROCEDURE fill(IN n INT)", "CALL fill(3)"]
    assert got[1].text.endswith("END WHILE;\nEND")
    assert [s.line for s in got] == [1, 3, 12]


def test_mysql_delimiter_glued_to_end() -> None:
    sql = "DELIMITER $$\nCREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END$$\nDELIMITER ;\nSELECT f();"
    assert texts(sql, "mysql") == ["CREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END", "SELECT f()"]


MYSQL_TRIGGER = """\
CREATE DEFINER=`root`@`localhost` TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SET NEW.total = 0;
  END IF;
  SET NEW.label = CASE WHEN NEW.total > 100 THEN 'big' ELSE 'small' END;
  SET NEW.note = 'it\\'s; fine'; # hash comment ;
END;
BEGIN;
SELECT 5--1;
"""


def test_mysql_trigger_with_begin_end_without_delimiter() -> None:
    got = texts(MYSQL_TRIGGER, "mysql")
    assert len(got) == 3
    assert got[0].startswith("CREATE DEFINER") and got[0].endswith("END")
    assert got[1:] == ["BEGIN", "SELECT 5--1"]


def test_mysql_loops_and_case_statement_in_procedure() -> None:
    sql = (
        "CREATE PROCEDURE p() BEGIN\n"
        "  l: LOOP LEAVE l; END LOOP l;\n"
        "  REPEAT SET @a = 1; UNTIL 1 END REPEAT;\n"
        "  CASE @a WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\n"
        "  SELECT IF(1, 2, 3), CASE WHEN 1 THEN 1 END, IF(1, 2, 3);\n"
        "END;\nSELECT 9;"
    )
    assert texts(sql, "mysql")[1:] == ["SELECT 9"]


def test_mysql_handler_with_nested_begin_end() -> None:
    sql = (
        "CREATE PROCEDURE safe_move()\nBEGIN\n"
        "  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;\n"
        "  START TRANSACTION;\n  UPDATE a SET n = n - 1;\n  COMMIT;\n"
        "END;\nSELECT 1;"
    )
    got = split_statements(sql, file="m.sql", dialect="mysql")
    assert [s.line for s in got] == [1, 8]


@pytest.mark.parametrize("dialect", ["mysql", None])
def test_mysql_dollar_delimiter_is_not_a_dollar_quote(dialect: str | None) -> None:
    sql = "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END $$\n" \
          "DELIMITER ;\nSELECT 1;"
    assert texts(sql, dialect) == ["CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END",
                                   "SELECT 1"]


def test_mysql_line_starting_with_dashes_is_a_comment() -> None:
    sql = "--changeset alice:1\nCREATE TABLE t (a int);\n--rollback DROP TABLE t;\nSELECT 2;"
    assert texts(sql, "mysql") == ["CREATE TABLE t (a int)", "SELECT 2"]


def test_mariadb_top_level_if_block() -> None:
    sql = (
        "SET @x = IF(1 > 0, 'a', 'b');\n"
        "IF @x IS NOT NULL THEN\n"
        "  IF (SELECT IF(1, 2, 3)) = 2 THEN SET @y = 1; END IF;\n"
        "  SET @z = REPEAT('a;', 2);\n"
        "END IF;\n"
        "WHILE @n < 3 DO SET @n = @n + 1; END WHILE;\n"
        "SELECT @y;"
    )
    assert [s.line for s in split_statements(sql, file="m.sql", dialect="mysql")] == [1, 2, 6, 7]


def test_mysql_backslash_and_double_quoted_strings() -> None:
    sql = "INSERT INTO t VALUES ('a\\';b', \"c\\\";d\");\nSELECT `x;y` FROM t;"
    assert texts(sql, "mysql") == ["INSERT INTO t VALUES ('a\\';b', \"c\\\";d\")", "SELECT `x;y` FROM t"]


def test_mysql_executable_comment_is_a_statement() -> None:
    sql = "/*!40101 SET NAMES utf8mb4 */;\n/* plain */\nSELECT 1;"
    assert texts(sql, "mysql") == ["/*!40101 SET NAMES utf8mb4 */", "SELECT 1"]


def test_mariadb_anonymous_block() -> None:
    sql = "BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END;\nSELECT 1;"
    assert texts(sql, "mysql") == ["BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END", "SELECT 1"]


def test_delimiter_word_inside_a_statement_is_a_column() -> None:
    sql = "CREATE TABLE t (\ndelimiter varchar(5)\n);\nSELECT 1;"
    assert len(texts(sql, "mysql")) == 2


# --- SQLite -------------------------------------------------------------------------------

def test_sqlite_trigger_with_body() -> None:
    sql = (
        "CREATE TEMP TRIGGER IF NOT EXISTS trg AFTER INSERT ON a\nBEGIN\n"
        "  INSERT INTO log VALUES (new.id);\n"
        "  UPDATE b SET n = CASE WHEN n IS NULL THEN 1 ELSE n + 1 END;\n"
        "END;\nBEGIN TRANSACTION;\nCREATE TABLE [odd;name] (x);\nVACUUM;"
    )
    got = split_statements(sql, file="m.sql", dialect="sqlite")
    assert [s.text.split("\n")[0] for s in got] == [
        "CREATE TEMP TRIGGER IF NOT EXISTS trg AFTER INSERT ON a", "BEGIN TRANSACTION",
        "CREATE TABLE [odd;name] (x)", "VACUUM"]
    assert [s.line for s in got] == [1, 6, 7, 8]
    assert [s.no_transaction for s in got] == [False, False, False, True]


# --- lines, directives, no-transaction ---------------------------------------------------

def test_line_numbers_with_start_line_offset() -> None:
    sql = "\n\n-- c\nSELECT 1;\n\n  SELECT\n  2; SELECT 3;"
    assert lines(sql) == [4, 6, 7]
    assert lines(sql, start_line=10) == [13, 15, 16]
    assert lines(sql, dialect="mysql", start_line=10) == [13, 15, 16]


def test_directives_attach_to_the_next_statement() -> None:
    sql = (
        "-- dualpath:ticket OPS-1\n"
        "UPDATE t SET a = 1;\n"
        "-- dualpath:no-transaction\n"
        "-- dualpath:ignore DP001 reason=\"accepted\"\n"
        "CREATE INDEX i ON t(a);\n"
        "SELECT 1; -- dualpath:batch table=x key=id\n"
        "SELECT 2;\n"
        "-- dualpath:irreversible reason=\"drops data\"\n"
    )
    statements, directives = split_with_directives(sql, file="m.sql", dialect="postgresql")
    assert [[d.name for d in s.directives] for s in statements] == [
        ["ticket"], ["no-transaction", "ignore"], [], ["irreversible"]]
    assert [d.line for d in directives] == [1, 3, 4, 8]
    assert [s.no_transaction for s in statements] == [False, True, False, False]
    assert statements[1].directive("ignore").args["reason"] == "accepted"  # type: ignore[union-attr]


def test_directive_inside_a_statement_belongs_to_it() -> None:
    sql = "UPDATE t\n-- dualpath:ignore DP001 reason=\"ok\"\nSET a = 1;\nSELECT 2;"
    got = split_statements(sql, file="m.sql", dialect="postgresql")
    assert [len(s.directives) for s in got] == [1, 0]


def test_directives_without_statements_are_returned() -> None:
    statements, directives = split_with_directives(
        "-- dualpath:irreversible reason=\"x\"\n", file="m.sql", start_line=5)
    assert statements == []
    assert [(d.name, d.where) for d in directives] == [("irreversible", "m.sql:5")]


def test_directive_inside_a_dollar_quote_is_not_a_directive() -> None:
    sql = "DO $$\n-- dualpath:no-transaction\nBEGIN NULL; END $$;"
    statements, directives = split_with_directives(sql, file="m.sql", dialect="postgresql")
    assert directives == [] and not statements[0].no_transaction


def test_bad_directive_raises_with_location() -> None:
    with pytest.raises(InputError) as err:
        split_statements("SELECT 1;\n-- dualpath:no-transactoin\nSELECT 2;", file="m.sql")
    assert err.value.where == "m.sql:2"


@pytest.mark.parametrize("sql", [
    "CREATE INDEX CONCURRENTLY i ON t (a)",
    "create unique index concurrently if not exists i on t (a)",
    "DROP INDEX CONCURRENTLY IF EXISTS i",
    "REINDEX TABLE CONCURRENTLY t",
    "REINDEX (VERBOSE) INDEX CONCURRENTLY i",
    "VACUUM ANALYZE t",
    "CREATE DATABASE d",
    "DROP DATABASE IF EXISTS d",
    "ALTER SYSTEM SET work_mem = '64MB'",
    "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
    "-- why\nCREATE INDEX CONCURRENTLY i ON t (a)",
])
def test_statements_that_refuse_a_transaction(sql: str) -> None:
    (only,) = split_statements(sql, file="m.sql", dialect="postgresql")
    assert only.no_transaction


@pytest.mark.parametrize("sql", [
    "CREATE INDEX i ON t (a)",
    "ALTER TYPE mood ADD VALUE 'meh'",
    "ALTER TABLE p DETACH PARTITION p1",
    "SELECT 'CREATE INDEX CONCURRENTLY'",
    "COMMENT ON TABLE t IS 'VACUUM'",
    "CREATE INDEX /* CONCURRENTLY */ i ON t (a)",
])
def test_statements_that_run_in_a_transaction(sql: str) -> None:
    (only,) = split_statements(sql, file="m.sql", dialect="postgresql")
    assert not only.no_transaction


def test_mysql_statements_never_refuse_a_transaction_here() -> None:
    (only,) = split_statements("CREATE DATABASE d", file="m.sql", dialect="mysql")
    assert not only.no_transaction


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "dialect", "where", "words"), [
    ("SELECT 1;\nSELECT $body$ never closed;\n", "postgresql", "m.sql:2", ["$body$", "line 2"]),
    ("SELECT 1;\n\nSELECT 'open;\n", "postgresql", "m.sql:3", ["string", "line 3"]),
    ("SELECT \"open;\n", "postgresql", "m.sql:1", ["quoted identifier", "line 1"]),
    ("SELECT `open;\n", "mysql", "m.sql:1", ["quoted identifier"]),
    ("SELECT 1;\n/* a /* b */\nSELECT 2;", "postgresql", "m.sql:2", ["block comment", "line 2"]),
    ("SELECT E'it\\';\n", "postgresql", "m.sql:1", ["string"]),
])
def test_unterminated_things_name_file_and_line(sql: str, dialect: str, where: str, words: list[str]) -> None:
    with pytest.raises(InputError) as err:
        split_statements(sql, file="m.sql", dialect=dialect)
    assert err.value.where == where
    assert err.value.hint
    for word in words:
        assert word in err.value.message


def test_unterminated_error_respects_start_line() -> None:
    with pytest.raises(InputError) as err:
        split_statements("\nSELECT $$ x", file="m.sql", start_line=20)
    assert err.value.where == "m.sql:21" and "line 21" in err.value.message


@pytest.mark.parametrize(("line", "name", "hint_word"), [
    ("\\i other.sql", "\\i", "inline"),
    ("\\set tenant 42", "\\set", "literal"),
    ("  \\connect shop", "\\connect", "--url"),
])
@pytest.mark.parametrize("dialect", ["postgresql", None])
def test_psql_meta_commands_are_refused(line: str, name: str, hint_word: str, dialect: str | None) -> None:
    with pytest.raises(InputError) as err:
        split_statements(f"SELECT 1;\n{line}\nSELECT 2;", file="m.sql", dialect=dialect)
    assert err.value.where == "m.sql:2"
    assert err.value.message == (
        f"psql meta-command '{name}' is not SQL; dualpath runs statements through a driver, not psql")
    assert hint_word in (err.value.hint or "")


def test_psql_meta_command_after_sql_on_the_same_line() -> None:
    with pytest.raises(InputError, match=r"'\\gexec'") as err:
        split_statements("SELECT format('VACUUM %I', t) FROM ts\n\n  \\gexec\n", file="m.sql", dialect="postgresql")
    assert err.value.where == "m.sql:3"
    with pytest.raises(InputError, match=r"'\\gexec'"):
        split_statements("SELECT format('VACUUM %I', t) FROM ts \\gexec\n", file="m.sql", dialect="postgresql")


def test_backslash_inside_strings_is_not_a_meta_command() -> None:
    assert texts("SELECT '\n\\i x';") == ["SELECT '\n\\i x'"]


def test_delimiter_without_value() -> None:
    with pytest.raises(InputError) as err:
        split_statements("SELECT 1;\nDELIMITER\nSELECT 2;", file="m.sql", dialect="mysql")
    assert err.value.where == "m.sql:2" and "DELIMITER" in err.value.message
    assert "DELIMITER //" in (err.value.hint or "")


def test_unknown_dialect() -> None:
    with pytest.raises(InputError, match="oracle"):
        split_statements("SELECT 1", file="m.sql", dialect="oracle")


# --- statement_kind -----------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "kind"), [
    ("-- c\n/* d */ CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX"),
    ("alter table only t add column x int", "ALTER TABLE"),
    ("UPDATE t SET a = 1", "UPDATE"),
    ("DO $$ BEGIN END $$", "DO"),
    ("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "CREATE FUNCTION"),
    ("INSERT INTO t VALUES (1)", "INSERT"),
    ("DELETE FROM t", "DELETE"),
    ("SELECT 1", "SELECT"),
    ("begin", "BEGIN"),
    ("COMMIT", "COMMIT"),
    ("WITH x AS (SELECT 1 FROM (SELECT 2) y) DELETE FROM t", "DELETE"),
    ("CREATE MATERIALIZED VIEW v AS SELECT 1", "CREATE MATERIALIZED VIEW"),
    ("CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN END", "CREATE PROCEDURE"),
    ("DROP TABLE IF EXISTS t", "DROP TABLE"),
    ("CREATE OR REPLACE ALGORITHM = MERGE DEFINER = 'a'@'%' SQL SECURITY INVOKER VIEW v AS SELECT 1",
     "CREATE VIEW"),
    ("START TRANSACTION", "START TRANSACTION"),
    ("", ""),
    ("SELECT 'unterminated", "SELECT"),
])
def test_statement_kind(sql: str, kind: str) -> None:
    assert statement_kind(sql) == kind
