"""Restrict a user's UPDATE, DELETE or INSERT ... SELECT to one key range.

The statement is parsed (pglast for PostgreSQL, sqlglot for MySQL/MariaDB and SQLite), a
sentinel column is ANDed into the WHERE that reads the batched table (for INSERT ... SELECT,
the SELECT's WHERE), and the statement is printed back. The sentinel is then replaced by the
key-range predicate with bind parameters. Parsing, rather than a placeholder the author must
write, means any statement works as written, and an alias or a join is qualified correctly.
"""

from __future__ import annotations

import re
from typing import Any

from dualpath.errors import InputError

SENTINEL = "dualpath_key_range__"
# SQLAlchemy's text() reads ':name' as a bind parameter; a user's ':' must be escaped (see sqlalchemy.sql.compiler).
_BIND_LIKE = re.compile(r"(?<![:\w\\]):(?=\w)")
_FIX = "write one UPDATE, DELETE or INSERT ... SELECT that reads the batch table once"


class RewriteError(ValueError):
    """The statement cannot be restricted to a key range; the message says why."""


# -- PostgreSQL ----------------------------------------------------------------------------


def restrict_with_pglast(sql: str, table: str, sentinel: str) -> tuple[str, str]:
    """(statement with ``sentinel`` ANDed into the right WHERE, qualifier for the key columns)."""
    from pglast import ast, enums, parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        raise RewriteError(f"PostgreSQL cannot parse it: {exc}") from None
    if len(parsed) != 1:
        raise RewriteError("a batch directive applies to exactly one statement")
    stmt = parsed[0].stmt
    assert stmt is not None
    holder = _pg_where_holder(stmt, ast, enums)
    ranges = _pg_ranges(holder, stmt, ast)
    found = [r for r in ranges if _pg_matches(r, table)]
    if len(found) != 1:
        raise RewriteError(f"table {table} is read {len(found)} times by the statement; {_FIX}")
    target = found[0]
    qualifier = target.alias.aliasname if target.alias else target.relname
    marker = ast.ColumnRef(fields=(ast.String(sval=sentinel),))
    where = holder.whereClause
    holder.whereClause = marker if where is None else ast.BoolExpr(
        boolop=enums.BoolExprType.AND_EXPR, args=(where, marker))
    return str(RawStream()(stmt)), qualifier


def _pg_where_holder(stmt: Any, ast: Any, enums: Any) -> Any:
    if isinstance(stmt, ast.UpdateStmt | ast.DeleteStmt):
        return stmt
    if isinstance(stmt, ast.InsertStmt) and isinstance(stmt.selectStmt, ast.SelectStmt):
        select = stmt.selectStmt
        if select.valuesLists or select.op != enums.SetOperation.SETOP_NONE:
            raise RewriteError("INSERT ... VALUES or a UNION has no single source WHERE to restrict")
        return select
    raise RewriteError(f"only UPDATE, DELETE and INSERT ... SELECT can run in batches, not {type(stmt).__name__}")


def _pg_ranges(holder: Any, stmt: Any, ast: Any) -> list[Any]:
    items: list[Any] = []
    if isinstance(holder, ast.UpdateStmt):
        items = [holder.relation, *(holder.fromClause or ())]
    elif isinstance(holder, ast.DeleteStmt):
        items = [holder.relation, *(holder.usingClause or ())]
    else:
        items = list(holder.fromClause or ())
    return [r for item in items for r in _pg_flatten(item, ast)]


def _pg_flatten(item: Any, ast: Any) -> list[Any]:
    if isinstance(item, ast.RangeVar):
        return [item]
    if isinstance(item, ast.JoinExpr):
        return _pg_flatten(item.larg, ast) + _pg_flatten(item.rarg, ast)
    return []  # subqueries and functions in FROM are not the batch table


