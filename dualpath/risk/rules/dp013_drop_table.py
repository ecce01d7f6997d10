from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


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

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"dropping table {effect.table} breaks code that still uses it and loses its rows"


RULE = DropTable()
