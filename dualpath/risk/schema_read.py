"""Read the facts of ``Schema`` from a live server: catalog queries only, nothing locks a user table."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text

from dualpath.risk.schema import Check, Column, Schema, Sequence

_PG_COLUMNS = """
SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey::int2[])),
       t.typtype, pg_get_expr(d.adbin, d.adrelid), a.attnum,
       CASE WHEN a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
            THEN pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_PG_INDEX_EXPRESSIONS = """
SELECT n.nspname || '.' || c.relname, pg_get_expr(i.indexprs, i.indrelid) FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indexprs IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_PG_CHECKS = """
SELECT n.nspname || '.' || c.relname, con.conname, con.convalidated, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'c' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_PG_PARTITION_KEYS = """
SELECT n.nspname || '.' || c.relname, pg_get_partkeydef(c.oid) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p'
"""
_PG_SEQUENCES = "SELECT schemaname || '.' || sequencename, start_value, last_value FROM pg_sequences"
_PG_DOMAINS = """
SELECT n.nspname || '.' || t.typname, string_agg(cn.nspname || '.' || c.relname || '.' || a.attname, ',')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_attribute a ON a.atttypid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
LEFT JOIN pg_namespace cn ON cn.oid = c.relnamespace
WHERE t.typtype = 'd' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
GROUP BY 1
"""
_MY_COLUMNS = """
SELECT table_schema, table_name, column_name, column_type, is_nullable, column_default, character_set_name,
       column_comment, extra, ordinal_position
FROM information_schema.columns WHERE table_schema = DATABASE()
"""
_MY_CHARSETS = """
SELECT t.table_schema, t.table_name, c.character_set_name, t.engine FROM information_schema.tables t
JOIN information_schema.collation_character_set_applicability c ON c.collation_name = t.table_collation
WHERE t.table_schema = DATABASE()
"""
_MY_INDEXES = """
SELECT table_schema, table_name, column_name, index_type FROM information_schema.statistics
WHERE table_schema = DATABASE()
"""


def read_schema(conn: Connection, family: str, flavor: str, version: tuple[int, ...]) -> Schema:
    schema = Schema(flavor=flavor, version=version)
    if family == "postgresql":
        _read_postgresql(conn, schema)
    elif family == "mysql":
        _read_mysql(conn, schema)
    conn.rollback()
    return schema


def _rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql)).all())


def _read_postgresql(conn: Connection, schema: Schema) -> None:
    expressions: dict[str, str] = {}
    for table, expr in _rows(conn, _PG_INDEX_EXPRESSIONS):
        expressions[table] = f"{expressions.get(table, '')} {expr}"
    for table, name, typ, nullable, indexed, kind, default, position, sequence in _rows(conn, _PG_COLUMNS):
        in_expression = bool(re.search(rf"\b{re.escape(name)}\b", expressions.get(table, "")))
        schema.columns.setdefault(table.lower(), {})[name.lower()] = Column(
            table=table.lower(), name=name.lower(), type=typ, nullable=bool(nullable),
            indexed=bool(indexed) or in_expression, default=default, kind=kind, position=int(position),
            sequence=sequence.lower() if sequence else None)
    for table, name, validated, expression in _rows(conn, _PG_CHECKS):
        schema.checks.setdefault(table.lower(), []).append(Check(table.lower(), name.lower(), bool(validated),
                                                                 expression))
    for table, key in _rows(conn, _PG_PARTITION_KEYS):
        inside = key[key.find("(") + 1: key.rfind(")")]
        schema.partition_keys[table.lower()] = [part.strip().strip('"').lower() for part in inside.split(",")]
    for name, start, last in _rows(conn, _PG_SEQUENCES):
        schema.sequences[name.lower()] = Sequence(name.lower(), int(start), None if last is None else int(last))
    for domain, users in _rows(conn, _PG_DOMAINS):
        schema.domains[domain.lower()] = [u.lower() for u in (users or "").split(",") if u]
    schema.settings["timezone"] = str(conn.execute(text("SHOW TimeZone")).scalar() or "")


def _read_mysql(conn: Connection, schema: Schema) -> None:
    indexed: set[tuple[str, str]] = set()
    for db, table, column, index_type in _rows(conn, _MY_INDEXES):
        key = f"{db}.{table}".lower()
        indexed.add((key, str(column).lower()))
        if str(index_type).upper() == "FULLTEXT":
            schema.fulltext.add(key)
    for db, table, name, typ, nullable, default, charset, comment, extra, position in _rows(conn, _MY_COLUMNS):
        key = f"{db}.{table}".lower()
        schema.columns.setdefault(key, {})[str(name).lower()] = Column(
            table=key, name=str(name).lower(), type=str(typ).lower(), nullable=nullable == "YES",
            indexed=(key, str(name).lower()) in indexed, default=default, charset=charset,
            comment=comment or "", extra=str(extra or "").lower(), position=int(position))
    for db, table, charset, engine in _rows(conn, _MY_CHARSETS):
        schema.charsets[f"{db}.{table}".lower()] = str(charset).lower()
        schema.engines[f"{db}.{table}".lower()] = str(engine or "").lower()
    schema.settings["sql_mode"] = str(conn.execute(text("SELECT @@SESSION.sql_mode")).scalar() or "")
