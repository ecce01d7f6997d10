from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class DoBlockDml(OpRule):
    id = "DP041"
    title = "DO block that changes data"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("do_block",)
    why = ("A DO block runs its UPDATE/DELETE/INSERT as one unbatched statement inside the migration's "
           "transaction, holding row locks to the end — and its SQL is hidden from lint and planning.")
    alternative = ("Write the data change as plain SQL with `-- dualpath:batch table=... key=...` so it "
                   "runs in throttled, resumable chunks.")
    fix = "replace the DO block with plain DML under -- dualpath:batch"
    bad = "DO $$ BEGIN UPDATE orders SET state = 'open' WHERE state IS NULL; END $$;"
    good = "DO $$ BEGIN RAISE NOTICE 'checked'; END $$;"

    cases = (
        Case("DO $body$ BEGIN EXECUTE 'delete from orders where total < 0'; END $body$;", True,
             note="DML in dynamic SQL, another dollar tag, lower case"),
        Case("DO $$ BEGIN INSERT INTO audit SELECT * FROM orders; END $$;", True, note="INSERT ... SELECT"),
        Case("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'state') THEN "
             "CREATE TYPE state AS ENUM ('a'); END IF; END $$;", False, note="DDL guarded by a catalog query"),
        Case("DO $$ BEGIN RAISE NOTICE 'update the docs'; END $$;", False,
             note="the word UPDATE inside a string changes no data"),
        Case("DO $$ BEGIN -- delete nothing here\n PERFORM 1; END $$;", False, note="DELETE in a comment"),
        Case("DO $$ BEGIN RAISE NOTICE 'fixing'; UPDATE orders SET state = 'open'; END $$;", True,
             note="an UPDATE after a RAISE is still seen"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and bool(effect.op.get("dml"))

    def message(self, ctx: Context, effect: Effect) -> str:
        return "DO block changes data in one unbatched transaction that lint cannot see into"


RULE = DoBlockDml()
