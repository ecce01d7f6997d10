from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class DropNotNull(OpRule):
    id = "DP034"
    title = "Dropping NOT NULL"
    severity = "info"
    engines = ("postgresql", "mysql")
    kinds = ("drop_not_null",)
    why = ("Once NULLs are written, code that assumed a value breaks, and the rollback (SET NOT NULL) "
           "fails until those rows are fixed.")
    alternative = "Make sure every reader handles NULL first; plan how the rollback treats NULL rows."
    fix = "check that readers handle NULL; the rollback will need the NULLs backfilled first"
    bad = "ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;"
    good = "ALTER TABLE orders ALTER COLUMN customer_id SET DEFAULT 0;"

    cases = (
        Case("ALTER TABLE ONLY public.orders ALTER customer_id DROP NOT NULL;", True,
             note="ONLY, schema-qualified, without the COLUMN keyword"),
        Case("ALTER TABLE orders ALTER COLUMN customer_id DROP DEFAULT;", False,
             note="dropping a default is not NOT NULL"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"{effect.table}.{col} may hold NULL from now on; the rollback cannot restore NOT NULL then"


RULE = DropNotNull()
