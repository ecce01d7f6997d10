"""Comparing schema objects between the before- and after-snapshots: shapes of columns and tables,
renames, named constraints and indexes, and whether a type narrows another."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from dualpath.engines.ddl import Ddl


def generation_of(column: sa.Column[Any]) -> tuple[str, bool | None] | None:
    """A generated column's expression and whether it is stored; None for a plain column."""
    computed = column.computed
    if computed is None:
        return None
    return re.sub(r"\s+", " ", str(computed.sqltext)).strip(), computed.persisted


def column_shape(column: sa.Column[Any], ddl: Ddl) -> tuple[Any, ...]:
    return ddl.type_of(column), column.nullable, ddl.default_of(column)


def table_shape(table: sa.Table, ddl: Ddl) -> tuple[Any, ...]:
    return tuple((c.name, *column_shape(c, ddl)) for c in table.columns)


def find_renames(gone: list[str], new: list[str], old_shape: Any, new_shape: Any) -> list[tuple[str, str]]:
    """(old, new) pairs where exactly one vanished and one appeared object share a shape."""
    pairs = []
    for old in gone:
        same = [n for n in new if new_shape(n) == old_shape(old)]
        twins = [o for o in gone if old_shape(o) == old_shape(old)]
        if len(same) == 1 and len(twins) == 1:
            pairs.append((old, same[0]))
    return pairs


def key_of(item: Any) -> str:
    name = getattr(item, "name", None)
    if name:
        return str(name)
    columns = ",".join(str(c.name) for c in getattr(item, "columns", []))
    return f"{type(item).__name__}:{columns}"


def by_name(items: Iterable[Any]) -> dict[str, Any]:
    return {key_of(item): item for item in items}


def definition_of(item: Any) -> tuple[Any, ...]:
    """What an index or constraint does, without its name: equal definitions need nothing drafted."""
    columns = tuple(str(c.name) for c in getattr(item, "columns", []))
    if isinstance(item, sa.ForeignKeyConstraint):
        targets = tuple(f"{e.column.table.fullname}.{e.column.name}" for e in item.elements)
        return "fk", columns, targets, item.ondelete, item.onupdate, item.deferrable, item.initially
    if isinstance(item, sa.Index):
        expressions = tuple(str(e) for e in item.expressions)
        return "index", bool(item.unique), expressions, tuple(sorted(item.dialect_kwargs.items()))
    if isinstance(item, sa.CheckConstraint):
        return "check", str(item.sqltext)
    return type(item).__name__, columns


def in_other_schema(diff_line: str) -> bool:
    """A fingerprint diff line about an object outside the default schema that drafts do not cover: a
    view or sequence ``s.v``. Tables, columns, indexes, constraints and triggers of every schema are
    reflected and drafted (snapshot.other_schemas)."""
    kind, _, rest = diff_line.partition(" ")
    name = rest.split(":", 1)[0]
    return kind in ("view", "sequence") and "." in name


def plain_constraints(table: sa.Table) -> list[sa.Constraint]:
    """Unique and check constraints (primary and foreign keys are compared on their own)."""
    return [c for c in table.constraints if isinstance(c, (sa.UniqueConstraint, sa.CheckConstraint))]


def survives(item: Any, before: sa.Table) -> bool:
    """False when every column of an index or constraint is one the rollback drops anyway."""
    columns = [c.name for c in getattr(item, "columns", [])]
    return not columns or any(c in before.columns for c in columns)


def primary_key_of(table: sa.Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


_SIZED = re.compile(r"^(?P<base>[A-Z ]+?)\s*\((?P<size>\d+)(?:\s*,\s*(?P<scale>\d+))?\)")


_INT_RANK = {"TINYINT": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INTEGER": 4, "INT": 4, "BIGINT": 5}


_UNBOUNDED = ("TEXT", "CLOB", "LONGTEXT", "MEDIUMTEXT", "CHARACTER VARYING", "VARCHAR")


def narrows(wide: str, narrow: str) -> bool:
    """True when a value of type ``wide`` may not fit ``narrow`` (shorter, less precise, smaller integer)."""
    w, n = wide.upper().strip(), narrow.upper().strip()
    mw, mn = _SIZED.match(w), _SIZED.match(n)
    if mw and mn and mw["base"] == mn["base"]:
        return int(mn["size"]) < int(mw["size"]) or int(mn["scale"] or 0) < int(mw["scale"] or 0)
    if w in _UNBOUNDED and mn:
        return True
    rw, rn = _INT_RANK.get(w.split()[0] if w else ""), _INT_RANK.get(n.split()[0] if n else "")
    return rw is not None and rn is not None and rn < rw
