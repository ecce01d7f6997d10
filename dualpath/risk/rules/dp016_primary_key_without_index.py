from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("alter table events add constraint events_pkey primary key using index events_id_idx;", False,
             note="USING INDEX in lower case"),
        Case("ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, created_at);", True,
             note="ONLY, schema-qualified, composite key"),
        Case("CREATE TABLE audit (id bigint NOT NULL);\nALTER TABLE audit ADD PRIMARY KEY (id);", False,
             note="a table created in the same change is empty"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "primary"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"PRIMARY KEY on {effect.table} builds its index under ACCESS EXCLUSIVE"


RULE = PrimaryKeyWithoutIndex()
