from collections.abc import Iterable

from dualpath.risk.columns import new_columns
from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule

SMALL_INTS = {"int2", "int4", "smallint", "integer", "int", "serial", "serial4", "serial2", "smallserial"}


class PreferBigint(Rule):
    id = "DP024"
    title = "Column typed int or smallint"
    severity = "info"
    engines = ("postgresql",)
    why = ("An int column runs out at 2,147,483,647. Changing it to bigint later rewrites the table and "
           "every referencing table under ACCESS EXCLUSIVE — the worst migration to do on a big table.")
    alternative = ("Use bigint (or bigint GENERATED ... AS IDENTITY) for keys, references and counters; "
                   "the extra 4 bytes cost less than the later migration.")
    fix = "use bigint"
    bad = "CREATE TABLE orders (id integer PRIMARY KEY, customer_id int);"
    good = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);"

    cases = (
        Case("CREATE TABLE orders (id int8 PRIMARY KEY, customer_id bigint);", False, note="int8 is bigint"),
        Case("ALTER TABLE orders ADD COLUMN customer_id int4;", True, note="a new column typed int4 (integer)"),
        Case("CREATE TABLE IF NOT EXISTS app.orders (id serial PRIMARY KEY);", True,
             note="serial is an integer column too; schema-qualified"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, table, col in new_columns(ctx):
            name = str(col.get("column", ""))
            if col.get("type") not in SMALL_INTS:
                continue
            keyish = col.get("primary") or col.get("identity") or name == "id" or name.endswith("_id")
            what = "ids outgrow it" if keyish else "counters and sums outgrow it"
            yield ctx.finding(self, item, f"{table}.{name} is {col.get('type')}: {what}; use bigint")


RULE = PreferBigint()
