from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class TransactionStatement(OpRule):
    id = "DP029"
    title = "BEGIN / COMMIT inside a migration"
    severity = "warning"
    kinds = ("transaction",)
    why = ("dualpath runs each change in its own transaction (unless marked no-transaction). A COMMIT "
           "inside the file ends that transaction early: later statements run outside it, and a failure "
           "can no longer be rolled back as a whole.")
    alternative = ("Remove the transaction statements. If a part must run outside a transaction, put it "
                   "in its own change marked `-- dualpath:no-transaction`.")
    fix = "remove BEGIN/COMMIT: dualpath wraps each change in a transaction"
    bad = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;"
    good = "ALTER TABLE orders ADD COLUMN note text;"

    def message(self, ctx: Context, effect: Effect) -> str:
        word = (effect.op.name if effect.op else "") or "transaction"
        return f"{word.upper()} inside the migration interferes with the transaction dualpath opens"


RULE = TransactionStatement()
