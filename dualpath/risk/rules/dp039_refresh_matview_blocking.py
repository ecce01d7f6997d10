from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class RefreshMatviewBlocking(OpRule):
    id = "DP039"
    title = "REFRESH MATERIALIZED VIEW without CONCURRENTLY"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("refresh_matview",)
    why = "A plain refresh holds ACCESS EXCLUSIVE on the view: every read of it waits for the whole refresh."
    alternative = ("Give the view a unique index and use REFRESH MATERIALIZED VIEW CONCURRENTLY: reads "
                   "continue.")
    fix = "add a unique index on the view and use REFRESH MATERIALIZED VIEW CONCURRENTLY"
    bad = "REFRESH MATERIALIZED VIEW sales_summary;"
    good = "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;"

    cases = (
        Case("refresh materialized view public.sales_summary with data;", True, note="lower case, WITH DATA"),
        Case("CREATE MATERIALIZED VIEW daily AS SELECT 1 AS d WITH NO DATA;\nREFRESH MATERIALIZED VIEW daily;", False,
             note="a view created in the same change: nobody reads it yet"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant != "concurrent"

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"refreshing {effect.table} blocks every read of it until done"


RULE = RefreshMatviewBlocking()
