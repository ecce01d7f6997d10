from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.object_cases import chunks, foreign_drops, redefined, renamed, undone
from dualpath.risk.objects import created, dropped, renamed_to
from dualpath.risk.rule import Rule


class RollbackDropsForeignObject(Rule):
    id = "DP046"
    title = "Rollback drops something the forward change did not create"
    severity = "error"
    scope = "change"
    why = ("A rollback should only undo its own change. Dropping an object the forward did not create "
           "destroys schema and data that existed before — usually a copy-paste slip or a stale down file.")
    alternative = "Make the rollback drop exactly what the forward created, and recreate what it dropped."
    fix = "drop only what the forward change created"
    bad = "ALTER TABLE orders ADD COLUMN note text;"
    bad_rollback = "ALTER TABLE orders DROP COLUMN notes;"
    good = "ALTER TABLE orders ADD COLUMN note text;"
    good_rollback = "ALTER TABLE orders DROP COLUMN note;"

    cases = undone() + foreign_drops() + redefined() + renamed() + chunks()

    def check(self, ctx: Context) -> Iterable[Finding]:
        made = set(created(ctx.forward)) | set(created(ctx.rollback)) | renamed_to(ctx.rollback)
        for (kind, name), item in dropped(ctx.rollback).items():
            if (kind, name) not in made:
                yield ctx.finding(self, item, f"rollback drops {kind} {name}, which the forward change "
                                  "did not create")


RULE = RollbackDropsForeignObject()
