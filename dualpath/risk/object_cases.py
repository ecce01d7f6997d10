"""Edge cases shared by the rules that compare forward and rollback (DP046, DP047, DP012-DP014):
every kind of object, created and dropped in the spellings real folders use."""

from __future__ import annotations

from dualpath.risk.rule import Case

PG, MY = "postgresql", "mysql"
_PG_FUNCTION = "CREATE FUNCTION f (a int) RETURNS int AS $$ SELECT a $$ LANGUAGE sql;"
_MY_PROCEDURE = "DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND //\nDELIMITER ;"

# (dialect, what, forward that creates it, rollbacks that each drop exactly it)
PAIRS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (PG, "table", "CREATE TABLE app.t (id int);", ("DROP TABLE IF EXISTS app.t;", 'DROP TABLE "t" CASCADE;')),
    (PG, "view", "CREATE VIEW v AS SELECT 1 AS one;", ("DROP VIEW IF EXISTS v;",)),
    (PG, "materialized view", "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one;",
     ("DROP MATERIALIZED VIEW IF EXISTS mv;",)),
    (PG, "index", "CREATE INDEX i ON app.t (a);", ("DROP INDEX IF EXISTS app.i;", "DROP INDEX CONCURRENTLY i;")),
    (PG, "sequence", "CREATE SEQUENCE sq;", ("DROP SEQUENCE IF EXISTS sq;",)),
    (PG, "enum", "CREATE TYPE mood AS ENUM ('ok', 'sad');", ("DROP TYPE IF EXISTS mood;",)),
    (PG, "composite type", "CREATE TYPE pair AS (a int, b int);", ("DROP TYPE pair;",)),
    (PG, "domain", "CREATE DOMAIN d AS int;", ("DROP DOMAIN d;",)),
    (PG, "function", _PG_FUNCTION,
     ("DROP FUNCTION IF EXISTS f (a int);", "DROP FUNCTION f(int);", "DROP FUNCTION f;",
      "DROP FUNCTION public.f(a int);")),
    (PG, "schema-qualified function", "CREATE OR REPLACE FUNCTION app.g() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;",
     ("DROP FUNCTION app.g();", "DROP FUNCTION IF EXISTS g ();")),
    (PG, "quoted function", 'CREATE FUNCTION "Calc"(a int) RETURNS int AS $$ SELECT a $$ LANGUAGE sql;',
     ('DROP FUNCTION "Calc"(int);',)),
    (PG, "procedure", "CREATE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$;", ("DROP PROCEDURE IF EXISTS p();",)),
    (PG, "trigger", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();",
     ("DROP TRIGGER IF EXISTS tr ON t;",)),
    (PG, "schema", "CREATE SCHEMA app;", ("DROP SCHEMA app;", "DROP SCHEMA IF EXISTS app CASCADE;")),
    (PG, "schema and its table", "CREATE SCHEMA app;\nCREATE TABLE app.t (id int);", ("DROP SCHEMA app CASCADE;",)),
    (PG, "role", "CREATE ROLE reader;", ("DROP ROLE IF EXISTS reader;",)),
    (PG, "user", "CREATE USER flipr;", ("DROP USER flipr;", "DROP ROLE flipr;")),
    (PG, "extension", "CREATE EXTENSION IF NOT EXISTS pg_trgm;", ("DROP EXTENSION IF EXISTS pg_trgm;",)),
    (MY, "table", "CREATE TABLE t (id int);", ("DROP TABLE IF EXISTS `t`;",)),
    (MY, "view", "CREATE OR REPLACE ALGORITHM=MERGE VIEW v AS SELECT 1 AS one;", ("DROP VIEW IF EXISTS v;",)),
    (MY, "index", "CREATE INDEX i ON t (a);", ("DROP INDEX i ON t;", "ALTER TABLE t DROP INDEX i;")),
    (MY, "sequence (MariaDB)", "CREATE SEQUENCE sq;", ("DROP SEQUENCE IF EXISTS sq;",)),
    (MY, "function", "CREATE FUNCTION f (a int) RETURNS int DETERMINISTIC RETURN a;", ("DROP FUNCTION IF EXISTS f;",)),
    (MY, "procedure in a DELIMITER block", _MY_PROCEDURE, ("DROP PROCEDURE IF EXISTS `p`;",)),
    (MY, "procedure with a definer", "CREATE DEFINER=`root`@`%` PROCEDURE app.p() SELECT 1;",
     ("DROP PROCEDURE app.p;",)),
    (MY, "trigger", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;",
     ("DROP TRIGGER IF EXISTS tr;",)),
    (MY, "event", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE a < 0;", ("DROP EVENT IF EXISTS e;",)),
    (MY, "schema", "CREATE SCHEMA app;", ("DROP DATABASE app;", "DROP SCHEMA IF EXISTS app;")),
    (MY, "user", "CREATE USER 'flipr'@'%' IDENTIFIED BY 'x';",
     ("DROP USER 'flipr'@'%';", "DROP USER IF EXISTS flipr;")),
)

