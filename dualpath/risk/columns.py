"""Column definitions a statement introduces, for the type-preference rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dualpath.risk.context import Context, Item


def new_columns(ctx: Context) -> Iterator[tuple[Item, str | None, dict[str, Any]]]:
    """(statement, table, column facts) for CREATE TABLE columns, ADD COLUMN and type changes."""
    for item in ctx.items:
        for op in item.ops:
            if op.kind == "create_table":
                for col in op.get("columns", []):
                    yield item, op.table, col
            elif op.kind in ("add_column", "alter_column_type") and not item.is_new(op.table):
                yield item, op.table, op.attrs
