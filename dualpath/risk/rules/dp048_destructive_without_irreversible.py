from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule

DESTRUCTIVE = ("drop_table", "drop_column", "truncate", "drop_database", "drop_schema")


class DestructiveWithoutIrreversible(Rule):
    id = "DP048"
    title = "Destructive change not marked irreversible"
    severity = "error"
    scope = "change"
    why = ("Dropping a table or column or truncating loses data that no rollback brings back. Marked "
           "irreversible, dualpath takes and verifies a backup and asks for an approval first.")
    alternative = "Mark the change `-- dualpath:irreversible reason=\"...\"`."
    fix = 'add -- dualpath:irreversible reason="..." to the change'
    bad = "ALTER TABLE orders DROP COLUMN legacy_code;"
    bad_rollback = "ALTER TABLE orders ADD COLUMN legacy_code text;"
    good = ('-- dualpath:irreversible reason="legacy_code unused since 2023"\n'
            "ALTER TABLE orders DROP COLUMN legacy_code;")
    good_rollback = "ALTER TABLE orders ADD COLUMN legacy_code text;"

    cases = (
        Case("DELETE FROM orders;", True, rollback="SELECT 1;", note="a DELETE without WHERE loses every row"),
        Case("DROP SCHEMA app CASCADE;", True, rollback="CREATE SCHEMA app;", note="DROP SCHEMA"),
        Case("CREATE TABLE tmp_ids (id bigint);\nDROP TABLE tmp_ids;", False, rollback="SELECT 1;",
             note="a table created earlier in the same change holds no older data"),
        Case("DELETE FROM orders WHERE state = 'test';", False, rollback="SELECT 1;",
             note="a DELETE with a WHERE (DP042/DP043 judge it)"),
        Case("DROP TABLE IF EXISTS orders;", True, dialect="mysql", rollback="CREATE TABLE orders (id bigint);",
             note="mysql: IF EXISTS still drops the data"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        if ctx.change.irreversible is not None:
            return
        for item in ctx.forward:
            for effect in item.effects:
                destructive = effect.operation in DESTRUCTIVE or (
                    effect.operation == "delete" and effect.op is not None and not effect.op.get("has_where"))
                if destructive and not item.is_new(effect.table):
                    what = effect.operation.replace("_", " ").upper()
                    yield ctx.finding(self, item, f"{what} loses data; the change is not marked irreversible")
                    break


RULE = DestructiveWithoutIrreversible()
