from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class AddRequiredColumn(OpRule):
    id = "DP007"
    title = "NOT NULL column added without a default"
    severity = "error"
    engines = ("postgresql", "sqlite", "mysql")
    kinds = ("add_column",)
    why = ("Existing rows have no value for the new column, so on PostgreSQL and SQLite the statement fails "
           "on any table that has rows. MySQL and MariaDB fill existing rows with an implicit default, but "
           "in strict mode (the default) every INSERT of the running application that does not name the "
           "new column then fails.")
    alternative = ("Add the column nullable (or with a constant default), backfill it in batches, then "
                   "add the NOT NULL constraint safely.")
    fix = "add the column with a DEFAULT, or nullable and backfill before SET NOT NULL"
    bad = "ALTER TABLE orders ADD COLUMN region text NOT NULL;"
    good = "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';"

    cases = (
        Case("ALTER TABLE orders ADD COLUMN tier INT NOT NULL;", True, dialect="mysql",
             note="mysql: inserts that do not name the column fail in strict mode"),
        Case("ALTER TABLE orders ADD COLUMN tier INT NOT NULL DEFAULT 0;", False, dialect="mysql",
             note="mysql: with a default"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        if op is None or not op.get("not_null") or op.get("has_default"):
            return False
        if any(op.get(flag) for flag in ("serial", "identity", "stored_generated", "auto_increment")):
            return False
        return ctx.family != "mysql" or ctx.schema is None or "STRICT" in ctx.schema.settings.get("sql_mode", "STRICT")

    def message(self, ctx: Context, effect: Effect) -> str:
        col = effect.op.name if effect.op else "column"
        if ctx.family == "mysql":
            return (f"NOT NULL column {effect.table}.{col} has no default: every INSERT that does not name it "
                    "fails (strict sql_mode)")
        return f"NOT NULL column {effect.table}.{col} has no default: fails as soon as the table has rows"


RULE = AddRequiredColumn()
