from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Rule


class UncommittedTransaction(Rule):
    id = "DP030"
    title = "BEGIN without a matching COMMIT"
    severity = "error"
    why = ("A transaction opened and never committed holds its locks until the session ends — or its "
           "work is silently rolled back when the connection closes.")
    alternative = "Remove the BEGIN (dualpath manages the transaction), or close it with COMMIT."
    fix = "remove the BEGIN, or add the matching COMMIT"
    bad = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;"
    good = "ALTER TABLE orders ADD COLUMN note text;"

    def check(self, ctx: Context) -> Iterable[Finding]:
        for part in (ctx.forward, ctx.rollback):
            opened = None
            for item in part:
                for op in item.ops:
                    if op.kind == "transaction" and op.name in ("begin", "start"):
                        opened = item
                    elif op.kind == "transaction":
                        opened = None
            if opened is not None:
                yield ctx.finding(self, opened, "transaction opened here is never committed")


RULE = UncommittedTransaction()
