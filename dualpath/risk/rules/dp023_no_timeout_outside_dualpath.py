from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Effect, Finding
from dualpath.risk.rule import Case, Rule

# statements that take no lock another session could make them wait for
_NO_WAIT = {"none", "unknown", "NONE"}
# MySQL: every DDL statement waits for an exclusive metadata lock, even an INSTANT one
_NO_MDL = {"set", "set_timeout", "transaction", "other", "create_routine", "insert", "create_table"}


def waits(effect: Effect, family: str) -> bool:
    if family == "mysql":
        return effect.operation not in _NO_MDL
    return effect.lock not in _NO_WAIT


class NoTimeoutOutsideDualpath(Rule):
    id = "DP023"
    title = "Blocking DDL without its own lock timeout"
    severity = "info"
    engines = ("postgresql", "mysql")
    why = ("dualpath's runner sets a lock and statement timeout for every statement. Run the same file "
           "with psql, mysql or another tool and a blocked ALTER waits forever while every other query "
           "queues behind it.")
    alternative = ("Nothing to do when only dualpath runs this file. Otherwise start it with "
                   "`SET lock_timeout = '5s'` (PostgreSQL) or `SET SESSION lock_wait_timeout = 5` (MySQL).")
    fix = "only dualpath sets the timeouts: add SET lock_timeout = '5s' if other tools run this file"
    bad = "ALTER TABLE orders ADD COLUMN note text;"
    good = "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;"

    cases = (
        Case("CREATE TABLE notes (id bigint PRIMARY KEY, body text);", False,
             note="a new table takes no lock another session holds"),
        Case("ALTER TABLE orders ADD COLUMN note text;\nSET lock_timeout = '5s';", True,
             note="the timeout is set after the ALTER it should protect"),
        Case("ALTER TABLE orders ADD COLUMN note text, ALGORITHM=INSTANT;", True, dialect="mysql",
             note="mysql: even an INSTANT ALTER waits for the table's metadata lock"),
        Case("SET SESSION lock_wait_timeout = 5;\nALTER TABLE orders ADD COLUMN note text;", False, dialect="mysql",
             note="mysql: lock_wait_timeout set first"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for part in (ctx.forward, ctx.rollback):
            for item in part:
                if any(op.kind == "set_timeout" for op in item.ops):
                    break
                blocking = [e for e in item.effects if waits(e, ctx.family) and not item.is_new(e.table)]
                if blocking:
                    what = blocking[0].operation.replace("_", " ")
                    yield ctx.finding(self, item, f"{what} can wait for a lock with no timeout of its own "
                                      "(dualpath's runner sets one)")
                    break


RULE = NoTimeoutOutsideDualpath()
