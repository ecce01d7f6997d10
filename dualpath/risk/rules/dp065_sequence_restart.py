from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class SequenceRestart(OpRule):
    id = "DP065"
    title = "Sequence restarted below values already handed out"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("restart_sequence",)
    judges_cost = True
    why = ("ALTER SEQUENCE ... RESTART (or ALTER COLUMN ... RESTART on an identity column) hands out again "
           "numbers the sequence gave before: the running application's next inserts fail with duplicate "
           "keys, or worse, reuse ids that other systems still hold. Whether the new start is below the "
           "sequence's current value depends on the database: with --url dualpath reads it.")
    alternative = "Restart only above the current value (SELECT last_value FROM the sequence), or leave it."
    fix = "restart above the sequence's current value, or do not restart it"
    bad = "ALTER SEQUENCE invoice_seq RESTART;"
    good = "ALTER SEQUENCE invoice_seq INCREMENT BY 10;"

    cases = (Case("ALTER TABLE orders ALTER COLUMN id RESTART WITH 1;", True,
                  note="an identity column restarted: depends on its sequence's current value"),)

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant != "ahead"

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        target = f"{op.table}.{op.name}" if op and op.table else (op.name if op else "sequence")
        if op is not None and op.variant == "behind":
            return (f"restarting {target} at {op.get('start')} hands out again values up to {op.get('last')} "
                    "it gave before: inserts collide with existing rows")
        return f"restarting {target} may hand out again values it gave before: inserts collide with existing rows"


RULE = SequenceRestart()
