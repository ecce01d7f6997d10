from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class CheckWithoutNotValid(OpRule):
    id = "DP005"
    title = "CHECK constraint added without NOT VALID"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint", "add_column")
    why = ("Adding a CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock: neither "
           "reads nor writes proceed until every row is checked.")
    alternative = ("Add it NOT VALID (instant; new and updated rows are checked), then VALIDATE "
                   "CONSTRAINT in a later change, which scans under SHARE UPDATE EXCLUSIVE and blocks nobody.")
    fix = "ADD CONSTRAINT ... CHECK (...) NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT ..."
    bad = "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);"
    good = ("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "-- and in the next change:\n"
            "-- ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;")

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant in ("check", "checked")

    def message(self, ctx: Context, effect: Effect) -> str:
        if effect.operation == "add_column":
            col = effect.op.name if effect.op else "column"
            return (f"the CHECK on new column {effect.table}.{col} is verified on every row under ACCESS "
                    "EXCLUSIVE: add the column, then the CHECK NOT VALID, then VALIDATE")
        return f"CHECK constraint on {effect.table} scans every row under ACCESS EXCLUSIVE"


RULE = CheckWithoutNotValid()