def _pg_matches(ref: Any, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return bool(ref.relname == name and (not schema or ref.schemaname in (None, schema)))


# -- MySQL/MariaDB and SQLite ----------------------------------------------------------------

_SQLGLOT_DIALECT = {"mysql": "mysql", "sqlite": "sqlite"}


def restrict_with_sqlglot(sql: str, table: str, sentinel: str, dialect: str) -> tuple[str, str]:
    """The same as restrict_with_pglast, for the dialects sqlglot reads and writes faithfully."""
    import sqlglot
    from sqlglot import exp

    read = _SQLGLOT_DIALECT.get(dialect, dialect)
    try:
        parsed = sqlglot.parse(sql, read=read)
    except sqlglot.errors.ParseError as exc:
        raise RewriteError(f"cannot parse it: {str(exc).splitlines()[0]}") from None
    if len(parsed) != 1 or parsed[0] is None:
        raise RewriteError("a batch directive applies to exactly one statement")
    stmt = parsed[0]
    holder = _glot_where_holder(stmt, exp)
    found = [t for t in _glot_tables(holder, exp) if _glot_matches(t, table)]
    if len(found) != 1:
        raise RewriteError(f"table {table} is read {len(found)} times by the statement; {_FIX}")
    qualifier = found[0].alias_or_name
    marker = exp.column(sentinel)
    where = holder.args.get("where")
    condition = marker if where is None else exp.and_(where.this, marker)
    holder.set("where", exp.Where(this=condition))
    return stmt.sql(dialect=read), qualifier


def _glot_where_holder(stmt: Any, exp: Any) -> Any:
    if isinstance(stmt, exp.Update | exp.Delete):
        return stmt
    if isinstance(stmt, exp.Insert):
        source = stmt.expression
        if isinstance(source, exp.Select):
            return source
        raise RewriteError("INSERT ... VALUES or a UNION has no single source WHERE to restrict")
    raise RewriteError(f"only UPDATE, DELETE and INSERT ... SELECT can run in batches, not {stmt.key.upper()}")


def _glot_tables(holder: Any, exp: Any) -> list[Any]:
    """Tables of the statement's own FROM/USING/JOINs, not of subqueries or CTEs."""
    nested = (exp.Select, exp.Subquery, exp.CTE, exp.With, exp.Union)
    tables: list[Any] = []
    for node in holder.find_all(exp.Table):
        if isinstance(node.parent, exp.Delete) and node.arg_key == "tables":
            continue  # MySQL's DELETE o FROM orders o: 'o' names a table listed again below
        parent, inside = node.parent, False
        while parent is not None and parent is not holder:
            inside = inside or isinstance(parent, nested)
            parent = parent.parent
        if not inside:
            tables.append(node)
    return tables


def _glot_matches(node: Any, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return bool(node.name.lower() == name.lower() and (not schema or node.db in ("", schema)))


# -- putting the range in --------------------------------------------------------------------


def place_range(rewritten: str, predicate: str, sentinel: str = SENTINEL) -> str:
    """Escape the user's ':' for text(), then put the predicate where the sentinel stands."""
    escaped = _BIND_LIKE.sub(r"\\:", rewritten)
    pattern = re.compile(r"[`\"]?" + re.escape(sentinel) + r"[`\"]?")
    if len(pattern.findall(escaped)) != 1:
        raise RewriteError("the rewritten statement lost its key-range marker")
    return pattern.sub(lambda _: f"({predicate})", escaped)


def restrict(sql: str, table: str, restrictor: Any, where: str) -> tuple[str, str]:
    """Run an engine's restrict_to_range, turning a RewriteError into an InputError at file:line."""
    if SENTINEL in sql:
        raise InputError(f"the statement may not use the name {SENTINEL}", where=where, hint="rename it")
    try:
        result: tuple[str, str] = restrictor(sql, table, SENTINEL)
    except RewriteError as exc:
        raise InputError(f"cannot run this statement in batches: {exc}", where=where, hint=_FIX) from None
    return result
