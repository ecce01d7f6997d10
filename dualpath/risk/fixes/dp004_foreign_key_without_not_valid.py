"""DP004: ``ADD CONSTRAINT ... FOREIGN KEY`` → ``... NOT VALID`` + ``VALIDATE CONSTRAINT``."""

from __future__ import annotations

from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import Fix, Known, Rewrite, Skip
from dualpath.risk.fixes.not_valid import not_valid_then_validate
from dualpath.risk.model import Finding


class ForeignKeyNotValid(Fix):
    rules = ("DP004",)
    summary = "FOREIGN KEY → NOT VALID, then VALIDATE CONSTRAINT, the change marked no-transaction"

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        return not_valid_then_validate(item, "CONSTR_FOREIGN")


FIX = ForeignKeyNotValid()
