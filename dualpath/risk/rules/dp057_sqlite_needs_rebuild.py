from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


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

    cases = (
        Case("ALTER TABLE orders ADD COLUMN code TEXT UNIQUE;", True, note="ADD COLUMN cannot add UNIQUE"),
        Case("ALTER TABLE orders ADD COLUMN created_at TEXT DEFAULT CURRENT_TIMESTAMP;", True,
             note="a non-constant default is refused by ADD COLUMN"),
        Case("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);", True,
             note="SQLite has no ADD CONSTRAINT"),
        Case("ALTER TABLE orders RENAME COLUMN note TO remark;", False, note="RENAME COLUMN exists since 3.25"),
        Case("ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;", False,
             note="NOT NULL with a constant default"),
        Case("ALTER TABLE orders DROP COLUMN note;", False, note="DROP COLUMN exists since 3.35"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "unsupported"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"SQLite cannot {effect.operation.replace('_', ' ')} on {effect.table}: {effect.notes}"


RULE = SqliteNeedsRebuild()
