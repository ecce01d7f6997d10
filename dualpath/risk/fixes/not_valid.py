"""Shared by the DP004 and DP005 fixes: add a constraint NOT VALID, then VALIDATE it."""

from __future__ import annotations

from typing import Any

from dualpath.risk.context import Item
from dualpath.risk.fixes import Rewrite, Skip, name_for, one_alter_command, quote_ident, relation_sql


def not_valid_then_validate(item: Item, contype: str) -> Rewrite | Skip:
    from pglast.enums import AlterTableType as AT

    text = item.statement.text
    parsed = one_alter_command(text)
    if isinstance(parsed, Skip):
        return parsed
    stmt, cmd = parsed
    con = cmd.def_
    if cmd.subtype != AT.AT_AddConstraint or con.contype.name != contype or con.skip_validation:
        return Skip("not an ADD CONSTRAINT this fix knows")
    name = con.conname
    if not name:
        # name it the way PostgreSQL would, so VALIDATE can refer to it
        name = default_name(stmt.relation.relname, con)
        at = char_offset(text, con.location)
        text = f"{text[:at]}CONSTRAINT {quote_ident(name)} {text[at:]}"
    rel = relation_sql(stmt.relation)
    return Rewrite((f"{text} NOT VALID", f"ALTER TABLE {rel} VALIDATE CONSTRAINT {quote_ident(name)}"),
                   no_transaction=True)


def default_name(table: str, con: Any) -> str:
    from pglast import ast

    if con.contype.name == "CONSTR_FOREIGN":
        return name_for(table, *(str(a.sval) for a in con.fk_attrs or ()), "fkey")
    refs = [n.fields or () for n in walk(con.raw_expr) if isinstance(n, ast.ColumnRef)]
    column = next((f[-1].sval for f in refs if f and isinstance(f[-1], ast.String)), "")
    return name_for(table, str(column), "check")


def walk(node: Any) -> Any:
    from dualpath.risk.ops.pgnodes import walk as walk_nodes

    return walk_nodes(node)


def char_offset(text: str, location: int) -> int:
    """pglast locations count bytes of UTF-8."""
    return len(text.encode()[:location].decode(errors="ignore"))
