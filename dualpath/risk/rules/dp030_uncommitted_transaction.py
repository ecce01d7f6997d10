from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.ops import TRANSACTION_ENDS, TRANSACTION_OPENS
from dualpath.risk.rule import Case, Rule


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

    cases = (
        Case("START TRANSACTION;\nALTER TABLE orders ADD COLUMN note text;", True, dialect="mysql",
             note="mysql: START TRANSACTION never committed"),
        Case("BEGIN;\nSAVEPOINT before_note;\nALTER TABLE orders ADD COLUMN note text;", True,
             note="a SAVEPOINT does not end the transaction"),
        Case("BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nROLLBACK TO SAVEPOINT x;", True,
             note="ROLLBACK TO SAVEPOINT keeps the transaction open"),
        Case("BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nROLLBACK;", False, note="ROLLBACK closes it"),
        Case("START TRANSACTION;\nUPDATE orders SET note = '';\nROLLBACK WORK TO SAVEPOINT x;", True, dialect="mysql",
             note="mysql: ROLLBACK WORK TO SAVEPOINT keeps the transaction open"),
        Case("DO $$ BEGIN PERFORM 1; END $$;", False, note="PL/pgSQL BEGIN in a DO block"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for part in (ctx.forward, ctx.rollback):
            opened = None
            for item in part:
                for op in item.ops:
                    if op.kind == "transaction" and op.name in TRANSACTION_OPENS:
                        opened = item
                    elif op.kind == "transaction" and op.name in TRANSACTION_ENDS:
                        opened = None
            if opened is not None:
                yield ctx.finding(self, opened, "transaction opened here is never committed")


RULE = UncommittedTransaction()
