"""DP006: ``SET NOT NULL`` → validated ``CHECK (col IS NOT NULL)`` first, then SET NOT NULL, drop the check."""

from __future__ import annotations

from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import Fix, Known, Rewrite, Skip, name_for, one_alter_command, quote_ident, relation_sql
from dualpath.risk.model import Finding


class SetNotNullViaCheck(Fix):
    rules = ("DP006",)
    summary = ("SET NOT NULL → CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL, drop the check "
               "(PostgreSQL 12+), the change marked no-transaction")

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        from pglast.enums import AlterTableType as AT

        if ctx.catalogue.version < (12,):
            return Skip("PostgreSQL before 12 scans the table for SET NOT NULL even with a validated CHECK")
        parsed = one_alter_command(item.statement.text)
        if isinstance(parsed, Skip):
            return parsed
        stmt, cmd = parsed
        if cmd.subtype != AT.AT_SetNotNull:
            return Skip("not an ALTER COLUMN ... SET NOT NULL")
        rel, column = relation_sql(stmt.relation), str(cmd.name)
        check = quote_ident(name_for(str(stmt.relation.relname), column, "nn_check"))
        return Rewrite((f"ALTER TABLE {rel} ADD CONSTRAINT {check} CHECK ({quote_ident(column)} IS NOT NULL) NOT VALID",
                        f"ALTER TABLE {rel} VALIDATE CONSTRAINT {check}",
                        item.statement.text,
                        f"ALTER TABLE {rel} DROP CONSTRAINT {check}"),
                       no_transaction=True)


FIX = SetNotNullViaCheck()
