from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class LockTable(OpRule):
    id = "DP040"
    title = "Explicit LOCK TABLE(S)"
    severity = "warning"
    engines = ("postgresql", "mysql")
    kinds = ("lock_table",)
    why = ("An explicit table lock is held until the transaction ends (PostgreSQL) or UNLOCK TABLES "
           "(MySQL), blocking the application for the rest of the migration.")
    alternative = ("Let each statement take the lock it needs, briefly, under dualpath's lock timeout; "
                   "batch data changes instead of locking the table.")
    fix = "remove the LOCK and rely on the statements' own, shorter locks"
    bad = "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;"
    good = "ALTER TABLE orders ADD COLUMN note text;"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"LOCK {effect.table} in {effect.lock} mode (blocks {effect.blocks}) until the transaction ends"


RULE = LockTable()
