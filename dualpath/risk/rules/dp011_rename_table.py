from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class RenameTable(OpRule):
    id = "DP011"
    title = "Renaming a table breaks running code"
    severity = "warning"
    kinds = ("rename_table",)
    why = "Every query of the running application that names the old table fails once the rename commits."
    alternative = ("Create the new table (or rename and leave an updatable view under the old name), move "
                   "the application, then remove the old name in a later change.")
    fix = "rename, then CREATE VIEW <old name> AS SELECT * FROM <new name> until the application moved"
    bad = "ALTER TABLE orders RENAME TO purchases;"
    good = "CREATE TABLE purchases (id bigint PRIMARY KEY);"

    cases = (
        Case("RENAME TABLE orders TO purchases;", True, dialect="mysql", note="MySQL's RENAME TABLE statement"),
        Case("ALTER TABLE IF EXISTS public.orders RENAME TO purchases;", True,
             note="IF EXISTS and a schema: the old name still breaks"),
        Case("CREATE TABLE orders_tmp (id bigint PRIMARY KEY);\nALTER TABLE orders_tmp RENAME TO purchases;", False,
             note="a table created in the same change: no running code uses its name yet"),
        Case("ALTER TABLE orders RENAME COLUMN note TO remark;", False,
             note="renaming a column is DP010, not a table rename"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        new = effect.op.get("new_name") if effect.op else "?"
        return f"renaming {effect.table} to {new} breaks code that still uses {effect.table}"


RULE = RenameTable()
