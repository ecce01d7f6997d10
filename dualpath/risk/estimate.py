"""How many rows a data change touches, as the server's planner sees it (``lint --url``).

The statement itself is not explained (its SET may name a column the change adds first): its
row source is, as ``SELECT 1 FROM <tables> WHERE <condition>``, inside a read-only transaction
that is rolled back at once, under short lock and statement timeouts. Nothing runs; a statement
that cannot be estimated gives None and the rule says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dualpath.risk.live import TableSize
from dualpath.risk.names import same_name
from dualpath.risk.schema import Estimate
from dualpath.sql.lexemes import Lexeme, index_of, lexemes, top_words

_PG_SETUP = ("SET TRANSACTION READ ONLY", "SET LOCAL lock_timeout = '2s'", "SET LOCAL statement_timeout = '10s'")
_MY_SETUP = ("SET SESSION lock_wait_timeout = 2",)  # EXPLAIN of a SELECT does not run it


def estimator(conn: Connection, family: str, sizes: dict[str, TableSize]) -> Callable[[str], Estimate | None]:
    """A function that estimates one data-change statement on ``conn``."""
    cache: dict[str, Estimate | None] = {}

    def estimate(statement: str) -> Estimate | None:
        if statement not in cache:
            cache[statement] = _estimate(conn, family, sizes, statement)
        return cache[statement]

    return estimate


def _estimate(conn: Connection, family: str, sizes: dict[str, TableSize], statement: str) -> Estimate | None:
    built = pg_row_source(statement) if family == "postgresql" else mysql_row_source(statement)
    if built is None:
        return None
    query, limit = built
    try:
        if family == "postgresql":
            for setting in _PG_SETUP:
                conn.execute(text(setting))
            plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {query}")).scalar()
        else:
            for setting in _MY_SETUP:
                conn.execute(text(setting))
            plan = conn.execute(text(f"EXPLAIN FORMAT=JSON {query}")).scalar()
    except DBAPIError:
        return None
    finally:
        conn.rollback()
    tree = json.loads(plan) if isinstance(plan, str) else plan
    rows, scanned, tables = _pg_plan(tree) if family == "postgresql" else _mysql_plan(tree)
    if not tables:  # reads no table (VALUES, functions): a handful of rows
        return Estimate(rows=rows, table_rows=0.0, full_scan=False)
    total = max((s.rows for name, s in sizes.items() for t in tables if same_name(name, t)), default=0)
    if total <= 0:
        return None
    return Estimate(rows=min(rows, limit) if limit is not None else rows, table_rows=float(total),
                    full_scan=any(scanned))


def pg_row_source(statement: str) -> tuple[str, int | None] | None:
    """``SELECT 1 FROM ... WHERE ...`` for an UPDATE or DELETE, the SELECT of an INSERT ... SELECT."""
    from pglast import ast, parse_sql
    from pglast.stream import RawStream

    try:
        nodes = parse_sql(statement)
    except Exception:  # noqa: BLE001 - pglast raises its own ParseError and, rarely, others
        return None
    if len(nodes) != 1:
        return None
    node = nodes[0].stmt
    if isinstance(node, ast.InsertStmt):
        return (RawStream()(node.selectStmt), None) if isinstance(node.selectStmt, ast.SelectStmt) else None
    if not isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        return None
    more = getattr(node, "fromClause", None) or getattr(node, "usingClause", None) or ()
    select = ast.SelectStmt(targetList=(ast.ResTarget(val=ast.A_Const(val=ast.Integer(1))),),
                            fromClause=(node.relation, *more), whereClause=node.whereClause,
                            withClause=node.withClause)
    return RawStream()(select), None


def mysql_row_source(statement: str) -> tuple[str, int | None] | None:
    """The same for MySQL/MariaDB, cut out of the statement's own text; LIMIT caps the rows."""
    try:
        tokens = lexemes(statement, "mysql")
    except Exception:  # noqa: BLE001 - an unreadable statement is simply not estimated
        return None
    words = top_words(tokens)
    if not words or words[0] not in ("UPDATE", "DELETE", "INSERT", "REPLACE"):
        return None
    if words[0] in ("INSERT", "REPLACE"):
        at = index_of(tokens, "SELECT")
        return (statement[tokens[at].offset:].rstrip().rstrip(";"), None) if at >= 0 else None
    start = index_of(tokens, "FROM") + 1 if words[0] == "DELETE" else 1
    end = index_of(tokens, "SET") if words[0] == "UPDATE" else _first(tokens, ("WHERE", "ORDER", "LIMIT"))
    where = index_of(tokens, "WHERE")
    stop = _first(tokens, ("ORDER", "LIMIT"))
    if start <= 0 or end <= start:
        return None
    tables = statement[tokens[start].offset:tokens[end].offset if end < len(tokens) else len(statement)]
    condition = ""
    if where >= 0:
        until = tokens[stop].offset if stop < len(tokens) else len(statement)
        condition = " WHERE " + statement[tokens[where + 1].offset:until].rstrip().rstrip(";")
    limit = _limit(tokens)
    return f"SELECT 1 FROM {tables.strip()}{condition}", limit


def _first(tokens: list[Lexeme], words: tuple[str, ...]) -> int:
    found = [i for i in (index_of(tokens, w) for w in words) if i >= 0]
    return min(found) if found else len(tokens)


def _limit(tokens: list[Lexeme]) -> int | None:
    at = index_of(tokens, "LIMIT")
    if at >= 0 and at + 1 < len(tokens) and tokens[at + 1].kind == "number":
        return int(tokens[at + 1].text)
    return None


def _pg_plan(tree: Any) -> tuple[float, list[bool], list[str]]:
    top = tree[0]["Plan"]
    scans: list[bool] = []
    tables: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            tables.append(f"{node.get('Schema', '')}.{node['Relation Name']}".lstrip("."))
            scans.append(node.get("Node Type") == "Seq Scan")
        for child in node.get("Plans", ()):
            walk(child)

    walk(top)
    return float(top.get("Plan Rows", 0)), scans, tables


def _mysql_plan(tree: Any) -> tuple[float, list[bool], list[str]]:
    block = tree.get("query_block", {})
    steps = block.get("nested_loop") or [block]
    rows, scans, tables = 1.0, [], []
    for step in steps:
        table = step.get("table")
        if not table:
            continue
        rows *= float(table.get("rows", 0)) * float(table.get("filtered", 100)) / 100
        scans.append(table.get("access_type") == "ALL")
        tables.append(str(table.get("table_name", "")))
    return (rows if tables else 0.0), scans, tables
