from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ForeignKeyWithoutNotValid(OpRule):
    id = "DP004"
    title = "Foreign key added without NOT VALID"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint", "add_column")
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

    cases = (
        Case("CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint);\n"
             "ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk\n"
             "  FOREIGN KEY (customer_id) REFERENCES customers (id);",
             False, note="the referencing table was created in the same change: no rows to check"),
        Case("alter table only public.orders add foreign key (customer_id) references public.customers (id);", True,
             note="lower case, ONLY, schema-qualified, unnamed constraint"),
        Case("ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);", False,
             note="a new column's inline REFERENCES: the column is all NULL, PostgreSQL checks no row"),
        Case("ALTER TABLE orders ADD COLUMN customer_id bigint DEFAULT 1 REFERENCES customers (id);", True,
             note="with a default every row holds a value: PostgreSQL scans the table to check them"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        if op is not None and effect.operation == "add_column":
            # a new column's REFERENCES checks nothing while the column is all NULL; a default fills it first
            return bool(op.get("references")) and bool(op.get("has_default"))
        return op is not None and op.variant == "foreign"

    def message(self, ctx: Context, effect: Effect) -> str:
        ref = effect.op.get("references") if effect.op else None
        return (f"foreign key on {effect.table} validates every row while blocking writes to "
                f"{effect.table} and {ref}")


RULE = ForeignKeyWithoutNotValid()
