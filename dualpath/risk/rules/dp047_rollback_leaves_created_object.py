from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.object_cases import chunks, left_behind, redefined, renamed, undone
from dualpath.risk.objects import covered, created, dropped
from dualpath.risk.rule import Rule


class RollbackLeavesCreatedObject(Rule):
    id = "DP047"
    title = "Rollback leaves behind something the forward change created"
    severity = "warning"
    scope = "change"
    why = ("After the rollback the schema is not what it was: the leftover object makes the next deploy "
           "of the same change fail ('already exists') and drifts from the migration history.")
    alternative = "Drop in the rollback every object the forward change creates, in reverse order."
    fix = "drop the object in the rollback"
    bad = "CREATE TABLE notes (id bigint PRIMARY KEY);\nCREATE INDEX notes_id_idx ON orders (id);"
    bad_rollback = "DROP TABLE notes;"
    good = "CREATE TABLE notes (id bigint PRIMARY KEY);\nCREATE INDEX notes_id_idx ON orders (id);"
    good_rollback = "DROP INDEX notes_id_idx;\nDROP TABLE notes;"

    cases = undone() + left_behind() + redefined() + renamed() + chunks()

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not ctx.change.rollback:
            return  # DP045 reports the missing rollback
        gone = dropped(ctx.rollback)
        redefined = created(ctx.rollback)  # CREATE OR REPLACE of the old definition undoes a replace
        for (kind, name), made in created(ctx.forward).items():
            if not covered((kind, name), made, gone) and (kind, name) not in redefined:
                yield ctx.finding(self, made.item, f"{kind} {name} created here is not dropped by the rollback")


RULE = RollbackLeavesCreatedObject()
