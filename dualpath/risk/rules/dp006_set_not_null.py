from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class SetNotNull(OpRule):
    id = "DP006"
    title = "SET NOT NULL scans the table under ACCESS EXCLUSIVE"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("set_not_null",)
    judges_cost = True
    why = ("ALTER COLUMN ... SET NOT NULL checks every row while holding ACCESS EXCLUSIVE: all reads "
           "and writes wait for the scan — unless the column is NOT NULL already or (PostgreSQL 12+) a "
           "validated CHECK (col IS NOT NULL) proves it. With --url dualpath looks for both; without, the "
           "finding says it depends.")
    alternative = ("On PostgreSQL 12+, in a change marked `-- dualpath:no-transaction`, first add "
                   "`CHECK (col IS NOT NULL) NOT VALID`, VALIDATE it (no "
                   "blocking), then SET NOT NULL — it uses the validated check and skips the scan — and "
                   "drop the check.")
    fix = "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL (PostgreSQL 12+)"
    bad = "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;"
    good = ("-- dualpath:no-transaction\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_nn CHECK (customer_id IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_nn;\n"
            "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n"
            "ALTER TABLE orders DROP CONSTRAINT orders_customer_nn;")

    cases = (
        Case("ALTER TABLE ONLY public.orders ALTER customer_id SET NOT NULL;", True,
             note="ONLY, schema-qualified, without the COLUMN keyword"),
        Case("CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint);\n"
             "ALTER TABLE refunds ALTER COLUMN order_id SET NOT NULL;", False,
             note="a table created in the same change: nothing to scan"),
        Case("ALTER TABLE orders ADD CONSTRAINT orders_customer_nn CHECK (customer_id IS NOT NULL) NOT VALID;\n"
             "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_nn;\n"
             "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;", False,
             note="a CHECK validated earlier in the change proves it: no scan (the lock is DP061's concern)"),
        Case("ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;", False,
             note="DROP NOT NULL checks nothing (DP034 is about it)"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "scan"

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"SET NOT NULL on {effect.table}.{col} scans every row under ACCESS EXCLUSIVE"


RULE = SetNotNull()
