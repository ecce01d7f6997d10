from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class DisableTrigger(OpRule):
    id = "DP019"
    title = "Disabling triggers"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("disable_trigger",)
    why = ("While a trigger is disabled, writes by the application skip it too — audit rows, derived "
           "columns and foreign-key checks (DISABLE TRIGGER ALL) are silently lost. It also takes "
           "SHARE ROW EXCLUSIVE, blocking writes.")
    alternative = ("Make the trigger function skip the migration's own writes (e.g. check a setting with "
                   "current_setting('app.migrating', true)) instead of disabling it for everyone.")
    fix = "keep the trigger enabled; let the trigger function skip rows written by the migration"
    bad = "ALTER TABLE orders DISABLE TRIGGER ALL;"
    good = "ALTER TABLE orders ENABLE TRIGGER orders_audit;"

    cases = (
        Case("ALTER TABLE public.orders DISABLE TRIGGER USER;", True, note="every user trigger, schema-qualified"),
        Case("alter table orders disable trigger orders_audit;", True, note="one named trigger, lower case"),
        Case("ALTER TABLE orders ENABLE ALWAYS TRIGGER orders_audit;", False, note="enabling a trigger"),
        Case("ALTER TABLE orders DISABLE ROW LEVEL SECURITY;", False, note="row level security is not a trigger"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"triggers on {effect.table} are off for every session until re-enabled"


RULE = DisableTrigger()
