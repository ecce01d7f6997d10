"""DP043: a mass UPDATE or DELETE gets ``-- dualpath:batch table=<t> key=<pk> size=1000`` above it."""

from __future__ import annotations

from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import Fix, Known, Rewrite, Skip
from dualpath.risk.model import Finding

SIZE = 1000
GUESS = "id"


class BatchDirective(Fix):
    rules = ("DP043",)  # not DP042: a missing WHERE may be a bug, a directive would hide it
    engines = ("postgresql", "mysql", "sqlite")
    summary = "mass UPDATE/DELETE → -- dualpath:batch table=<t> key=<primary key> size=1000 above it"

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        op = next((o for o in item.ops if o.kind in ("update", "delete")), None)
        if op is None or not op.table or len(item.ops) != 1:
            return Skip("only a single UPDATE or DELETE is batched by machine")
        key = key_of(op.table, known.primary_keys)
        above = [f"-- dualpath:batch table={op.table} key={key or GUESS} size={SIZE}"]
        if key is None:
            above.insert(0, f"-- TODO check the batch key: no primary key of {op.table} found in these "
                            f"migrations, '{GUESS}' is a guess")
        return Rewrite((item.statement.text,), above=tuple(above))


def key_of(table: str, primary_keys: dict[str, str]) -> str | None:
    from dualpath.risk.context import same_name

    return next((key for name, key in primary_keys.items() if same_name(name, table)), None)


FIX = BatchDirective()
