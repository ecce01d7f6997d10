from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class TruncateCascade(OpRule):
    id = "DP020"
    title = "TRUNCATE ... CASCADE"
    severity = "error"
    engines = ("postgresql",)
    kinds = ("truncate",)
    why = ("CASCADE also empties every table that references this one, and every table referencing "
           "those — often far more than intended.")
    alternative = "Name every table to empty explicitly, without CASCADE, or delete in batches."
    fix = "list the tables to truncate explicitly and drop CASCADE"
    bad = "TRUNCATE customers CASCADE;"
    good = "TRUNCATE staging_import;"

    cases = (
        Case("TRUNCATE customers RESTRICT;", False,
             note="RESTRICT (the default) refuses when other tables reference it"),
        Case("truncate only public.customers, addresses cascade;", True, note="lower case, ONLY, a list of tables"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and bool(effect.op.get("cascade"))

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"TRUNCATE {effect.table} CASCADE also empties every table that references it"


RULE = TruncateCascade()
