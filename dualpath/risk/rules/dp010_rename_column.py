from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class RenameColumn(OpRule):
    id = "DP010"
    title = "Renaming a column breaks running code"
    severity = "warning"
    kinds = ("rename_column",)
    why = ("The application version that is running during and after the deploy still uses the old "
           "name: its queries fail the moment the rename commits.")
    alternative = ("Expand and contract: add the new column, write both, backfill, move reads, then drop "
                   "the old column in a later release. Or expose the new name through a view.")
    fix = "add the new column and migrate in steps; drop the old one after the application moved"
    bad = "ALTER TABLE orders RENAME COLUMN total TO amount;"
    good = "ALTER TABLE orders ADD COLUMN amount numeric;"

    cases = (
        Case("ALTER TABLE orders ADD COLUMN memo text;\nALTER TABLE orders RENAME COLUMN memo TO memo_text;", False,
             note="a column added earlier in the same change: no running code uses it yet"),
        Case("ALTER TABLE orders CHANGE note remark VARCHAR(300);", True, dialect="mysql",
             note="mysql: CHANGE with a new name"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return not item.is_new_column(effect.table, effect.op.name if effect.op else None)

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        old, new = (op.name, op.get("new_name")) if op else ("?", "?")
        return f"renaming {effect.table}.{old} to {new} breaks code that still uses {old}"


RULE = RenameColumn()
