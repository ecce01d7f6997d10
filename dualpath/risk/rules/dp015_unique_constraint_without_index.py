from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("alter table customers add constraint customers_email_key unique using index customers_email_idx;", False,
             note="USING INDEX in lower case: attaches a built index, instant"),
        Case("ALTER TABLE public.customers ADD UNIQUE (email);", True, note="unnamed, schema-qualified"),
        Case("ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE NULLS NOT DISTINCT (email);", True,
             note="NULLS NOT DISTINCT (PostgreSQL 15) still builds the index under ACCESS EXCLUSIVE"),
        Case("CREATE TABLE devices (id bigint PRIMARY KEY, serial text);\n"
             "ALTER TABLE devices ADD CONSTRAINT devices_serial_key UNIQUE (serial);", False,
             note="a table created in the same change is empty"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "unique"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"UNIQUE constraint on {effect.table} builds its index under ACCESS EXCLUSIVE"


RULE = UniqueConstraintWithoutIndex()
