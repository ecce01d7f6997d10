from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class ChangeColumnType(OpRule):
    id = "DP009"
    title = "Column type change rewrites the table"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("alter_column_type",)
    judges_cost = True
    why = ("ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE "
           "(unless the types are binary coercible, e.g. varchar(n) to text), and breaks code that "
           "expects the old type.")
    alternative = ("Add a new column of the new type, write both from the application, backfill in "
                   "batches, switch reads, then drop the old column in a later change.")
    fix = "add a new column, backfill in batches, switch the application, drop the old column later"
    bad = "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);"
    good = "ALTER TABLE orders ADD COLUMN total_v2 numeric(12, 2);"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost in ("rewrite", "build")

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        col = op.name if op else "column"
        was = f" from {op.get('from_type')}" if op is not None and op.get("from_type") else ""
        if effect.cost == "build":
            return (f"type change of {effect.table}.{col}{was} keeps the table but rebuilds every index on the "
                    "column under ACCESS EXCLUSIVE")
        if op is not None and op.get("depends"):
            return (f"type change of {effect.table}.{col} rewrites the table and its indexes under ACCESS "
                    "EXCLUSIVE unless the new type is binary coercible from the current one")
        return f"type change of {effect.table}.{col}{was} rewrites the table and its indexes under ACCESS EXCLUSIVE"


RULE = ChangeColumnType()
