"""Dependents: what uses a column or table that a statement drops, renames or retypes, and what happens to it.

Asked of the shadow right before the statement runs there (so a view made by an earlier change of
the same run counts), or of the target when no shadow could be made. Each dialect's catalog
questions live next to this module (``dependents_postgres``, ``dependents_mysql``); this one picks
the operations that matter and describes the outcome in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from dualpath.risk.context import Item
from dualpath.risk.measure.observation import Dependent
from dualpath.risk.model import Op

KINDS = {"drop_column": "drop", "drop_table": "drop", "rename_column": "rename", "rename_table": "rename",
         "alter_column_type": "retype"}


@dataclass(frozen=True)
class Change:
    """One column or table a statement changes: what happens to it, and how it is named."""

    action: str  # drop | rename | retype
    table: str
    column: str | None  # None: the whole table
    cascade: bool = False

    @property
    def used(self) -> str:
        return f"{self.table}.{self.column}" if self.column else f"table {self.table}"

    @property
    def words(self) -> tuple[str, ...]:
        """Bare names a routine's body would spell: the table's, and the column's when there is one."""
        bare = self.table.rsplit(".", 1)[-1]
        return (bare, self.column) if self.column else (bare,)


def changes_of(item: Item) -> list[Change]:
    """The columns and tables ``item`` drops, renames or retypes (a dropped table counts whole)."""
    found = []
    for op in item.ops:
        action = KINDS.get(op.kind)
        if action is None or not op.table:
            continue
        column = _column(op)
        if op.kind.endswith("_column") and column is None:
            continue
        found.append(Change(action, op.table, column, cascade=bool(op.get("cascade"))))
    return found


def _column(op: Op) -> str | None:
    if op.kind.endswith("_table"):
        return None
    name = op.get("column") or op.name
    return str(name).strip('"`').lower() if name else None


def find_dependents(conn: Connection, dialect: str, item: Item) -> list[Dependent]:
    """Every dependent of what ``item`` drops, renames or retypes, on the server behind ``conn``."""
    changes = changes_of(item)
    if not changes:
        return []
    if dialect == "postgresql":
        from dualpath.risk.measure.dependents_postgres import dependents
    elif dialect == "mysql":
        from dualpath.risk.measure.dependents_mysql import dependents  # type: ignore[assignment]
    else:
        return []
    found: list[Dependent] = []
    for change in changes:
        found += dependents(conn, change, item.statement.where)
    return found
