from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class DropColumn(OpRule):
    id = "DP012"
    title = "Dropping a column breaks running code and loses data"
    severity = "warning"
    kinds = ("drop_column",)
    why = ("Code that still selects or inserts the column fails, and the data is gone: a rollback can "
           "re-add the column but not its values.")
    alternative = ("Stop using the column in the application first (deploy), then drop it in a later "
                   "change marked `-- dualpath:irreversible reason=...` so a backup is taken.")
    fix = "remove every use of the column from the application first, then drop it in a later release"
    bad = "ALTER TABLE orders DROP COLUMN legacy_code;"
    good = "ALTER TABLE orders ALTER COLUMN legacy_code DROP DEFAULT;"

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"dropping {effect.table}.{col} breaks code that still uses it and loses its data"


RULE = DropColumn()
