"""MySQL and MariaDB catalog readers (information_schema): what the schema fingerprint holds
(engines/fingerprint.py), one reader per kind of object."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterator
from typing import Any

from sqlalchemy import Connection, text

from dualpath.engines.fingerprint import Entry, body_hash, normalize_sql


def mappings(conn: Connection, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts with upper-case keys (MySQL 8 and MariaDB differ in the case they return)."""
    return [{k.upper(): v for k, v in row.items()} for row in conn.execute(text(sql)).mappings()]


_HERE = "TABLE_SCHEMA = DATABASE()"


def _relations(conn: Connection, database: str, quote: Any) -> Generator[Entry, None, set[str]]:
    # Returns the base tables so that columns of views are not listed as table columns.
    views = {r["TABLE_NAME"]: r for r in mappings(conn, f"SELECT * FROM information_schema.VIEWS WHERE {_HERE}")}
    tables: set[str] = set()
    for row in mappings(conn, f"SELECT * FROM information_schema.TABLES WHERE {_HERE}"):
        name, kind = row["TABLE_NAME"], row["TABLE_TYPE"]
        if kind == "VIEW":
            view = views.get(name, {})
            # MariaDB qualifies every name with the database: strip it so a shadow copy compares equal.
            definition = str(view.get("VIEW_DEFINITION") or "").replace(f"{quote(database)}.", "")
            yield "view", name, {"definition": normalize_sql(definition),
                                 "check_option": view.get("CHECK_OPTION")}
        elif kind == "SEQUENCE":
            yield "sequence", name, _sequence(conn, quote(name))
        else:
            tables.add(name)
            yield "table", name, {"engine": row.get("ENGINE"), "collation": row.get("TABLE_COLLATION"),
                                  "comment": row.get("TABLE_COMMENT") or None,
                                  "versioned": kind == "SYSTEM VERSIONED"}
    return tables


def _sequence(conn: Connection, quoted: str) -> dict[str, Any]:
    row = conn.exec_driver_sql(f"SELECT minimum_value, maximum_value, start_value, increment, "
                               f"cache_size, cycle_option FROM {quoted}").mappings().first()
    return dict(row) if row else {}


def _columns(conn: Connection, tables: set[str]) -> Iterator[Entry]:
    for row in mappings(conn, f"SELECT * FROM information_schema.COLUMNS WHERE {_HERE}"):
        if row["TABLE_NAME"] not in tables:
            continue
        default = row.get("COLUMN_DEFAULT")
        if default == "NULL" and row["IS_NULLABLE"] == "YES":  # MariaDB spells "no default" as NULL
            default = None
        yield "column", f"{row['TABLE_NAME']}.{row['COLUMN_NAME']}", {
            "table": row["TABLE_NAME"], "type": row["COLUMN_TYPE"], "nullable": row["IS_NULLABLE"] == "YES",
            "default": default, "extra": row.get("EXTRA") or None,
            "generated": row.get("GENERATION_EXPRESSION") or None,
            "collation": row.get("COLLATION_NAME"), "comment": row.get("COLUMN_COMMENT") or None}


def _indexes(conn: Connection) -> Iterator[Entry]:
    # UNIQUE constraints are unique indexes here; PRIMARY is listed as a constraint.
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in mappings(conn, f"SELECT * FROM information_schema.STATISTICS WHERE {_HERE}"):
        if row["INDEX_NAME"] != "PRIMARY":
            grouped[(row["TABLE_NAME"], row["INDEX_NAME"])].append(row)
    for (table, index), parts in grouped.items():
        parts.sort(key=lambda r: r["SEQ_IN_INDEX"])
        yield "index", f"{table}.{index}", {
            "table": table, "columns": [_index_part(p) for p in parts],
            "unique": not int(parts[0]["NON_UNIQUE"]), "method": parts[0].get("INDEX_TYPE"),
            "comment": parts[0].get("INDEX_COMMENT") or None}


def _index_part(row: dict[str, Any]) -> str:
    part = row["COLUMN_NAME"] or f"({row.get('EXPRESSION')})"  # MySQL 8 functional key parts
    if row.get("SUB_PART"):
        part += f"({row['SUB_PART']})"
    return part + (" DESC" if row.get("COLLATION") == "D" else "")


