from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ConcurrentNotIdempotent(OpRule):
    id = "DP033"
    title = "Concurrent index statement cannot be retried"
    severity = "info"
    engines = ("postgresql",)
    kinds = ("create_index", "drop_index")
    why = ("A concurrent index build that fails (deadlock, timeout, duplicate) leaves an INVALID index "
           "behind and nothing is rolled back. Without IF NOT EXISTS / IF EXISTS the retry fails too.")
    alternative = ("Write `CREATE INDEX CONCURRENTLY IF NOT EXISTS` and `DROP INDEX CONCURRENTLY IF "
                   "EXISTS`; after a failure, drop the INVALID index and run again.")
    fix = "add IF NOT EXISTS (create) or IF EXISTS (drop) so the change can be retried"
    bad = "-- dualpath:no-transaction\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);"
    good = "-- dualpath:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);"

    cases = (
        Case("-- dualpath:no-transaction\nDROP INDEX CONCURRENTLY orders_note_idx;", True,
             note="a concurrent drop without IF EXISTS fails when retried after it went through"),
        Case("-- dualpath:no-transaction\ndrop index concurrently if exists public.orders_note_idx;", False,
             note="IF EXISTS in lower case, schema-qualified"),
        Case("CREATE INDEX orders_note_idx ON orders (note);", False,
             note="a plain build is transactional: a failure rolls it back, a retry starts clean (DP001 is about it)"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        return op is not None and op.variant == "concurrent" and not (op.get("if_not_exists") or op.get("if_exists"))

    def message(self, ctx: Context, effect: Effect) -> str:
        guard = "IF NOT EXISTS" if effect.operation == "create_index" else "IF EXISTS"
        return f"concurrent {effect.operation.replace('_', ' ')} without {guard}: a retry after a failure fails"


RULE = ConcurrentNotIdempotent()
