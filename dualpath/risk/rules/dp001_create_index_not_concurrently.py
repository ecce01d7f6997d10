from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule, describe


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

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("concurrent")

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"CREATE INDEX without CONCURRENTLY {describe(effect)}"


RULE = CreateIndexNotConcurrently()
