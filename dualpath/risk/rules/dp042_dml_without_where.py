from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("UPDATE orders SET note = 'x' WHERE 1 = 1;", True, note="a WHERE that is always true"),
        Case("UPDATE orders SET note = 'x' WHERE id = id;", True, note="a column compared with itself"),
        Case("DELETE FROM audit_log WHERE TRUE;", True, dialect="mysql", note="mysql: WHERE TRUE"),
        Case("UPDATE orders SET note = 'x' WHERE 1 = 1 AND id = 5;", False, note="a real condition next to 1 = 1"),
        Case("UPDATE orders SET note = 'x' WHERE id = 5;", False, note="a real condition"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        return (op is not None and (not op.get("has_where") or bool(op.get("always_true")))
                and item.statement.directive("batch") is None)

    def message(self, ctx: Context, effect: Effect) -> str:
        if effect.op is not None and effect.op.get("has_where"):
            return f"{effect.operation.upper()} with a WHERE that is true for every row touches all of {effect.table}"
        return f"{effect.operation.upper()} without WHERE touches every row of {effect.table} at once"


RULE = DmlWithoutWhere()
