from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class UniqueConstraintWithoutIndex(OpRule):
    id = "DP015"
    title = "UNIQUE constraint built under ACCESS EXCLUSIVE"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint",)
    why = ("ADD CONSTRAINT ... UNIQUE builds its index while holding ACCESS EXCLUSIVE: the table is "
           "unreadable and unwritable for the whole build.")
    alternative = ("Build the unique index with CREATE UNIQUE INDEX CONCURRENTLY (own no-transaction "
                   "change), then `ADD CONSTRAINT ... UNIQUE USING INDEX`, which is instant.")
    fix = "CREATE UNIQUE INDEX CONCURRENTLY ..., then ADD CONSTRAINT ... UNIQUE USING INDEX ..."
    bad = "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);"
    good = "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_idx;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "unique"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"UNIQUE constraint on {effect.table} builds its index under ACCESS EXCLUSIVE"


RULE = UniqueConstraintWithoutIndex()
