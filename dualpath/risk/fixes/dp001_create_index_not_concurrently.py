"""DP001: ``CREATE INDEX`` → ``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` in a no-transaction change."""

from __future__ import annotations

import re

from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import Fix, Known, Rewrite, Skip
from dualpath.risk.model import Finding

_HEAD = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)


class ConcurrentIndex(Fix):
    rules = ("DP001",)
    summary = "CREATE INDEX → CREATE INDEX CONCURRENTLY IF NOT EXISTS, the change marked no-transaction"

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        op = next((o for o in item.ops if o.kind == "create_index"), None)
        head = _HEAD.match(item.statement.text)
        if op is None or head is None:
            return Skip("not a plain CREATE INDEX statement")
        guard = " IF NOT EXISTS" if op.name and not op.get("if_not_exists") else ""
        text = item.statement.text
        return Rewrite((f"{text[:head.end()]} CONCURRENTLY{guard}{text[head.end():]}",), no_transaction=True)


FIX = ConcurrentIndex()
