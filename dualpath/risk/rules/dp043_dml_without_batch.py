from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class DmlWithoutBatch(OpRule):
    id = "DP043"
    title = "Data change without a batch directive"
    severity = "info"
    kinds = ("update", "delete", "insert_select")
    why = ("A data change runs as one statement in one transaction: on a large table it holds row locks "
           "for minutes, bloats the WAL/binlog and lags replicas. With --url, big tables make this a warning.")
    alternative = ("Add `-- dualpath:batch table=<t> key=<id>` above it: dualpath then runs it in chunks "
                   "that are throttled and resume after a failure.")
    fix = "add -- dualpath:batch table=<table> key=<key column> above the statement"
    bad = "UPDATE orders SET state = 'open' WHERE state IS NULL;"
    good = "-- dualpath:batch table=orders key=id size=5000\nUPDATE orders SET state = 'open' WHERE state IS NULL;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        has_where = effect.op is None or effect.op.get("has_where", True)
        return bool(has_where) and item.statement.directive("batch") is None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ').upper()} on {effect.table} runs unbatched in one transaction"


RULE = DmlWithoutBatch()
