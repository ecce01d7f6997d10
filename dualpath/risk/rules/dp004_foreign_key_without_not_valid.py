from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class ForeignKeyWithoutNotValid(OpRule):
    id = "DP004"
    title = "Foreign key added without NOT VALID"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint",)
    why = ("Adding a foreign key checks every existing row while holding SHARE ROW EXCLUSIVE on both "
           "tables: writes to the table and to the referenced table wait for the whole scan.")
    alternative = ("Add the constraint with NOT VALID (instant, new rows are checked), then VALIDATE "
                   "CONSTRAINT in a later change: validation only takes SHARE UPDATE EXCLUSIVE.")
    fix = "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT ..."
    bad = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n"
           "  FOREIGN KEY (customer_id) REFERENCES customers (id);")
    good = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n"
            "  FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n"
            "-- and in the next change:\n"
            "-- ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;")

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "foreign"

    def message(self, ctx: Context, effect: Effect) -> str:
        ref = effect.op.get("references") if effect.op else None
        return (f"foreign key on {effect.table} validates every row while blocking writes to "
                f"{effect.table} and {ref}")


RULE = ForeignKeyWithoutNotValid()
