from collections.abc import Iterable

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect, Finding
from dualpath.risk.rule import Case, OpRule

MASS_SHARE = 0.10  # a statement that changes at least this share of a table's rows is a mass change


class DmlWithoutBatch(OpRule):
    id = "DP043"
    title = "Data change without a batch directive"
    severity = "info"
    kinds = ("update", "delete", "insert_select")
    why = ("A data change runs as one statement in one transaction: on a large table it holds row locks "
           "for minutes, bloats the WAL/binlog and lags replicas. How many rows it touches depends on the "
           "data: with --url dualpath asks the server's planner, and a statement expected to change at "
           "least 10% of a table (or one it cannot estimate) becomes a warning; a targeted one is not "
           "reported. Without --url the finding says it depends.")
    alternative = ("Add `-- dualpath:batch table=<t> key=<id>` above it: dualpath then runs it in chunks "
                   "that are throttled and resume after a failure.")
    fix = "add -- dualpath:batch table=<table> key=<key column> above the statement"
    bad = "UPDATE orders SET state = 'open' WHERE state IS NULL;"
    good = "-- dualpath:batch table=orders key=id size=5000\nUPDATE orders SET state = 'open' WHERE state IS NULL;"

    cases = (
        Case("INSERT INTO orders_archive SELECT * FROM orders;", True,
             note="INSERT ... SELECT: without --url, depends on how many rows the SELECT returns"),
        Case("UPDATE orders SET note = 'x';", False, note="no WHERE at all: DP042 reports it"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item in ctx.items:
            # an UPDATE or DELETE of a table created in this change touches nothing; INSERT ... SELECT
            # into one still copies whatever it reads
            found = [e for e in item.effects if e.operation in self.kinds
                     and (e.operation == "insert_select" or not item.is_new(e.table))]
            for effect in found:
                yield from self.judge(ctx, item, effect)

    def judge(self, ctx: Context, item: Item, effect: Effect) -> Iterable[Finding]:
        if not self.applies(ctx, item, effect):
            return
        if ctx.schema is None:
            yield ctx.finding(self, item, self.message(ctx, effect), table=effect.table,
                              depends="how many rows it matches")
            return
        estimate = ctx.schema.estimate(item.statement.text)
        verb = effect.operation.replace("_", " ").upper()
        if estimate is None:
            yield ctx.finding(self, item, f"{verb} on {effect.table} could not be estimated on the server: "
                              "treat it as touching every row, unbatched", table=effect.table, severity="warning")
        elif estimate.share >= MASS_SHARE:
            yield ctx.finding(self, item, f"{verb} on {effect.table} changes ~{estimate.rows:.0f} of "
                              f"~{estimate.table_rows:.0f} rows ({estimate.share:.0%}) in one unbatched "
                              "statement (planner estimate)", table=effect.table, severity="warning")

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        has_where = op is None or op.get("has_where", True)
        always = op is not None and op.get("always_true")
        return bool(has_where) and not always and item.statement.directive("batch") is None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ').upper()} on {effect.table} runs unbatched in one transaction"


RULE = DmlWithoutBatch()
