from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class PrimaryKeyWithoutIndex(OpRule):
    id = "DP016"
    title = "PRIMARY KEY built under ACCESS EXCLUSIVE"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint",)
    why = ("ADD PRIMARY KEY builds a unique index and checks NOT NULL on every row while holding ACCESS "
           "EXCLUSIVE.")
    alternative = ("CREATE UNIQUE INDEX CONCURRENTLY first, make the columns NOT NULL safely, then "
                   "`ADD CONSTRAINT ... PRIMARY KEY USING INDEX`.")
    fix = "CREATE UNIQUE INDEX CONCURRENTLY ..., then ADD CONSTRAINT ... PRIMARY KEY USING INDEX ..."
    bad = "ALTER TABLE events ADD PRIMARY KEY (id);"
    good = "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "primary"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"PRIMARY KEY on {effect.table} builds its index under ACCESS EXCLUSIVE"


RULE = PrimaryKeyWithoutIndex()
