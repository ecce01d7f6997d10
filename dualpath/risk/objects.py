"""Which named objects a list of statements creates and drops — to compare forward and rollback."""

from __future__ import annotations

from dualpath.risk.context import Item
from dualpath.risk.model import Op

Key = tuple[str, str]  # (kind, last part of the name)

_ROUTINES = {"function", "procedure", "trigger", "event", "routine"}


def short(name: str | None) -> str:
    return (name or "").lower().split(".")[-1]


def kind_of(objtype: str) -> str:
    return "routine" if objtype in _ROUTINES else objtype or "object"


def created_key(op: Op) -> Key | None:
    if op.kind in ("create_table", "create_table_as"):
        return ("table", short(op.table))
    if op.kind == "create_index" and op.name:
        return ("index", short(op.name))
    if op.kind == "add_column":
        return ("column", f"{short(op.table)}.{short(op.name)}")
    if op.kind == "add_constraint" and op.name:
        return ("constraint", short(op.name))
    if op.kind == "create_other" and op.name:
        return (kind_of(op.get("objtype", "")), short(op.name))
    if op.kind == "create_routine" and op.name:
        return ("routine", short(op.name))
    return None


def dropped_key(op: Op) -> Key | None:
    if op.kind == "drop_table":
        return ("table", short(op.table))
    if op.kind == "drop_index":
        return ("index", short(op.name))
    if op.kind == "drop_column":
        return ("column", f"{short(op.table)}.{short(op.name)}")
    if op.kind == "drop_constraint" and op.name and op.name != "primary":
        return ("constraint", short(op.name))
    if op.kind == "drop_view":
        return ("view", short(op.name))
    if op.kind == "drop_other" and op.name:
        return (kind_of(op.get("objtype", "")), short(op.name))
    return None


def created(items: list[Item]) -> dict[Key, tuple[Item, str]]:
    """Objects the statements leave behind: key → (statement, table it belongs to)."""
    found: dict[Key, tuple[Item, str]] = {}
    for item in items:
        for op in item.ops:
            key = created_key(op)
            if key:
                found[key] = (item, short(op.table))
            gone = dropped_key(op)
            if gone:
                found.pop(gone, None)
            if op.kind == "rename_table" and ("table", short(op.table)) in found:
                found[("table", short(op.get("new_name")))] = found.pop(("table", short(op.table)))
    return found


def dropped(items: list[Item]) -> dict[Key, Item]:
    found: dict[Key, Item] = {}
    for item in items:
        for op in item.ops:
            key = dropped_key(op)
            if key:
                found.setdefault(key, item)
            if op.kind == "drop_schema" or (op.kind == "drop_table" and op.get("cascade")):
                found.setdefault(("schema" if op.kind == "drop_schema" else "table", short(op.name)), item)
    return found


def renamed_to(items: list[Item]) -> set[Key]:
    return {("table", short(op.get("new_name"))) for item in items for op in item.ops if op.kind == "rename_table"}


def covered(key: Key, table: str, gone: dict[Key, Item]) -> bool:
    """Dropping a table also drops its columns, indexes and constraints."""
    return key in gone or (bool(table) and ("table", table) in gone)
