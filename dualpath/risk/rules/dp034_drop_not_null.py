from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule
from dualpath.risk.schema import Column, Schema


def mysql_orders(customer_id_nullable: bool) -> Schema:
    """A MariaDB schema where orders.customer_id is NOT NULL (or not), as --url reads it."""
    column = Column("shop.orders", "customer_id", "bigint(20)", nullable=customer_id_nullable)
    return Schema(flavor="mariadb", version=(10, 11), columns={"shop.orders": {"customer_id": column}})



class DropNotNull(OpRule):
    id = "DP034"
    title = "Dropping NOT NULL"
    severity = "info"
    engines = ("postgresql", "mysql")
    kinds = ("drop_not_null", "alter_column_type", "rename_column")
    why = ("Once NULLs are written, code that assumed a value breaks, and the rollback (SET NOT NULL) "
           "fails until those rows are fixed. On MySQL/MariaDB MODIFY and CHANGE restate the whole column: "
           "one that leaves out NOT NULL makes the column nullable (with --url dualpath compares it with the "
           "current definition).")
    alternative = "Make sure every reader handles NULL first; plan how the rollback treats NULL rows."
    fix = "check that readers handle NULL; the rollback will need the NULLs backfilled first"
    bad = "ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;"
    good = "ALTER TABLE orders ALTER COLUMN customer_id SET DEFAULT 0;"

    cases = (
        Case("ALTER TABLE ONLY public.orders ALTER customer_id DROP NOT NULL;", True,
             note="ONLY, schema-qualified, without the COLUMN keyword"),
        Case("ALTER TABLE orders ALTER COLUMN customer_id DROP DEFAULT;", False,
             note="dropping a default is not NOT NULL"),
        Case("ALTER TABLE orders MODIFY customer_id BIGINT;", True, dialect="mariadb", schema=mysql_orders(False),
             note="mariadb: a MODIFY that leaves out NOT NULL makes a NOT NULL column nullable"),
        Case("ALTER TABLE orders CHANGE customer_id buyer_id BIGINT NULL;", True, dialect="mariadb",
             schema=mysql_orders(False), note="mariadb: CHANGE with NULL, renaming too"),
        Case("ALTER TABLE orders MODIFY customer_id BIGINT NOT NULL;", False, dialect="mariadb",
             schema=mysql_orders(False), note="mariadb: NOT NULL restated"),
        Case("ALTER TABLE orders MODIFY customer_id BIGINT;", False, dialect="mariadb", schema=mysql_orders(True),
             note="mariadb: the column was nullable already"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        if op is None or op.kind == "drop_not_null":
            return op is not None
        # MySQL MODIFY/CHANGE: nullable now, NOT NULL in the server's current schema
        return bool((op.get("definition") or {}).get("nullable")) and op.get("was_nullable") is False

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"{effect.table}.{col} may hold NULL from now on; the rollback cannot restore NOT NULL then"


RULE = DropNotNull()
