from collections.abc import Iterable

from dualpath.risk.columns import new_columns
from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


class PreferText(Rule):
    id = "DP026"
    title = "varchar(n) instead of text"
    severity = "info"
    engines = ("postgresql",)
    why = ("In PostgreSQL varchar(n) is stored like text; the length limit only adds a migration later: "
           "shrinking it, or changing it on old versions, rewrites the table under ACCESS EXCLUSIVE.")
    alternative = "Use text, with a CHECK (char_length(col) <= n) constraint if a limit is a real rule."
    fix = "use text, and a CHECK constraint if the length limit matters"
    bad = "CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(255));"
    good = "CREATE TABLE customers (id bigint PRIMARY KEY, email text CHECK (char_length(email) <= 255));"

    cases = (
        Case("CREATE TABLE customers (id bigint PRIMARY KEY, email varchar, name character varying);", False,
             note="varchar without a length is text"),
        Case("ALTER TABLE customers ADD COLUMN email character varying(320);", True,
             note="spelled character varying, in ADD COLUMN"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, table, col in new_columns(ctx):
            if col.get("type") == "varchar" and col.get("typmods"):
                yield ctx.finding(self, item, f"{table}.{col.get('column')} is varchar({col['typmods'][0]}); "
                                  "prefer text with a CHECK")


RULE = PreferText()
