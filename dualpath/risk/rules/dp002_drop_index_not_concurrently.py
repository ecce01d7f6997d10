from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class DropIndexNotConcurrently(OpRule):
    id = "DP002"
    title = "DROP INDEX without CONCURRENTLY"
    severity = "info"
    engines = ("postgresql",)
    kinds = ("drop_index",)
    why = ("DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: it first waits for every running "
           "query on the table, and every new query queues behind it. The drop itself is quick and does "
           "not grow with the table, and dualpath's lock timeout bounds the wait, so this is a note, not a "
           "hazard; outside dualpath set a lock_timeout.")
    alternative = "Use DROP INDEX CONCURRENTLY in a change of its own marked `-- dualpath:no-transaction`."
    fix = "use DROP INDEX CONCURRENTLY IF EXISTS in its own change marked -- dualpath:no-transaction"
    bad = "DROP INDEX orders_customer_idx;"
    good = "-- dualpath:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;"

    cases = (
        Case("-- dualpath:no-transaction\ndrop index concurrently if exists public.orders_customer_idx;", False,
             note="CONCURRENTLY in lower case, schema-qualified"),
        Case("DROP INDEX IF EXISTS public.orders_customer_idx;", True,
             note="IF EXISTS makes it retryable, not concurrent: ACCESS EXCLUSIVE all the same"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("concurrent")

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op else "the index"
        return f"DROP INDEX {name} takes ACCESS EXCLUSIVE on its table: reads and writes queue behind it"


RULE = DropIndexNotConcurrently()
