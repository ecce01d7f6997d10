from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class Cluster(OpRule):
    id = "DP038"
    title = "CLUSTER"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("cluster",)
    why = "CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: reads and writes wait."
    alternative = "Use pg_repack --order-by to reorder online."
    fix = "use pg_repack --order-by instead"
    bad = "CLUSTER orders USING orders_created_idx;"
    good = "ANALYZE orders;"

    cases = (
        Case("CLUSTER public.orders;", True, note="re-clusters on the index it was clustered on before"),
        Case("ALTER TABLE orders CLUSTER ON orders_created_idx;", False,
             note="only marks the index for a later CLUSTER: no rewrite"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"CLUSTER rewrites {effect.table or 'every clustered table'} under ACCESS EXCLUSIVE"


RULE = Cluster()
