from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class MysqlBlockingLockClause(OpRule):
    id = "DP054"
    title = "ALTER asks for a blocking LOCK or ALGORITHM=COPY"
    severity = "warning"
    engines = ("mysql",)
    why = ("LOCK=SHARED blocks writes, LOCK=EXCLUSIVE blocks reads and writes, ALGORITHM=COPY copies "
           "the table — for the whole statement, even when an online method exists.")
    alternative = ("Ask for `ALGORITHM=INPLACE, LOCK=NONE` or `ALGORITHM=INSTANT` and let the server refuse "
                   "if it cannot.")
    fix = "use ALGORITHM=INPLACE, LOCK=NONE (or ALGORITHM=INSTANT)"
    bad = "ALTER TABLE orders ADD INDEX orders_state_idx (state), LOCK=EXCLUSIVE;"
    good = "ALTER TABLE orders ADD INDEX orders_state_idx (state), ALGORITHM=INPLACE, LOCK=NONE;"

    cases = (
        Case("alter table orders add index orders_state_idx (state), algorithm = copy;", True,
             note="ALGORITHM=COPY in lower case with spaces"),
        Case("ALTER TABLE orders ADD INDEX orders_state_idx (state), LOCK=SHARED;", True,
             note="LOCK=SHARED blocks writes"),
        Case("CREATE INDEX orders_state_idx ON orders (state) LOCK=EXCLUSIVE;", True,
             note="CREATE INDEX takes the same clauses"),
        Case("ALTER TABLE orders ADD INDEX orders_state_idx (state), LOCK=DEFAULT;", False,
             note="LOCK=DEFAULT lets the server choose the least locking"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        return op is not None and (op.get("lock") in ("SHARED", "EXCLUSIVE") or op.get("algorithm") == "COPY")

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        asked = ", ".join(f"{k.upper()}={op.get(k)}" for k in ("algorithm", "lock") if op and op.get(k))
        return f"{effect.operation.replace('_', ' ')} on {effect.table} asks for {asked}"


RULE = MysqlBlockingLockClause()
