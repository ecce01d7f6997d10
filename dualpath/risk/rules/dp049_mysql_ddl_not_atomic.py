from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule

_NOT_DDL = {"update", "delete", "insert", "insert_select", "set", "set_timeout", "transaction", "other"}


class MysqlDdlNotAtomic(Rule):
    id = "DP049"
    title = "Several statements with DDL on MySQL cannot be rolled back together"
    severity = "warning"
    engines = ("mysql",)
    example_dialect = "mysql"
    why = ("MySQL and MariaDB commit implicitly before and after every DDL statement. If the third of "
           "five statements fails, the first two stay applied and the transaction around the change "
           "undoes nothing.")
    alternative = ("One DDL statement per change (several ALTER clauses may share one ALTER TABLE), and "
                   "data changes in changes of their own.")
    fix = "split the change: one DDL statement per change, data changes separately"
    bad = "ALTER TABLE orders ADD COLUMN note text;\nUPDATE orders SET note = '' WHERE note IS NULL;"
    good = "ALTER TABLE orders ADD COLUMN note text, ADD COLUMN region text;"

    cases = (Case("ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN region text;", True,
                  note="reported as info when dualpath runs the change (its journal resumes it), "
                  "as a warning with lint --runner other"),)

    def check(self, ctx: Context) -> Iterable[Finding]:
        for part in (ctx.forward, ctx.rollback):
            ddl = [i for i in part if any(op.kind not in _NOT_DDL for op in i.ops)]
            writes = [i for i in part if i.ops]
            if ddl and len(writes) > 1 and ctx.runner == "dualpath":
                yield ctx.finding(self, ddl[0], f"{len(writes)} statements with implicit commits: a failure "
                                  "halfway leaves them applied; dualpath's statement journal resumes the change "
                                  "after the last one that ran", severity="info")
            elif ddl and len(writes) > 1:
                yield ctx.finding(self, ddl[0], f"{len(writes)} statements with implicit commits: a failure "
                                  "halfway leaves the change half applied")


RULE = MysqlDdlNotAtomic()
