from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class DetachPartitionNotConcurrently(OpRule):
    id = "DP018"
    title = "DETACH PARTITION without CONCURRENTLY"
    severity = "info"
    engines = ("postgresql",)
    kinds = ("detach_partition",)
    why = ("DETACH PARTITION takes ACCESS EXCLUSIVE on the partitioned table: every query on it waits. "
           "The detach itself is quick (no scan, no rewrite), so under dualpath's lock timeout it is a note, "
           "not a hazard.")
    alternative = ("On PostgreSQL 14+ use `DETACH PARTITION ... CONCURRENTLY` in a change marked "
                   "`-- dualpath:no-transaction`; it only takes SHARE UPDATE EXCLUSIVE.")
    fix = "use ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), outside a transaction"
    bad = "ALTER TABLE measurements DETACH PARTITION measurements_2020;"
    good = "-- dualpath:no-transaction\nALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;"

    cases = (
        Case("-- dualpath:no-transaction\n"
             "alter table measurements detach partition measurements_2020 concurrently;", False,
             note="CONCURRENTLY in lower case"),
        Case("ALTER TABLE public.measurements DETACH PARTITION public.measurements_2020;", True,
             note="schema-qualified names"),
        Case("-- dualpath:no-transaction\nALTER TABLE measurements DETACH PARTITION measurements_2020 FINALIZE;", False,
             note="FINALIZE completes an interrupted concurrent detach under SHARE UPDATE EXCLUSIVE"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not effect.op.get("concurrent")

    def message(self, ctx: Context, effect: Effect) -> str:
        extra = "" if ctx.catalogue.supports("detach_concurrently") else " (CONCURRENTLY needs PostgreSQL 14)"
        return f"DETACH PARTITION takes ACCESS EXCLUSIVE on {effect.table}{extra}"


RULE = DetachPartitionNotConcurrently()
