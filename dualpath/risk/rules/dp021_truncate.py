from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class Truncate(OpRule):
    id = "DP021"
    title = "TRUNCATE in a migration"
    severity = "warning"
    kinds = ("truncate",)
    why = ("TRUNCATE removes every row at once under an exclusive lock; on MySQL it commits implicitly "
           "and cannot be rolled back.")
    alternative = ("If the data must go, mark the change `-- dualpath:irreversible reason=...` so a "
                   "backup is taken; for live tables delete in batches with `-- dualpath:batch`.")
    fix = "delete in batches, or mark the change -- dualpath:irreversible so a backup is taken"
    bad = "TRUNCATE TABLE sessions;"
    good = "CREATE TABLE sessions_v2 (id bigint PRIMARY KEY);"

    cases = (
        Case("TRUNCATE sessions;", True, dialect="mysql",
             note="mysql: without the TABLE keyword, and it commits implicitly"),
        Case("CREATE TABLE import_batch (id bigint PRIMARY KEY);\nTRUNCATE import_batch;", False,
             note="a table created in the same change holds no data yet"),
        Case("DELETE FROM sessions WHERE expires_at < now();", False, note="a DELETE with a WHERE is not a TRUNCATE"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"TRUNCATE removes every row of {effect.table}"


RULE = Truncate()
