from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Rule

DML = ("update", "delete", "insert_select")


class DdlAndDmlInOneTransaction(Rule):
    id = "DP044"
    title = "Blocking DDL and data changes in one transaction"
    severity = "warning"
    engines = ("postgresql", "sqlite")
    why = ("The lock taken by the DDL is held until the transaction commits — including all the time the "
           "data change runs. A fast ALTER becomes a long outage.")
    alternative = ("Split the change: schema first (short transaction), data in a separate change with "
                   "`-- dualpath:batch`.")
    fix = "move the data change into its own change, batched"
    bad = ("ALTER TABLE orders ADD COLUMN region text;\n"
           "UPDATE orders SET region = 'eu' WHERE region IS NULL;")
    good = "ALTER TABLE orders ADD COLUMN region text;"

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.change.directive("no-transaction") is not None:
            return
        for part in (ctx.forward, ctx.rollback):
            ddl = next((i for i in part for e in i.effects
                        if e.blocking and e.operation not in DML and not i.is_new(e.table)), None)
            dml = next((i for i in part for e in i.effects if e.operation in DML and not i.is_new(e.table)), None)
            if ddl is not None and dml is not None:
                yield ctx.finding(self, dml, f"data change runs while the lock from line {ddl.statement.line} "
                                  "is still held")


RULE = DdlAndDmlInOneTransaction()
