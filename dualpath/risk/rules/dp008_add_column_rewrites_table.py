from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule, describe


class AddColumnRewritesTable(OpRule):
    id = "DP008"
    title = "ADD COLUMN rewrites the table (volatile default, serial, identity, stored generated)"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_column",)
    why = ("A column whose value must be computed per row — a volatile default like gen_random_uuid() "
           "or random(), serial/identity, a STORED generated column, or any default before "
           "PostgreSQL 11 — rewrites the whole table under ACCESS EXCLUSIVE.")
    alternative = ("Add the column without a default (or with a constant one), set the volatile default "
                   "for new rows with ALTER COLUMN ... SET DEFAULT, and backfill existing rows in batches.")
    fix = "add the column without the volatile default, SET DEFAULT afterwards, backfill in batches"
    bad = "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();"
    good = ("ALTER TABLE orders ADD COLUMN public_id uuid;\n"
            "ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();")

    cases = (
        Case("ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false;", True, version=(10,),
             note="PostgreSQL 10: even a constant default is written into every row"),
        Case("ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false;", False,
             note="PostgreSQL 11+: a constant default is kept in the catalog, no rewrite"),
        Case("ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();", False,
             note="now() is STABLE: evaluated once, stored in the catalog, no rewrite (PostgreSQL 11+)"),
        Case("ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();", True,
             note="clock_timestamp() is volatile: every row gets its own value, the table is rewritten"),
        Case("ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;", True,
             note="an identity column numbers every existing row: rewrite"),
        Case("ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;", True,
             note="a STORED generated column is computed for every row: rewrite"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "rewrite"

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"ADD COLUMN {col} {describe(effect)}"


RULE = AddColumnRewritesTable()
