"""Shared by the DP015 and DP016 fixes: build the unique index concurrently, then attach it."""

from __future__ import annotations

from dualpath.risk.context import Item
from dualpath.risk.fixes import Rewrite, Skip, name_for, one_alter_command, quote_ident, relation_sql

_KEYWORDS = {"CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY"}


def concurrent_index_then_constraint(item: Item, contype: str) -> Rewrite | Skip:
    from pglast.enums import AlterTableType as AT

    parsed = one_alter_command(item.statement.text)
    if isinstance(parsed, Skip):
        return parsed
    stmt, cmd = parsed
    con = cmd.def_
    if cmd.subtype != AT.AT_AddConstraint or con.contype.name != contype or con.indexname:
        return Skip("not an ADD CONSTRAINT this fix knows")
    if con.including or con.options or con.indexspace or con.nulls_not_distinct or con.without_overlaps:
        return Skip("the constraint has index options (INCLUDE, WITH, TABLESPACE, ...): rewrite it by hand")
    keys = [str(k.sval) for k in con.keys or ()]
    table = str(stmt.relation.relname)
    name = str(con.conname) if con.conname else (
        name_for(table, "pkey") if contype == "CONSTR_PRIMARY" else name_for(table, *keys, "key"))
    rel, ident = relation_sql(stmt.relation), quote_ident(name)
    columns = ", ".join(quote_ident(k) for k in keys)
    timing = (" DEFERRABLE" if con.deferrable else "") + (" INITIALLY DEFERRED" if con.initdeferred else "")
    return Rewrite((f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {ident} ON {rel} ({columns})",
                    f"ALTER TABLE {rel} ADD CONSTRAINT {ident} {_KEYWORDS[contype]} USING INDEX {ident}{timing}"),
                   no_transaction=True)
