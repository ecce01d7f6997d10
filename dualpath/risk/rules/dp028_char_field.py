from collections.abc import Iterable

from dualpath.risk.columns import new_columns
from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


class CharField(Rule):
    id = "DP028"
    title = "char(n) column"
    severity = "info"
    engines = ("postgresql",)
    why = ("char(n) pads values with spaces, which leak into comparisons and application code, and is "
           "no faster than text.")
    alternative = "Use text (with a CHECK constraint for a fixed length)."
    fix = "use text, with CHECK (char_length(col) = n) if the length is fixed"
    bad = "CREATE TABLE countries (code char(2) PRIMARY KEY);"
    good = "CREATE TABLE countries (code text PRIMARY KEY CHECK (char_length(code) = 2));"

    cases = (
        Case("CREATE TABLE countries (code character(2) PRIMARY KEY);", True, note="spelled character(n)"),
        Case("ALTER TABLE countries ADD COLUMN flag char;", True, note="bare char is char(1)"),
        Case("CREATE TABLE flags (id bigint PRIMARY KEY, kind \"char\");", False,
             note="quoted \"char\" is PostgreSQL's one-byte internal type, not blank-padded char(n)"),
        Case("CREATE TABLE countries (code varchar(2) PRIMARY KEY);", False, note="varchar is not padded"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, table, col in new_columns(ctx):
            if col.get("type") == "bpchar":  # char(n); a quoted "char" is the internal one-byte type
                yield ctx.finding(self, item, f"{table}.{col.get('column')} is char(n): values are blank-padded")


RULE = CharField()
