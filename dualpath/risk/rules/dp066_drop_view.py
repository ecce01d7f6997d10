from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.objects import made_by, undoes_forward
from dualpath.risk.rule import Case, OpRule


class DropView(OpRule):
    id = "DP066"
    title = "Dropping a view breaks running code"
    severity = "warning"
    engines = ("postgresql", "mysql")
    kinds = ("drop_view",)
    why = ("Queries of the running application that read the view (or materialized view) fail the moment "
           "the drop commits; a rollback can recreate the view, but a materialized view's contents must be "
           "refreshed again first.")
    alternative = ("Stop reading the view in the application first (deploy), then drop it in a later change; "
                   "to change a view, CREATE OR REPLACE VIEW keeps it in place.")
    fix = "remove every use of the view from the application first, or use CREATE OR REPLACE VIEW"
    bad = "DROP VIEW open_orders;"
    good = "CREATE OR REPLACE VIEW open_orders AS SELECT id, total FROM orders WHERE state = 'open';"

    cases = (
        Case("CREATE VIEW v AS SELECT 1 AS one;", False, "DROP VIEW v;",
             note="rollback drops the view its forward made"),
        Case("CREATE VIEW v AS SELECT 1 AS one;\nDROP VIEW v;", False, note="created and dropped in the same change"),
        Case("DROP MATERIALIZED VIEW customer_totals;", True, note="a materialized view"),
        Case("DROP VIEW IF EXISTS `open_orders`;", True, dialect="mysql", note="mysql"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        if item.part == "rollback":
            return not undoes_forward(ctx.forward, item, effect.op)
        earlier = ctx.forward[: ctx.forward.index(item)]
        return effect.op is None or not made_by(earlier, effect.op)

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op else "the view"
        return f"dropping view {name} breaks code that still reads it"


RULE = DropView()
