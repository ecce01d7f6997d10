from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ChangeColumnType(OpRule):
    id = "DP009"
    title = "Column type change rewrites the table"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("alter_column_type",)
    judges_cost = True
    why = ("ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE, and "
           "breaks code that expects the old type — unless the new type is binary coercible from the "
           "current one and admits every value (varchar(n) to a larger n, to varchar or text; numeric(p, s) "
           "to a larger p with the same s): then the table and its indexes are kept. timestamp to "
           "timestamptz keeps the table from PostgreSQL 12 when the session time zone is UTC, but rebuilds "
           "the column's indexes. Which case applies depends on the column's current type: with --url "
           "dualpath reads it; without, the finding says it depends.")
    alternative = ("Add a new column of the new type, write both from the application, backfill in "
                   "batches, switch reads, then drop the old column in a later change.")
    fix = "add a new column, backfill in batches, switch the application, drop the old column later"
    bad = "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);"

    cases = (
        Case("ALTER TABLE orders ADD COLUMN memo varchar(10);\nALTER TABLE orders ALTER COLUMN memo TYPE varchar(40);",
             False, note="widening a column added earlier in the change: binary coercible, the table is kept"),
        Case("ALTER TABLE orders ALTER COLUMN code TYPE int USING length(code);", True,
             note="a USING expression converts every row: a rewrite whatever the current type"),
        Case("ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);", True,
             note="without --url: depends on the current type (with --url, varchar(10) to (50) is not reported)"),
    )
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
