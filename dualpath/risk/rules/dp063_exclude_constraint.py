from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class ExcludeConstraint(OpRule):
    id = "DP063"
    title = "EXCLUDE constraint built under ACCESS EXCLUSIVE"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("add_constraint",)
    why = ("ADD CONSTRAINT ... EXCLUDE builds its index and checks every row while holding ACCESS "
           "EXCLUSIVE on the table: reads and writes wait for the whole build. Unlike UNIQUE, an exclusion "
           "constraint cannot be attached to an index built CONCURRENTLY beforehand, and there is no NOT VALID.")
    alternative = ("Build it while the table is small or new, or in a maintenance window; for equality-only "
                   "exclusion use a UNIQUE index built CONCURRENTLY and attached with USING INDEX.")
    fix = "schedule it in a maintenance window, or use a unique index built CONCURRENTLY when equality is enough"
    bad = "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);"
    good = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS bookings_room_day ON bookings (room, day);"

    cases = (Case("CREATE TABLE bookings (room int, during tsrange);\n"
                  "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);",
                  False, note="on a table created in the same change: it is empty"),)

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and effect.op.variant == "exclude"

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op and effect.op.name else "EXCLUDE constraint"
        return f"{name} builds its index on {effect.table} and checks every row under ACCESS EXCLUSIVE"


RULE = ExcludeConstraint()
