from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("alter table orders add constraint orders_total_positive check (total >= 0) not valid;", False,
             note="NOT VALID in lower case"),
        Case("ALTER TABLE ONLY public.orders ADD CHECK (total >= 0), ADD COLUMN note text;", True,
             note="ONLY, schema-qualified, unnamed, next to another action in one ALTER"),
        Case("CREATE TABLE refunds (id bigint PRIMARY KEY, amount numeric);\n"
             "ALTER TABLE refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0);", False,
             note="a table created in the same change has no rows to scan"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant in ("check", "checked")

    def message(self, ctx: Context, effect: Effect) -> str:
        if effect.operation == "add_column":
            col = effect.op.name if effect.op else "column"
            return (f"the CHECK on new column {effect.table}.{col} is verified on every row under ACCESS "
                    "EXCLUSIVE: add the column, then the CHECK NOT VALID, then VALIDATE")
        return f"CHECK constraint on {effect.table} scans every row under ACCESS EXCLUSIVE"


RULE = CheckWithoutNotValid()
