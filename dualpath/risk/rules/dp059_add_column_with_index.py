from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class AddColumnWithIndex(OpRule):
    id = "DP059"
    title = "ADD COLUMN with PRIMARY KEY or UNIQUE"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_column",)
    why = ("A PRIMARY KEY or UNIQUE clause on the new column builds an index under the ACCESS EXCLUSIVE "
           "lock of the ALTER; with serial it also rewrites the table first.")
    alternative = ("Add the column plain, build the unique index CONCURRENTLY, then attach it with "
                   "`ADD CONSTRAINT ... UNIQUE USING INDEX` (or PRIMARY KEY USING INDEX).")
    fix = "add the column plain; CREATE UNIQUE INDEX CONCURRENTLY; then ADD CONSTRAINT ... USING INDEX"
    bad = "ALTER TABLE events ADD COLUMN event_key uuid UNIQUE;"
    good = "ALTER TABLE events ADD COLUMN event_key uuid;"

    cases = (
        Case("ALTER TABLE events ADD COLUMN IF NOT EXISTS event_key uuid CONSTRAINT events_key UNIQUE;", True,
             note="IF NOT EXISTS and a named UNIQUE"),
        Case("ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;", True,
             note="PRIMARY KEY with identity"),
        Case("ALTER TABLE events ADD COLUMN customer_id bigint REFERENCES customers (id);", False,
             note="REFERENCES builds no index"),
        Case("CREATE TABLE tags (id bigint);\nALTER TABLE tags ADD COLUMN name text UNIQUE;", False,
             note="a table created in the same change is empty"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        return op is not None and bool(op.get("primary") or op.get("unique"))

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"ADD COLUMN {col} builds a unique index on {effect.table} under ACCESS EXCLUSIVE"


RULE = AddColumnWithIndex()
