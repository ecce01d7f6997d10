"""DP016: ``ADD PRIMARY KEY`` → ``CREATE UNIQUE INDEX CONCURRENTLY`` + ``... PRIMARY KEY USING INDEX``."""

from __future__ import annotations

from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import Fix, Known, Rewrite, Skip
from dualpath.risk.fixes.using_index import concurrent_index_then_constraint
from dualpath.risk.model import Finding


class PrimaryKeyUsingIndex(Fix):
    rules = ("DP016",)
    summary = "ADD PRIMARY KEY → CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX"

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        return concurrent_index_then_constraint(item, "CONSTR_PRIMARY")


FIX = PrimaryKeyUsingIndex()
