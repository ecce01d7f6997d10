from collections.abc import Iterable

from dualpath.risk.columns import new_columns
from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Rule

SMALL_INTS = {"int2", "int4", "smallint", "integer", "int", "serial", "serial4", "serial2", "smallserial"}


class PreferBigint(Rule):
    id = "DP024"
    title = "Key column typed int or smallint"
    severity = "info"
    engines = ("postgresql",)
    why = ("An int key runs out at 2,147,483,647. Changing it to bigint later rewrites the table and "
           "every referencing table under ACCESS EXCLUSIVE — the worst migration to do on a big table.")
    alternative = "Use bigint (or bigint GENERATED ... AS IDENTITY) for keys and for columns referencing them."
    fix = "use bigint for ids and foreign keys"
    bad = "CREATE TABLE orders (id integer PRIMARY KEY, customer_id int);"
    good = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);"

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, table, col in new_columns(ctx):
            name = str(col.get("column", ""))
            keyish = col.get("primary") or col.get("identity") or name == "id" or name.endswith("_id")
            if keyish and col.get("type") in SMALL_INTS:
                yield ctx.finding(self, item, f"{table}.{name} is {col.get('type')}: ids outgrow it; use bigint")


RULE = PreferBigint()
