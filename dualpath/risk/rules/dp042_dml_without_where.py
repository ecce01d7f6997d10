from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class DmlWithoutWhere(OpRule):
    id = "DP042"
    title = "UPDATE or DELETE without WHERE"
    severity = "error"
    kinds = ("update", "delete")
    why = ("An UPDATE or DELETE without WHERE touches every row in one transaction: row locks on the "
           "whole table, a huge WAL/binlog burst, replica lag, and — for DELETE — all data gone.")
    alternative = ("Add the WHERE clause you mean, and run large changes in chunks with "
                   "`-- dualpath:batch table=... key=...`.")
    fix = "add a WHERE clause and a -- dualpath:batch table=... key=... directive"
    bad = "UPDATE orders SET archived = true;"
    good = ("-- dualpath:batch table=orders key=id size=5000\n"
            "UPDATE orders SET archived = true WHERE created_at < '2020-01-01';")

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("has_where") and item.statement.directive("batch") is None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.upper()} without WHERE touches every row of {effect.table} at once"


RULE = DmlWithoutWhere()
