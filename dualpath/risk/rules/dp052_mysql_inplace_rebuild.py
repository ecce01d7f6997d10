from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule, describe


class MysqlInplaceRebuild(OpRule):
    id = "DP052"
    title = "ALTER TABLE rebuilds the table in place"
    severity = "warning"
    engines = ("mysql",)
    example_version = (8, 0, 20)
    why = ("An in-place rebuild (ADD PRIMARY KEY, NOT NULL changes, the first FULLTEXT index, DROP "
           "COLUMN before 8.0.29, ADD COLUMN ... AFTER before 8.0.29) allows reads and writes but "
           "rewrites every row: hours of I/O on a big table, twice the disk space, and replicas lag "
           "by the whole duration because they apply it single-threaded.")
    alternative = ("Schedule it, run it through gh-ost / pt-online-schema-change, or use the INSTANT "
                   "form the server version offers (e.g. add columns last, upgrade to 8.0.29+).")
    fix = "plan for the rebuild time and replica lag, or use gh-ost / pt-online-schema-change"
    bad = "ALTER TABLE orders DROP COLUMN legacy_code;"
    good = "ALTER TABLE orders ADD COLUMN legacy_flag TINYINT, ALGORITHM=INSTANT;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.algorithm == "INPLACE" and effect.cost == "rewrite"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ')} {describe(effect)}"


RULE = MysqlInplaceRebuild()
