from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class ChangeColumnType(OpRule):
    id = "DP009"
    title = "Column type change rewrites the table"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("alter_column_type",)
    why = ("ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE "
           "(unless the types are binary coercible, e.g. varchar(n) to text), and breaks code that "
           "expects the old type.")
    alternative = ("Add a new column of the new type, write both from the application, backfill in "
                   "batches, switch reads, then drop the old column in a later change.")
    fix = "add a new column, backfill in batches, switch the application, drop the old column later"
    bad = "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);"
    good = "ALTER TABLE orders ADD COLUMN total_v2 numeric(12, 2);"

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"type change of {effect.table}.{col} rewrites the table and its indexes under ACCESS EXCLUSIVE"


RULE = ChangeColumnType()
