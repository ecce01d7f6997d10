from collections.abc import Iterable

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule
from dualpath.risk.rules.dp043_dml_without_batch import MASS_SHARE

DML = ("update", "delete", "insert_select")


class DdlAndDmlInOneTransaction(Rule):
    id = "DP044"
    title = "Blocking DDL and data changes in one transaction"
    severity = "warning"
    engines = ("postgresql", "sqlite")
    why = ("The lock taken by the DDL is held until the transaction commits — including all the time the "
           "data change runs. A fast ALTER becomes a long outage when the data change reads or writes much "
           "of a table; with --url dualpath asks the server's planner, and a data change that touches a few "
           "rows through an index is not reported.")
    alternative = ("Split the change: schema first (short transaction), data in a separate change with "
                   "`-- dualpath:batch`.")
    fix = "move the data change into its own change, batched"
    bad = ("ALTER TABLE orders ADD COLUMN region text;\n"
           "UPDATE orders SET region = 'eu' WHERE region IS NULL;")
    good = "ALTER TABLE orders ADD COLUMN region text;"

    cases = (Case("ALTER TABLE orders ADD COLUMN gift boolean;\nUPDATE orders SET gift = true WHERE id = 5;", True,
                  note="without --url: depends on how much of the table the update reads (with --url, an "
                       "update of one row by its key is not reported)"),)

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.change.directive("no-transaction") is not None:
            return
        for part in (ctx.forward, ctx.rollback):
            ddl = next((i for i in part for e in i.effects
                        if e.blocking and e.operation not in DML and not i.is_new(e.table)), None)
            dml = next((i for i in part for e in i.effects if e.operation in DML and not i.is_new(e.table)), None)
            if ddl is None or dml is None:
                continue
            message = f"data change runs while the lock from line {ddl.statement.line} is still held"
            if ctx.family == "sqlite":
                yield ctx.finding(self, dml, message)
            elif ctx.schema is None:
                yield ctx.finding(self, dml, message, depends="how much of the table the data change reads")
            elif self.long(ctx, dml):
                yield ctx.finding(self, dml, message)

    def long(self, ctx: Context, dml: Item) -> bool:
        """Does the data change read or write much of a table (or can the planner not tell)?"""
        assert ctx.schema is not None
        estimate = ctx.schema.estimate(dml.statement.text)
        return estimate is None or estimate.full_scan or estimate.share >= MASS_SHARE


RULE = DdlAndDmlInOneTransaction()
