from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ForeignKeyChecksDisabled(OpRule):
    id = "DP056"
    title = "foreign_key_checks turned off"
    severity = "warning"
    engines = ("mysql",)
    kinds = ("set",)
    why = ("With foreign_key_checks=0, rows that break foreign keys go in unnoticed and stay; a foreign "
           "key added meanwhile is never checked against existing rows.")
    alternative = ("Keep checks on and fix orphan rows first; if you must turn them off for an in-place "
                   "FK add, check for orphans with a query afterwards and turn checks back on.")
    fix = "keep foreign_key_checks on, or verify orphans afterwards and SET foreign_key_checks = 1"
    bad = "SET foreign_key_checks = 0;"
    good = "SET foreign_key_checks = 1;"

    cases = (
        Case("SET FOREIGN_KEY_CHECKS=OFF;", True, note="upper case, OFF"),
        Case("SET SESSION foreign_key_checks = false;", True, note="SESSION, false"),
        Case("SET @@foreign_key_checks = 0;", True, note="the @@ spelling"),
        Case("SET unique_checks = 0;", False, note="unique_checks is another setting"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        op = effect.op
        off = str(op.get("value")).lower() in ("0", "off", "false") if op is not None else False
        return op is not None and op.name == "foreign_key_checks" and off

    def message(self, ctx: Context, effect: Effect) -> str:
        return "foreign_key_checks = 0 lets rows that break foreign keys in unnoticed"


RULE = ForeignKeyChecksDisabled()
