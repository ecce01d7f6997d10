from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class OptimizeTable(OpRule):
    id = "DP055"
    title = "OPTIMIZE TABLE"
    severity = "warning"
    engines = ("mysql",)
    kinds = ("optimize",)
    why = ("On InnoDB, OPTIMIZE TABLE recreates the whole table (ALTER TABLE ... FORCE): long I/O, "
           "twice the disk space, replica lag; other engines lock the table for the duration.")
    alternative = "Run it outside migrations in a maintenance window, or with pt-online-schema-change."
    fix = "run table rebuilds outside migrations, in a maintenance window"
    bad = "OPTIMIZE TABLE orders;"
    good = "ANALYZE TABLE orders;"

    cases = (
        Case("OPTIMIZE NO_WRITE_TO_BINLOG TABLE orders, invoices;", True, note="NO_WRITE_TO_BINLOG, a list of tables"),
        Case("optimize local table orders;", True, note="lower case, LOCAL"),
        Case("ANALYZE TABLE orders;", False, note="ANALYZE only reads index statistics"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"OPTIMIZE TABLE rebuilds {effect.table or 'the table'}"


RULE = OptimizeTable()
