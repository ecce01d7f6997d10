from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class VacuumFull(OpRule):
    id = "DP037"
    title = "VACUUM FULL"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("vacuum_full",)
    why = ("VACUUM FULL rewrites the table into a new file under ACCESS EXCLUSIVE and needs room for a "
           "second copy: the table is unavailable for the whole rewrite.")
    alternative = "Use pg_repack or pg_squeeze to compact online, or plain VACUUM, which blocks nobody."
    fix = "use pg_repack (online) or plain VACUUM"
    bad = "VACUUM FULL orders;"
    good = "VACUUM (ANALYZE) orders;"

    cases = (
        Case("VACUUM (FULL, ANALYZE) public.orders;", True, note="FULL as an option in parentheses"),
        Case("VACUUM FULL;", True, note="the whole database"),
        Case("VACUUM (ANALYZE, VERBOSE) orders;", False, note="plain VACUUM blocks nobody"),
        Case("VACUUM (FULL false, ANALYZE) orders;", False, note="FULL switched off: a plain VACUUM"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        target = effect.table or "every table in the database"
        return f"VACUUM FULL rewrites {target} under ACCESS EXCLUSIVE"


RULE = VacuumFull()