def _constraints(conn: Connection) -> Iterator[Entry]:
    keys: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in mappings(conn, "SELECT * FROM information_schema.KEY_COLUMN_USAGE WHERE "
                               "TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION"):
        keys[(row["TABLE_NAME"], row["CONSTRAINT_NAME"])].append(row)
    rules = {(r["TABLE_NAME"], r["CONSTRAINT_NAME"]): r for r in mappings(
        conn, "SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    checks = {(r.get("TABLE_NAME"), r["CONSTRAINT_NAME"]): r["CHECK_CLAUSE"] for r in mappings(
        conn, "SELECT * FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    for row in mappings(conn, f"SELECT * FROM information_schema.TABLE_CONSTRAINTS WHERE {_HERE}"):
        table, name, kind = row["TABLE_NAME"], row["CONSTRAINT_NAME"], row["CONSTRAINT_TYPE"]
        attrs: dict[str, Any] = {"table": table, "type": kind.lower(), "enforced": row.get("ENFORCED")}
        columns = ", ".join(k["COLUMN_NAME"] for k in keys.get((table, name), []))
        if kind == "PRIMARY KEY":
            attrs["definition"] = f"PRIMARY KEY ({columns})"
        elif kind == "FOREIGN KEY":
            parts = keys.get((table, name), [])
            target = parts[0]["REFERENCED_TABLE_NAME"] if parts else None
            ref_cols = ", ".join(str(k["REFERENCED_COLUMN_NAME"]) for k in parts)
            rule = rules.get((table, name), {})
            attrs |= {"definition": f"FOREIGN KEY ({columns}) REFERENCES {target} ({ref_cols})",
                      "on_delete": rule.get("DELETE_RULE"), "on_update": rule.get("UPDATE_RULE")}
        elif kind == "CHECK":
            clause = checks.get((table, name), checks.get((None, name)))
            attrs["definition"] = f"CHECK ({normalize_sql(str(clause))})"
        else:
            continue  # UNIQUE: listed with the indexes
        yield "constraint", f"{table}.{name}", attrs


def _routines(conn: Connection) -> Iterator[Entry]:
    params: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in mappings(conn, "SELECT * FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE() "
                             "AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION"):
        mode = f"{p['PARAMETER_MODE']} " if p.get("PARAMETER_MODE") and p["ROUTINE_TYPE"] == "PROCEDURE" else ""
        params[(p["ROUTINE_TYPE"], p["SPECIFIC_NAME"])].append(f"{mode}{p['PARAMETER_NAME']} {p['DTD_IDENTIFIER']}")
    for r in mappings(conn, "SELECT * FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"):
        kind = r["ROUTINE_TYPE"]
        args = ", ".join(params.get((kind, r["SPECIFIC_NAME"]), []))
        yield "function", f"{r['ROUTINE_NAME']}({args})", {
            "kind": kind.lower(), "returns": r.get("DTD_IDENTIFIER"),
            "deterministic": r.get("IS_DETERMINISTIC") == "YES", "data_access": r.get("SQL_DATA_ACCESS"),
            "security": r.get("SECURITY_TYPE"), "body_sha256": body_hash(r.get("ROUTINE_DEFINITION"))}


def _triggers(conn: Connection) -> Iterator[Entry]:
    for t in mappings(conn, "SELECT * FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"):
        table = t["EVENT_OBJECT_TABLE"]
        yield "trigger", f"{table}.{t['TRIGGER_NAME']}", {
            "table": table, "timing": t["ACTION_TIMING"], "event": t["EVENT_MANIPULATION"],
            "order": t.get("ACTION_ORDER"), "body_sha256": body_hash(t.get("ACTION_STATEMENT"))}


def introspect(conn: Connection, quote: Any) -> Iterator[Entry]:
    """Every object of the current database (DATABASE()), kind by kind."""
    database = conn.execute(text("SELECT DATABASE()")).scalar() or ""
    tables = yield from _relations(conn, database, quote)
    yield from _columns(conn, tables)
    yield from _indexes(conn)
    yield from _constraints(conn)
    yield from _routines(conn)
    yield from _triggers(conn)
