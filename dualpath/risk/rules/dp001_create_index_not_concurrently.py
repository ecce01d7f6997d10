from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule, describe


class CreateIndexNotConcurrently(OpRule):
    id = "DP001"
    title = "CREATE INDEX without CONCURRENTLY"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("create_index",)
    why = ("A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and "
           "DELETE on the table waits, for minutes on a large table.")
    alternative = ("Build the index with CREATE INDEX CONCURRENTLY in a change of its own marked "
                   "`-- dualpath:no-transaction` (CONCURRENTLY cannot run inside a transaction).")
    fix = "use CREATE INDEX CONCURRENTLY in its own change marked -- dualpath:no-transaction"
    bad = "CREATE INDEX orders_customer_idx ON orders (customer_id);"
    good = ("-- dualpath:no-transaction\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);")

    cases = (
        Case("CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint);\n"
             "CREATE INDEX invoices_customer_idx ON invoices (customer_id);", False,
             note="index on a table created earlier in the same change: it is empty, nobody waits"),
        Case("create unique index if not exists orders_email_idx on public.orders (lower(email));", True,
             note="lower case, schema-qualified, UNIQUE and IF NOT EXISTS: still a blocking build"),
        Case("-- dualpath:no-transaction\ncreate index concurrently if not exists orders_state_idx on orders (state);",
             False, note="CONCURRENTLY in lower case"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("concurrent")

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"CREATE INDEX without CONCURRENTLY {describe(effect)}"


RULE = CreateIndexNotConcurrently()
