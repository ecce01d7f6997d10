from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule, describe


class MysqlCopyAlgorithm(OpRule):
    id = "DP051"
    title = "ALTER TABLE copies the table (ALGORITHM=COPY)"
    severity = "warning"
    engines = ("mysql",)
    judges_cost = True
    why = ("With ALGORITHM=COPY MySQL/MariaDB build a full copy of the table and block writes until it "
           "is done: a column type change, CONVERT TO CHARACTER SET, a foreign key with "
           "foreign_key_checks on, a CHECK constraint, dropping the primary key, AUTO_INCREMENT or "
           "stored generated columns.")
    alternative = ("Run it with an online schema change tool (gh-ost, pt-online-schema-change), or "
                   "rework it: add a new column of the new type and backfill in batches.")
    fix = "use gh-ost / pt-online-schema-change, or add a new column and backfill in batches"
    bad = "ALTER TABLE orders MODIFY COLUMN total DECIMAL(14, 2) NOT NULL;"
    good = "ALTER TABLE orders ADD COLUMN total_v2 DECIMAL(14, 2), ALGORITHM=INSTANT;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.algorithm == "COPY"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ')} {describe(effect)}"


RULE = MysqlCopyAlgorithm()
