from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class SqliteVacuum(OpRule):
    id = "DP058"
    title = "VACUUM in a SQLite migration"
    severity = "warning"
    engines = ("sqlite",)
    kinds = ("vacuum",)
    why = ("VACUUM rewrites the whole database file, needs up to twice its size in free space, blocks "
           "every writer for the duration and cannot run inside a transaction.")
    alternative = "Run VACUUM (or PRAGMA incremental_vacuum) as maintenance, not as a migration."
    fix = "move VACUUM out of the migration into maintenance"
    bad = "VACUUM;"
    good = "PRAGMA optimize;"

    cases = (
        Case("VACUUM main;", True, note="a schema name"),
        Case("VACUUM INTO 'backup.db';", False,
             note="VACUUM INTO writes a compacted copy to another file; the database itself is not rewritten"),
        Case("PRAGMA incremental_vacuum;", False, note="incremental vacuum frees pages without rewriting the file"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return "VACUUM rewrites the whole database file and blocks writers"


RULE = SqliteVacuum()
