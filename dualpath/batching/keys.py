"""The key a batch pages by: which columns, checked against the table's unique keys, and
how a key value is kept in the checkpoint (JSON, typed, so UUIDs and dates come back as such).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import NoSuchTableError

from dualpath.engines.base import Engine
from dualpath.errors import InputError

KeyValue = tuple[Any, ...]


@dataclass(frozen=True)
class Key:
    table: str  # as written in the directive, maybe schema.table
    columns: tuple[str, ...]  # in the order of the unique index they match


def split_table(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def resolve_key(conn: Connection, engine: Engine, table: str, wanted: Sequence[str], where: str) -> Key:
    """The directive's key, if it is a primary key or a NOT NULL unique index on exactly those columns.

    Keyset pagination needs both: uniqueness (no row is skipped or seen twice between chunks)
    and an index in that column order (each chunk is an index range, not a sort of the table).
    NOT NULL is what the server enforces, which the engine may know better than reflection
    (SQLite's INTEGER PRIMARY KEY is the rowid, never NULL, yet reflected as nullable).
    """
    schema, name = split_table(table)
    insp = inspect(conn)
    try:
        columns = {c["name"].lower(): c for c in insp.get_columns(name, schema=schema)}
    except NoSuchTableError:
        raise InputError(f"batch table {table} does not exist", where=where,
                         hint="check table= in the dualpath:batch directive (and that an earlier change creates it)"
                         ) from None
    candidates = _unique_keys(insp, name, schema)
    never_null = {c.lower() for c in engine.never_null(conn, table)}
    not_null = {n for n, c in columns.items() if not c["nullable"] or n in never_null}
    usable = [k for k in candidates if all(c.lower() in not_null for c in k)]
    lowered = tuple(c.lower() for c in wanted)
    for key in usable:
        if tuple(c.lower() for c in key) == lowered:
            return Key(table, tuple(columns[c.lower()]["name"] for c in key))
    raise no_usable_key(table, wanted, usable, where)


def no_usable_key(table: str, wanted: Sequence[str], usable: list[tuple[str, ...]], where: str) -> InputError:
    asked = ",".join(wanted)
    if usable:
        choices = " or ".join("key=" + ",".join(k) for k in usable)
        return InputError(f"key={asked} is not a primary key or NOT NULL unique index of {table}", where=where,
                          hint=f"page by a unique key of the table: {choices}")
    return InputError(f"table {table} has no usable unique key (a primary key or a unique index on NOT NULL "
                      "columns), so it cannot be paged in batches", where=where,
                      hint=f"add one, e.g. ALTER TABLE {table} ADD PRIMARY KEY ({asked}) or CREATE UNIQUE INDEX "
                           f"... ON {table} ({asked}) with the columns NOT NULL, in an earlier change")


def _unique_keys(insp: Any, name: str, schema: str | None) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    pk = insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or []
    if pk:
        keys.append(tuple(pk))
    for index in insp.get_indexes(name, schema=schema):
        partial = any(k.endswith("_where") and v for k, v in (index.get("dialect_options") or {}).items())
        cols = index.get("column_names") or []
        if index.get("unique") and not partial and cols and None not in cols:
            keys.append(tuple(cols))
    for constraint in insp.get_unique_constraints(name, schema=schema):
        keys.append(tuple(constraint["column_names"]))
    return list(dict.fromkeys(keys))


# -- key values in the checkpoint -----------------------------------------------------------

_TAGGED: dict[str, Any] = {
    "uuid": uuid.UUID, "datetime": datetime.fromisoformat, "date": date.fromisoformat,
    "time": time.fromisoformat, "decimal": Decimal, "bytes": base64.b64decode,
}


def encode_key(value: KeyValue) -> str:
    return json.dumps([_tag(v) for v in value])


def decode_key(text: str) -> KeyValue:
    return tuple(_untag(v) for v in json.loads(text))


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, time):
        return {"time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot keep a key of type {type(value).__name__} in a checkpoint")


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        return _TAGGED[tag](raw)
    return value
