from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.names import same_name
from dualpath.risk.rule import Case, Rule


class ValidateInSameTransaction(Rule):
    id = "DP061"
    title = "VALIDATE CONSTRAINT in the transaction that added it NOT VALID"
    severity = "warning"
    engines = ("postgresql",)
    why = ("NOT VALID only helps when the validation runs in a later transaction. In the same transaction "
           "the lock taken by ADD CONSTRAINT (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both "
           "tables for a foreign key) is still held while VALIDATE scans the whole table.")
    alternative = ("Add the constraint NOT VALID in one change and VALIDATE it in the next, or mark the "
                   "change `-- dualpath:no-transaction` so each statement commits on its own.")
    fix = "move VALIDATE CONSTRAINT into the next change (or mark this one -- dualpath:no-transaction)"
    bad = ("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;")
    good = ("-- dualpath:no-transaction\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;")

    cases = (
        Case("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) "
             "NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;", True,
             note="a foreign key: the SHARE ROW EXCLUSIVE locks on both tables are still held"),
        Case("ALTER TABLE orders ADD CONSTRAINT Orders_Total CHECK (total >= 0) NOT VALID;\n"
             "ALTER TABLE orders VALIDATE CONSTRAINT orders_total;", True,
             note="unquoted names fold to lower case: the same constraint"),
        Case("ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;", False,
             note="validating a constraint added in an earlier change"),
        Case("ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0) NOT VALID;\n"
             "ALTER TABLE invoices VALIDATE CONSTRAINT positive;", False,
             note="the same name on another table is another constraint, added earlier"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.change.directive("no-transaction") is not None:
            return
        for part in (ctx.forward, ctx.rollback):
            added: list[tuple[str, str]] = []  # (table, constraint): names are unique per table only
            for item in part:
                for op in item.ops:
                    if op.kind == "add_constraint" and op.get("not_valid") and op.name:
                        added.append((op.table or "", op.name))
                    elif op.kind == "validate_constraint" and any(
                            n == op.name and same_name(t, op.table or "") for t, n in added):
                        yield ctx.finding(self, item, f"VALIDATE {op.name} runs while the lock from adding it "
                                          "is still held: NOT VALID gains nothing here", table=op.table)


RULE = ValidateInSameTransaction()
