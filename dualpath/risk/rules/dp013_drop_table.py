from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.objects import undoes_forward
from dualpath.risk.rule import Case, OpRule


class DropTable(OpRule):
    id = "DP013"
    title = "Dropping a table breaks running code and loses data"
    severity = "warning"
    kinds = ("drop_table",)
    why = ("Queries of the running application against the table fail, and its rows are gone for good: "
           "a rollback can recreate the table but not its data.")
    alternative = ("Remove every use of the table from the application first; then drop it in a change "
                   "marked `-- dualpath:irreversible reason=...` so a backup is taken and approval asked.")
    fix = "stop using the table first; drop it later in a change marked -- dualpath:irreversible"
    bad = "DROP TABLE legacy_orders;"
    good = "CREATE TABLE legacy_orders_archive (id bigint PRIMARY KEY);"

    cases = (
        Case("CREATE TABLE app.notes (id int);", False, "DROP TABLE IF EXISTS notes;",
             note="rollback drops the table its forward created"),
        Case("CREATE TABLE notes (id int);", False, "DROP TABLE notes CASCADE;", note="with CASCADE"),
        Case("INSERT INTO orders VALUES (1);", True, "DROP TABLE orders;",
             note="the forward only added rows to an existing table"),
        Case("ALTER TABLE a RENAME TO b;", True, "DROP TABLE b;", note="renamed is not created"),
        Case("CREATE TABLE notes (id int);", False, "DROP TABLE IF EXISTS `notes`;", dialect="mysql",
             note="mysql: its own table"),
        Case("CREATE TABLE copy AS SELECT * FROM orders;", False, "DROP TABLE copy;", dialect="mysql",
             note="mysql: CREATE TABLE ... AS SELECT"),
        Case("ALTER TABLE orders ADD COLUMN note TEXT;", True, "DROP TABLE orders;", dialect="mysql",
             note="mysql: a table that existed before"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return not undoes_forward(ctx.forward, item, effect.op)  # a rollback dropping its own new table

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"dropping table {effect.table} breaks code that still uses it and loses its rows"


RULE = DropTable()
