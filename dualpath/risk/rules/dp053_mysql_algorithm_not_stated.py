from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule

_ALTERS = ("add_column", "drop_column", "alter_column_type", "set_not_null", "drop_not_null", "create_index",
           "add_constraint", "convert_charset", "rebuild_table", "rename_column")


class MysqlAlgorithmNotStated(OpRule):
    id = "DP053"
    title = "ALTER TABLE without ALGORITHM and LOCK"
    severity = "info"
    engines = ("mysql",)
    kinds = _ALTERS
    why = ("Without ALGORITHM= and LOCK=, MySQL silently falls back to the most expensive method the "
           "operation needs — a copy with writes blocked. Stated explicitly, the server refuses instead.")
    alternative = ("State what you expect: `, ALGORITHM=INSTANT` or `, ALGORITHM=INPLACE, LOCK=NONE`; "
                   "the statement then fails fast if it would copy or block.")
    fix = "append ALGORITHM=INSTANT (or ALGORITHM=INPLACE, LOCK=NONE) so the server refuses a blocking copy"
    bad = "ALTER TABLE orders ADD COLUMN note TEXT;"
    good = "ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;"

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and not (effect.op.get("algorithm") or effect.op.get("lock"))

    def message(self, ctx: Context, effect: Effect) -> str:
        expected = f"ALGORITHM={effect.algorithm}" if effect.algorithm else "ALGORITHM"
        return f"{effect.operation.replace('_', ' ')} on {effect.table} does not state {expected}, LOCK=..."


RULE = MysqlAlgorithmNotStated()
