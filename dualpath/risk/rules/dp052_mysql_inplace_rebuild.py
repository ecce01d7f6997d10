from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect, Severity
from dualpath.risk.rule import Case, OpRule, describe


class MysqlInplaceRebuild(OpRule):
    id = "DP052"
    title = "ALTER TABLE rebuilds the table in place"
    severity = "info"
    engines = ("mysql",)
    example_version = (8, 0, 20)
    judges_cost = True
    why = ("An in-place rebuild (ADD PRIMARY KEY, NOT NULL changes, FORCE, DROP COLUMN before 8.0.29, "
           "ADD COLUMN ... AFTER before 8.0.29) allows reads and writes but rewrites every row: hours of "
           "I/O on a big table, twice the disk space, and replicas lag by the whole duration because they "
           "apply it single-threaded. That is a note (info) while the server allows LOCK=NONE; a rebuild "
           "that needs LOCK=SHARED (a FULLTEXT index, adding a column to a table that has one) blocks "
           "writes for the whole rebuild: a warning.")
    alternative = ("Schedule it, run it through gh-ost / pt-online-schema-change, or use the INSTANT "
                   "form the server version offers (e.g. add columns last, upgrade to 8.0.29+).")
    fix = "plan for the rebuild time and replica lag, or use gh-ost / pt-online-schema-change"
    bad = "ALTER TABLE orders DROP COLUMN legacy_code;"
    good = "ALTER TABLE orders ADD COLUMN legacy_flag TINYINT, ALGORITHM=INSTANT;"

    cases = (
        Case("ALTER TABLE orders FORCE;", True, note="FORCE rebuilds the table"),
        Case("ALTER TABLE orders DROP COLUMN legacy_code;", False, version=(8, 0, 29),
             note="MySQL 8.0.29+ drops a column instantly"),
        Case("ALTER TABLE orders ADD INDEX orders_state_idx (state);", False,
             note="a secondary index is built in place without rebuilding the table"),
        Case("ALTER TABLE orders DROP COLUMN legacy_code;", False, dialect="mariadb", version=(10, 11),
             note="mariadb 10.4+ drops a column instantly"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.algorithm == "INPLACE" and effect.cost == "rewrite"

    def level(self, ctx: Context, item: Item, effect: Effect) -> Severity | None:
        # with LOCK=NONE the rebuild is online (a note); when the server needs LOCK=SHARED writes wait
        return "warning" if effect.lock != "NONE" else None

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ')} {describe(effect)}"


RULE = MysqlInplaceRebuild()
