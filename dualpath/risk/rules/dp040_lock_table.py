from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect, Severity
from dualpath.risk.rule import Case, OpRule


class LockTable(OpRule):
    id = "DP040"
    title = "Explicit LOCK TABLE(S)"
    severity = "info"
    engines = ("postgresql", "mysql")
    kinds = ("lock_table",)
    why = ("An explicit table lock is held until the transaction ends (PostgreSQL) or UNLOCK TABLES "
           "(MySQL), blocking the application for the rest of the migration. That is a note while the rest "
           "is quick; when a later statement scans, rewrites, builds an index or changes data under it, "
           "the block grows with the table: a warning.")
    alternative = ("Let each statement take the lock it needs, briefly, under dualpath's lock timeout; "
                   "batch data changes instead of locking the table.")
    fix = "remove the LOCK and rely on the statements' own, shorter locks"
    bad = "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;"
    good = "ALTER TABLE orders ADD COLUMN note text;"

    cases = (
        Case("LOCK TABLES orders WRITE;", True, dialect="mysql", note="mysql: LOCK TABLES ... WRITE"),
        Case("LOCK orders;", True, note="without TABLE and without a mode: ACCESS EXCLUSIVE"),
        Case("SELECT id FROM orders WHERE id = 1 FOR UPDATE;", False, note="a row lock, not a table lock"),
        Case("CREATE TABLE staging (id bigint);\nLOCK TABLE staging IN EXCLUSIVE MODE;", False,
             note="a table created in the same change: nobody else uses it"),
    )

    def level(self, ctx: Context, item: Item, effect: Effect) -> Severity | None:
        # the lock only hurts while something slow runs under it: a scan, a rewrite, an index build, data
        part = ctx.forward if item.part == "forward" else ctx.rollback
        later = part[part.index(item) + 1:]
        slow = any(e.cost in ("scan", "rewrite", "build") or e.operation in ("update", "delete", "insert_select")
                   for i in later for e in i.effects if not i.is_new(e.table))
        return "warning" if slow and ctx.family == "postgresql" else None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"LOCK {effect.table} in {effect.lock} mode (blocks {effect.blocks}) until the transaction ends"


RULE = LockTable()
