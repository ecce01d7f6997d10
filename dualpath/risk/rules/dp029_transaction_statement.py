from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("START TRANSACTION;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;", True, dialect="mysql",
             note="mysql: START TRANSACTION"),
        Case("ALTER TABLE orders ADD COLUMN note text;\nEND;", True, note="END is PostgreSQL's COMMIT"),
        Case("DO $$ BEGIN PERFORM 1; END $$;", False,
             note="BEGIN ... END inside a DO block is PL/pgSQL, not a transaction"),
        Case("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n"
             "  RETURN NEW;\nEND\n$$;", False, note="BEGIN ... END in a function body"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        word = (effect.op.name if effect.op else "") or "transaction"
        return f"{word.upper()} inside the migration interferes with the transaction dualpath opens"


RULE = TransactionStatement()
