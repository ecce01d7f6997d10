from collections.abc import Iterable

from dualpath.risk.columns import new_columns
from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


class PreferTimestamptz(Rule):
    id = "DP027"
    title = "timestamp without time zone"
    severity = "info"
    engines = ("postgresql",)
    why = ("`timestamp` stores wall-clock time without a zone: the same instant written from servers or "
           "sessions in different zones compares wrong, and DST changes make values ambiguous.")
    alternative = "Use timestamptz (timestamp with time zone); it stores an instant."
    fix = "use timestamptz"
    bad = "CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamp NOT NULL);"
    good = "CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);"

    cases = (
        Case("CREATE TABLE events (id bigint PRIMARY KEY, at timestamp(3) without time zone);", True,
             note="timestamp(3) without time zone, spelled out"),
        Case("CREATE TABLE events (id bigint PRIMARY KEY, at timestamp with time zone, on_day date);", False,
             note="timestamp with time zone is timestamptz"),
        Case("ALTER TABLE events ADD COLUMN seen_at timestamp;", True, note="a new column"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item, table, col in new_columns(ctx):
            if col.get("type") == "timestamp":
                yield ctx.finding(self, item, f"{table}.{col.get('column')} is timestamp without time zone")


RULE = PreferTimestamptz()