_NOTHING = "SELECT 1;"


def undone() -> tuple[Case, ...]:
    """The rollback drops exactly what the forward created: no finding."""
    return tuple(Case(create, False, drop, dialect, f"{dialect} {what}: {drop}")
                 for dialect, what, create, drops in PAIRS for drop in drops)


def left_behind() -> tuple[Case, ...]:
    """The rollback runs but drops nothing: the created object stays."""
    return tuple(Case(create, True, _NOTHING, dialect, f"{dialect} {what} left behind")
                 for dialect, what, create, _ in PAIRS)


def foreign_drops() -> tuple[Case, ...]:
    """The rollback drops an object the forward change never created."""
    return tuple(Case(_NOTHING, True, drops[0], dialect, f"{dialect} {what} dropped, never created")
                 for dialect, what, _, drops in PAIRS)


def redefined() -> tuple[Case, ...]:
    """The rollback redefines what the forward replaced (CREATE OR REPLACE / DROP + CREATE)."""
    pg = "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT {} $$ LANGUAGE sql;"
    my = ("DELIMITER //\nDROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT {};\nEND\n//\n"
          "DELIMITER ;")
    return (Case(pg.format(2), False, pg.format(1), PG, "postgresql function replaced, old body restored"),
            Case(my.format(2), False, my.format(1), MY, "mysql procedure dropped and recreated in a DELIMITER block"))


def chunks() -> tuple[Case, ...]:
    """MySQL DELIMITER chunks holding several statements: the splitter (dualpath.sql) cuts them into the
    statements the server runs, so what comes before or after a routine is read as its own statement."""
    after = ("DELIMITER //\nDROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND;\n"
             "CREATE TABLE log (id int) //\nDELIMITER ;")
    no_begin = ("DELIMITER $$\nCREATE PROCEDURE p() IF 1 THEN SELECT 1; END IF; CREATE TABLE log (id int)$$\n"
                "DELIMITER ;")
    undo = "DROP TABLE log;\nDROP PROCEDURE IF EXISTS p;"
    return (Case(after, False, undo, MY, "mysql: a table created after a procedure in the same DELIMITER chunk"),
            Case(no_begin, False, undo, MY, "mysql: a procedure whose body is IF ... END IF, then a table, in "
                                            "one DELIMITER chunk"))


def renamed() -> tuple[Case, ...]:
    """Objects keep being the change's own under a new name; an index goes with its (materialized) view."""
    return (
        Case("ALTER TABLE a ADD COLUMN c int;\nALTER TABLE a RENAME TO b;", False,
             "ALTER TABLE b DROP COLUMN c;\nALTER TABLE b RENAME TO a;", PG, "column added, then its table renamed"),
        Case("SELECT 1;", False, "ALTER TYPE mood RENAME TO mood__;\nCREATE TYPE mood AS ENUM ('ok');\n"
             "DROP TYPE mood__;", PG, "rollback swaps an enum: drops what it renamed itself"),
        Case("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id;\nCREATE UNIQUE INDEX mv_id ON mv (id);", False,
             "DROP MATERIALIZED VIEW mv;", PG, "index on a materialized view goes with it"),
        Case("CREATE TABLE t (id int);\nALTER TABLE t RENAME COLUMN id TO key;", False, "DROP TABLE t;", PG,
             "renamed column of its own table"),
        Case("ALTER TABLE a ADD COLUMN c int;\nALTER TABLE a RENAME COLUMN c TO d;", False,
             "ALTER TABLE a DROP COLUMN d;", MY, "mysql: column added, then renamed"),
    )
