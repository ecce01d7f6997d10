from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


class SqliteNeedsRebuild(OpRule):
    id = "DP057"
    title = "ALTER TABLE form SQLite does not have"
    severity = "error"
    engines = ("sqlite",)
    why = ("SQLite's ALTER TABLE only renames tables and columns, adds columns (nullable or with a "
           "constant default, no PRIMARY KEY/UNIQUE) and drops columns (3.35+). Anything else fails.")
    alternative = ("Use the 12-step rebuild: CREATE TABLE new_t (...); INSERT INTO new_t SELECT ... FROM t; "
                   "DROP TABLE t; ALTER TABLE new_t RENAME TO t; recreate indexes and triggers; all in "
                   "one transaction with foreign keys off.")
    fix = "rebuild the table: create new_t, copy rows, drop t, rename new_t to t, recreate indexes"
    bad = "ALTER TABLE orders ALTER COLUMN total TYPE REAL;"
    good = ("CREATE TABLE orders_new (id INTEGER PRIMARY KEY, total REAL);\n"
            "INSERT INTO orders_new (id, total) SELECT id, total FROM orders;\n"
            "DROP TABLE orders;\n"
            "ALTER TABLE orders_new RENAME TO orders;")

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "unsupported"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"SQLite cannot {effect.operation.replace('_', ' ')} on {effect.table}: {effect.notes}"


RULE = SqliteNeedsRebuild()
