from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class RenameEnumValue(OpRule):
    id = "DP064"
    title = "Renaming an enum value breaks running code"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("rename_enum_value",)
    why = ("ALTER TYPE ... RENAME VALUE changes the label every row already stores. Running code that "
           "writes or compares the old label fails at once (invalid input value for enum), and the label "
           "stays renamed if the deploy is rolled back.")
    alternative = ("Add the new value (ADD VALUE), move the application to it, update the rows in batches, "
                   "and stop using the old value; leave it in the type.")
    fix = "add the new value, switch the application and the rows to it, keep the old value"
    bad = "ALTER TYPE order_state RENAME VALUE 'shipped' TO 'dispatched';"
    good = "ALTER TYPE order_state ADD VALUE IF NOT EXISTS 'dispatched';"

    cases = (
        Case('ALTER TYPE public."OrderState" RENAME VALUE \'shipped\' TO \'dispatched\';', True,
             note="quoted, schema-qualified type"),
        Case("ALTER TYPE order_state RENAME TO order_status;", False,
             note="renaming the type keeps the labels; columns follow it"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        old, new = (op.get("old"), op.get("new")) if op else ("?", "?")
        return f"renaming {op.name if op else 'the enum'} value '{old}' to '{new}' breaks code that still uses '{old}'"


RULE = RenameEnumValue()
