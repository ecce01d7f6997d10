"""Which named objects a list of statements creates and drops — to compare forward and rollback.

Both sides name an object the same way whatever the spelling: ``(kind, last part of the name)``,
so ``DROP FUNCTION IF EXISTS s.f (a int)`` undoes ``CREATE FUNCTION f(a int)``, and
``DROP MATERIALIZED VIEW mv`` undoes ``CREATE MATERIALIZED VIEW mv``.
"""

from __future__ import annotations

from typing import NamedTuple

from dualpath.risk.context import Item
from dualpath.risk.model import Op

Key = tuple[str, str]  # (kind, last part of the name)

_ROUTINES = {"function", "procedure", "trigger", "event", "routine", "aggregate"}
_KINDS = {"matview": "materialized view", "user": "role", "group": "role", "schema": "schema"}


class Made(NamedTuple):
    """A created object: the statement that made it, the table it belongs to, its schema (if named)."""

    item: Item
    table: str
    schema: str


def short(name: str | None) -> str:
    return (name or "").lower().split(".")[-1]


def schema_of(name: str | None) -> str:
    parts = (name or "").lower().split(".")
    return parts[-2] if len(parts) > 1 else ""


def kind_of(objtype: str) -> str:
    return "routine" if objtype in _ROUTINES else _KINDS.get(objtype, objtype or "object")


def created_key(op: Op) -> Key | None:
    if op.kind in ("create_table", "create_table_as"):
        return (kind_of(op.get("objtype", "table")), short(op.table))
    if op.kind == "create_index" and op.name:
        return ("index", short(op.name))
    if op.kind == "add_column":
        return ("column", f"{short(op.table)}.{short(op.name)}")
    if op.kind == "add_constraint" and op.name:
        return ("constraint", short(op.name))
    if op.kind == "create_other" and op.name:
        return (kind_of(op.get("objtype", "")), short(op.name))
    if op.kind in ("create_routine", "create_domain") and op.name:
        return ("routine" if op.kind == "create_routine" else "domain", short(op.name))
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
    if op.kind in ("drop_view", "drop_schema", "drop_other") and op.name:
        default = {"drop_view": "view", "drop_schema": "schema"}.get(op.kind, "")
        return (kind_of(op.get("objtype") or default), short(op.name))
    if op.kind == "drop_database" and op.name:
        return ("database", short(op.name))
    return None


def created(items: list[Item]) -> dict[Key, Made]:
    """Objects the statements leave behind."""
    found: dict[Key, Made] = {}
    for item in items:
        for op in item.ops:
            key = created_key(op)
            if key:
                found[key] = Made(item, short(op.table), schema_of(op.table or op.name))
            gone = dropped_key(op)
            if gone:
                found.pop(gone, None)
            renamed = rename_keys(op)
            if renamed:
                follow_rename(found, *renamed)
    return found


def rename_keys(op: Op) -> tuple[Key, Key] | None:
    """(old key, new key) of a RENAME."""
    new = short(op.get("new_name"))
    if not new:
        return None
    if op.kind == "rename_table":
        return ("table", short(op.table)), ("table", new)
    if op.kind == "rename_column":
        return ("column", f"{short(op.table)}.{short(op.name)}"), ("column", f"{short(op.table)}.{new}")
    if op.kind in ("rename_index", "rename_constraint"):
        return (op.kind[7:], short(op.name)), (op.kind[7:], new)
    if op.kind == "rename_other" and op.get("objtype") and op.name:
        kind = kind_of(op.get("objtype"))
        return (kind, short(op.name)), (kind, new)
    return None


def follow_rename(found: dict[Key, Made], old: Key, new: Key) -> None:
    """A created object keeps being ours under its new name; so do a renamed table's columns."""
    if old in found:
        found[new] = found.pop(old)
    if old[0] != "table":
        return
    for key in [k for k in found if k[0] == "column" and k[1].startswith(f"{old[1]}.")]:
        found[("column", f"{new[1]}.{key[1].split('.', 1)[1]}")] = found.pop(key)
    for key, made in list(found.items()):
        if made.table == old[1]:
            found[key] = made._replace(table=new[1])


def dropped(items: list[Item]) -> dict[Key, Item]:
    found: dict[Key, Item] = {}
    for item in items:
        for op in item.ops:
            key = dropped_key(op)
            if key:
                found.setdefault(key, item)
    return found


def renamed_to(items: list[Item]) -> set[Key]:
    """New names given by RENAMEs: a rollback may drop what it renamed itself (a swap of enum types)."""
    return {keys[1] for item in items for op in item.ops if (keys := rename_keys(op))}


def covered(key: Key, made: Made, gone: dict[Key, Item]) -> bool:
    """Dropping a table also drops its columns, indexes and constraints; a schema (or MySQL database)
    its objects."""
    if key in gone or any((kind, made.table) in gone for kind in ("table", "materialized view") if made.table):
        return True
    return bool(made.schema) and (("schema", made.schema) in gone or ("database", made.schema) in gone)


def made_by(forward: list[Item], op: Op) -> bool:
    """The object ``op`` drops was created by the forward change: dropping it loses nothing older."""
    key = dropped_key(op)
    if key is None:
        return False
    made = created(forward)
    if key in made:
        return True
    return key[0] == "column" and ("table", key[1].split(".")[0]) in made


def undoes_forward(forward: list[Item], item: Item, op: Op | None) -> bool:
    """A rollback statement that drops what its own forward change created: no older data is lost.

    Only objects the forward CREATED count: a column it merely backfilled held data before.
    """
    return item.part == "rollback" and op is not None and made_by(forward, op)
