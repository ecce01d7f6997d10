from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.objects import undoes_forward
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("ALTER TABLE orders ADD COLUMN note text;", False, "ALTER TABLE orders DROP COLUMN note;",
             note="rollback drops the column its forward added"),
        Case("ALTER TABLE app.orders ADD COLUMN note text;", False, "ALTER TABLE orders DROP COLUMN IF EXISTS note;",
             note="the same column, once schema-qualified"),
        Case("CREATE TABLE notes (id int, body text);", False, "ALTER TABLE notes DROP COLUMN body;",
             note="rollback drops a column of the table its forward created"),
        Case("UPDATE orders SET note = 'x' WHERE note IS NULL;", True, "ALTER TABLE orders DROP COLUMN note;",
             note="the forward only backfilled an existing column: dropping it loses older data"),
        Case("ALTER TABLE orders ADD COLUMN note text;", True, "ALTER TABLE orders DROP COLUMN notes;",
             note="rollback drops another column"),
        Case("ALTER TABLE orders ADD COLUMN note TEXT;", False, "ALTER TABLE `orders` DROP COLUMN note;",
             dialect="mysql", note="mysql: rollback drops the column its forward added"),
        Case("UPDATE orders SET note = 'x' WHERE id < 10;", True, "ALTER TABLE orders DROP COLUMN note;",
             dialect="mysql", note="mysql: backfilled, not created"),
        Case("ALTER TABLE a ADD COLUMN c int;\nALTER TABLE a RENAME TO b;", False, "ALTER TABLE b DROP COLUMN c;",
             note="column added, then its table renamed"),
        Case("ALTER TABLE orders ADD COLUMN memo text;\nALTER TABLE orders DROP COLUMN memo;", False,
             note="the forward drops a column it added itself: no older data, no running code"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        if effect.op is not None and item.is_new_column(effect.table, effect.op.name):
            return False  # added earlier in the same part
        return not undoes_forward(ctx.forward, item, effect.op)  # a rollback dropping its own new column

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        return f"dropping {effect.table}.{col} breaks code that still uses it and loses its data"


RULE = DropColumn()
