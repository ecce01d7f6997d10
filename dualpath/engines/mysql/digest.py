"""MySQL/MariaDB: a digest of the schema objects one statement names, for the statement journal.

Before a statement that commits on its own runs, its journal row records a digest of the schema; a
run killed in that statement leaves the row "started", and the next run compares the digest again:
changed means the statement took effect (one DDL statement is atomic here). The whole schema's
fingerprint costs a dozen information_schema reads that open every table's definition, so on a
folder of hundreds of changes it was most of an apply's time, growing with the schema.

A DDL statement (CREATE, ALTER, DROP, RENAME, TRUNCATE) changes only objects it names, so the digest
reads only objects carrying one of the statement's names, and only the kind the statement is about:
for a table (or index) statement the named tables that exist, then ``SHOW CREATE TABLE`` of each (the
server's own full account of columns, indexes, keys with their rules, checks, options; the
AUTO_INCREMENT counter left out); for a view, routine or trigger its catalog rows; for anything else
every kind of object. information_schema is filtered by name before a table is opened, so this costs
the same on ten tables or a thousand. It is at least as sensitive to the statement's own effect as
the whole-schema fingerprint, and blind to changes elsewhere, so another session's DDL between the
kill and the next run cannot pass for this statement's effect. Any other statement (CALL, EXECUTE:
SQL that runs SQL it does not spell; MariaDB sequences, whose state is read from the sequence itself;
MySQL's executable ``/*! ... */`` comments) keeps the whole-schema fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, bindparam, text

from dualpath.engines.base import SCOPED_DIGEST as SCOPED
from dualpath.errors import InputError

_VERBS = {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"}
_MAX_NAMES = 2000  # beyond this the query text itself would cost more than reading the whole schema

_HERE = "{schema} = DATABASE() AND {name} IN :names"
# (kind, JSON of the attributes the whole-schema fingerprint compares, the filter on the statement's names)
_PARTS = (
    ("table", "TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT", "TABLES",
     _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("view", "TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION", "VIEWS",
     _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("column", "TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
               "GENERATION_EXPRESSION, COLLATION_NAME, COLUMN_COMMENT", "COLUMNS",
     _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("index", "TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, COLLATION, NON_UNIQUE, INDEX_TYPE, "
              "INDEX_COMMENT", "STATISTICS", _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("constraint", "TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE", "TABLE_CONSTRAINTS",
     _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("key", "TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION, REFERENCED_TABLE_NAME, "
            "REFERENCED_COLUMN_NAME", "KEY_COLUMN_USAGE", _HERE.format(schema="TABLE_SCHEMA", name="TABLE_NAME")),
    ("rule", "TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE", "REFERENTIAL_CONSTRAINTS",
     _HERE.format(schema="CONSTRAINT_SCHEMA", name="TABLE_NAME")),
    ("routine", "ROUTINE_TYPE, ROUTINE_NAME, DTD_IDENTIFIER, MD5(ROUTINE_DEFINITION), IS_DETERMINISTIC, "
                "SQL_DATA_ACCESS, SECURITY_TYPE", "ROUTINES",
     _HERE.format(schema="ROUTINE_SCHEMA", name="ROUTINE_NAME")),
    ("parameter", "SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER",
     "PARAMETERS", _HERE.format(schema="SPECIFIC_SCHEMA", name="SPECIFIC_NAME")),
    ("trigger", "TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, "
                "MD5(ACTION_STATEMENT)", "TRIGGERS",
     "TRIGGER_SCHEMA = DATABASE() AND (TRIGGER_NAME IN :names OR EVENT_OBJECT_TABLE IN :names)"),
)
# MariaDB keeps each CHECK clause with its table; MySQL 8 has no TABLE_NAME there (its constraint
# rows above still change when a check is added or dropped)
_MARIADB_CHECKS = ("check", "TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE", "CHECK_CONSTRAINTS",
                   _HERE.format(schema="CONSTRAINT_SCHEMA", name="TABLE_NAME"))


_KINDS = {"TABLE": "table", "INDEX": "table", "VIEW": "view", "PROCEDURE": "routine", "FUNCTION": "routine",
          "TRIGGER": "trigger"}
_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")  # the next id: rows inserted meanwhile move it


def named_objects(sql: str) -> tuple[str, list[str]] | None:
    """What ``sql`` is about (table, view, routine, trigger, or "any") and every name it spells, quoted or
    not (keywords too: a superset costs nothing), when it is DDL whose effect stays within what it
    names; None otherwise (then the whole schema is digested)."""
    from dualpath.sql.tokens import BLOCK_COMMENT, QUOTED, WORD, lex  # only where statements run

    try:
        tokens = lex(sql, file="<statement>", dialect="mysql")
    except InputError:
        return None
    names: dict[str, str] = {}
    kind = None
    for token in tokens:
        if token.kind == BLOCK_COMMENT and token.significant:
            return None  # /*! ... */ runs as code, and its names are not read here
        if token.kind == WORD:
            name = sql[token.start:token.end]
            kind = kind or _KINDS.get(name.upper())  # the first object word: CREATE [OR REPLACE ...] VIEW
        elif token.kind == QUOTED:
            quote = sql[token.start]
            name = sql[token.start + 1:token.end - 1].replace(quote * 2, quote)
        else:
            continue
        names.setdefault(name.lower(), name)  # information_schema compares names case-insensitively
    words = [name.upper() for name in names.values()]
    if not words or words[0] not in _VERBS or "SEQUENCE" in words or len(names) > _MAX_NAMES:
        return None
    if words[0] in ("RENAME", "TRUNCATE"):
        kind = "table"
    return kind or "any", list(names.values())


def scoped_digest(conn: Connection, kind: str, names: list[str], mariadb: bool) -> str:
    """A digest of the objects of ``kind`` carrying one of ``names`` in the current database; marked SCOPED."""
    if kind == "table":
        rows = _tables(conn, names)
    else:
        chosen = {"view": ("table", "view"), "routine": ("routine", "parameter"), "trigger": ("trigger",)}.get(kind)
        parts = [p for p in (*_PARTS, *((_MARIADB_CHECKS,) if mariadb else ())) if chosen is None or p[0] in chosen]
        rows = _catalog(conn, parts, names)
    digest = hashlib.sha256()
    for part, attrs in sorted(rows):
        digest.update(f"{part}\t{attrs}\n".encode())
    return SCOPED + digest.hexdigest()[: 64 - len(SCOPED)]  # the journal's column holds 64 characters


def _catalog(conn: Connection, parts: Sequence[tuple[str, str, str, str]], names: list[str]) -> list[tuple[str, str]]:
    """One query: the catalog rows of ``parts`` whose names are among ``names``, as (part, JSON)."""
    query = " UNION ALL ".join(f"SELECT '{part}' AS part, JSON_ARRAY({columns}) AS attrs "
                               f"FROM information_schema.{table} WHERE {where}"
                               for part, columns, table, where in parts)
    rows = conn.execute(text(query).bindparams(bindparam("names", expanding=True)), {"names": names}).all()
    return [(str(part), str(attrs)) for part, attrs in rows]


def _tables(conn: Connection, names: list[str]) -> list[tuple[str, str]]:
    """The named tables (and views) that exist, then the server's CREATE TABLE of each base table."""
    rows = _catalog(conn, [_PARTS[0]], names)
    found: list[tuple[str, str]] = list(rows)
    for _, attrs in rows:
        name, kind = json.loads(attrs)[:2]
        if kind in ("BASE TABLE", "SYSTEM VERSIONED"):
            quoted = "`" + str(name).replace("`", "``") + "`"
            created = conn.exec_driver_sql(f"SHOW CREATE TABLE {quoted}").one()[1]
            found.append(("create", _AUTO_INCREMENT.sub("", str(created))))
    return found


def statement_digest(conn: Connection, sql: str, mariadb: bool, whole: Callable[[], str]) -> str:
    """The scoped digest where ``sql`` allows one, else ``whole()`` (the whole schema's)."""
    scope = named_objects(sql)
    return whole() if scope is None else scoped_digest(conn, *scope, mariadb)
