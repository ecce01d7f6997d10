from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ReindexNotConcurrently(OpRule):
    id = "DP003"
    title = "REINDEX without CONCURRENTLY"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("reindex",)
    why = ("REINDEX blocks writes to the table and blocks reads that use the index until the rebuild "
           "ends.")
    alternative = ("On PostgreSQL 12+ use REINDEX ... CONCURRENTLY outside a transaction. Before 12, "
                   "build a new index CONCURRENTLY, then DROP INDEX CONCURRENTLY the old one and rename.")
    fix = "use REINDEX INDEX CONCURRENTLY (PostgreSQL 12+) in a change marked -- dualpath:no-transaction"
    bad = "REINDEX INDEX orders_customer_idx;"
    good = "-- dualpath:no-transaction\nREINDEX INDEX CONCURRENTLY orders_customer_idx;"

    cases = (
        Case("-- dualpath:no-transaction\nREINDEX (VERBOSE) TABLE CONCURRENTLY public.orders;", False,
             note="options before the kind and CONCURRENTLY after it (PostgreSQL 14+ grammar)"),
        Case("-- dualpath:no-transaction\nREINDEX (CONCURRENTLY) INDEX orders_customer_idx;", False,
             note="CONCURRENTLY written as an option in parentheses (PostgreSQL 14+)"),
        Case("REINDEX (CONCURRENTLY false) INDEX orders_customer_idx;", True,
             note="CONCURRENTLY switched off in the option list: a blocking rebuild"),
        Case("REINDEX TABLE public.orders;", True,
             note="a whole table, schema-qualified: every index rebuilt, writes blocked"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("concurrent")

    def message(self, ctx: Context, effect: Effect) -> str:
        if ctx.catalogue.supports("reindex_concurrently"):
            return "REINDEX blocks writes for the whole rebuild; REINDEX CONCURRENTLY does not"
        return ("REINDEX blocks writes for the whole rebuild; this server has no REINDEX CONCURRENTLY "
                "(needs 12): build a replacement index CONCURRENTLY instead")


RULE = ReindexNotConcurrently()
