from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class AddRequiredColumn(OpRule):
    id = "DP007"
    title = "NOT NULL column added without a default"
    severity = "error"
    engines = ("postgresql", "sqlite")
    kinds = ("add_column",)
    why = ("Existing rows have no value for the new column, so the statement fails on any table that "
           "has rows; and application code that inserts without the column breaks.")
    alternative = ("Add the column nullable (or with a constant default), backfill it in batches, then "
                   "add the NOT NULL constraint safely.")
    fix = "add the column with a DEFAULT, or nullable and backfill before SET NOT NULL"
    bad = "ALTER TABLE orders ADD COLUMN region text NOT NULL;"
    good = "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        return op is not None and bool(op.get("not_null")) and not op.get("has_default") and not any(
            op.get(flag) for flag in ("serial", "identity", "stored_generated", "auto_increment"))

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"NOT NULL column {effect.table}.{col} has no default: fails as soon as the table has rows"


RULE = AddRequiredColumn()
