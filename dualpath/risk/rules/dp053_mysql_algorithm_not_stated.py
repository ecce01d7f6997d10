from collections.abc import Iterable
from dataclasses import replace

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect, Finding
from dualpath.risk.rule import Case, OpRule

_ALTERS = ("add_column", "drop_column", "alter_column_type", "set_not_null", "drop_not_null", "create_index",
           "add_constraint", "convert_charset", "rebuild_table", "rename_column")


class MysqlAlgorithmNotStated(OpRule):
    id = "DP053"
    title = "ALTER TABLE without ALGORITHM and LOCK"
    severity = "info"
    engines = ("mysql",)
    kinds = _ALTERS
    judges_cost = True
    why = ("Without ALGORITHM= and LOCK=, MySQL silently falls back to the most expensive method the "
           "operation needs — a copy with writes blocked. Stated explicitly, the server refuses instead.")
    alternative = ("State what you expect: `, ALGORITHM=INSTANT` or `, ALGORITHM=INPLACE, LOCK=NONE`; "
                   "the statement then fails fast if it would copy or block.")
    fix = "append ALGORITHM=INSTANT (or ALGORITHM=INPLACE, LOCK=NONE) so the server refuses a blocking copy"
    bad = "ALTER TABLE orders ADD COLUMN note TEXT;"
    good = "ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;"

    cases = (
        Case("CREATE INDEX i ON orders (a);", True, note="CREATE INDEX: the clause goes after the column list"),
        Case("CREATE INDEX i ON orders (a) ALGORITHM=INPLACE LOCK=NONE;", False, note="CREATE INDEX, stated"),
        Case("ALTER TABLE orders MODIFY COLUMN total DECIMAL(14, 2) NOT NULL;", False,
             note="a type change always copies: DP051 reports it; stating ALGORITHM=COPY would not help"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        # COPY is what the statement needs anyway (DP051): stating it only writes the outage down
        return (effect.op is not None and not (effect.op.get("algorithm") or effect.op.get("lock"))
                and effect.algorithm != "COPY")

    def check(self, ctx: Context) -> Iterable[Finding]:
        for finding in super().check(ctx):
            if finding.message.startswith("create index"):
                finding = replace(finding, fix="add ALGORITHM=INPLACE LOCK=NONE after the column list, "
                                  "e.g. CREATE INDEX i ON t (a) ALGORITHM=INPLACE LOCK=NONE")
            yield finding

    def message(self, ctx: Context, effect: Effect) -> str:
        expected = effect.algorithm or "INPLACE"
        lock = "" if expected == "INSTANT" else ", LOCK=NONE"
        return (f"{effect.operation.replace('_', ' ')} on {effect.table} can run with ALGORITHM={expected}{lock} "
                "but does not say so: a silent fallback would block writes")


RULE = MysqlAlgorithmNotStated()
