from collections.abc import Iterable

from dualpath.risk.context import Context
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


class MissingRollback(Rule):
    id = "DP045"
    title = "Change without a rollback"
    severity = "error"
    scope = "change"
    why = ("Without a rollback, a failed deploy cannot be undone: the only way back is a restore. "
           "dualpath refuses such a change unless it is marked irreversible.")
    alternative = ("Write the rollback (down/undo file); if the change truly cannot be undone, mark it "
                   "`-- dualpath:irreversible reason=\"...\"` so a backup and an approval are required.")
    fix = 'write the rollback, or mark the change -- dualpath:irreversible reason="..."'
    bad = "ALTER TABLE orders ADD COLUMN note text;"
    good = "ALTER TABLE orders ADD COLUMN note text;"
    good_rollback = "ALTER TABLE orders DROP COLUMN note;"

    cases = (
        Case('-- dualpath:irreversible reason="drops a table nobody uses"\nDROP TABLE legacy;', False,
             note="no rollback, but marked irreversible"),
        Case("ALTER TABLE orders ADD COLUMN note text;", True, rollback="-- nothing to undo\n",
             note="a rollback file with only comments runs nothing"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        if not ctx.change.rollback and ctx.change.irreversible is None:
            back = ctx.change.rollback_file
            how = f"its rollback {back} runs nothing" if back else "it has no rollback"
            yield ctx.finding(self, None, f"change {ctx.change.version}: {how}, and it is not marked "
                              "irreversible")


RULE = MissingRollback()
