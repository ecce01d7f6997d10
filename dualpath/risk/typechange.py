"""Does changing a column's type rewrite the table? The answer needs the column as it is now.

PostgreSQL keeps the table when the new type is binary coercible from the old one and the new
length or precision admits every old value (ALTER TABLE, "Notes": varchar(n) to a larger n, to
varchar or text; numeric(p, s) to a larger p with the same s, or to numeric); timestamp to
timestamptz and back keep it from PostgreSQL 12 when the session time zone is UTC, but rebuild
the column's indexes. MariaDB and MySQL change a column instantly when only its default,
comment, name or position changes, when a VARCHAR grows without needing a second length byte,
or when ENUM/SET members are appended; NULL-ness changes rebuild the table in place (writes go
on); anything else copies the table with writes blocked (MariaDB "InnoDB Online DDL Operations
with ALGORITHM=INSTANT / INPLACE").
"""

from __future__ import annotations

import re
from typing import Any

from dualpath.risk.schema import Column

NONE, INDEXES, REWRITE = "none", "indexes", "rewrite"  # PostgreSQL outcomes
INSTANT, INPLACE, COPY = "instant", "inplace", "copy"  # MySQL/MariaDB outcomes

_PG_NAMES = {
    "character varying": "varchar", "varchar": "varchar", "character": "bpchar", "char": "bpchar",
    "bpchar": "bpchar", "text": "text", "numeric": "numeric", "decimal": "numeric", "integer": "int4",
    "int": "int4", "int4": "int4", "bigint": "int8", "int8": "int8", "smallint": "int2", "int2": "int2",
    "timestamp without time zone": "timestamp", "timestamp": "timestamp",
    "timestamp with time zone": "timestamptz", "timestamptz": "timestamptz", "boolean": "bool",
    "bool": "bool", "double precision": "float8", "float8": "float8", "real": "float4", "float4": "float4",
    "bit varying": "varbit", "varbit": "varbit",
}
_UTC = {"utc", "etc/utc", "gmt", "etc/gmt", "uct", "etc/uct", "universal", "etc/universal", "zulu", "etc/zulu",
        "z", "+00", "gmt0", "etc/gmt0", "etc/gmt+0", "etc/gmt-0", "greenwich", "etc/greenwich"}
_GROWS = {"varchar", "varbit"}  # length can grow with no rewrite


def pg_type(name: str, mods: list[int] | None = None) -> tuple[str, tuple[int, ...]]:
    """("varchar", (10,)) from "character varying(10)" or from ("varchar", [10])."""
    if mods is None:
        match = re.fullmatch(r"(.+?)(?:\(([\d, ]+)\))?(\[\])?", name.strip().lower())
        base = match.group(1) if match else name.lower()
        mods = [int(m) for m in match.group(2).split(",")] if match and match.group(2) else []
        base += "[]" if match and match.group(3) else ""
        name = base
    return _PG_NAMES.get(name.lower(), name.lower()), tuple(mods)


def pg_change(old: Column, new: tuple[str, tuple[int, ...]], using: str, timezone: str | None,
              version: tuple[int, ...], collate: bool = False) -> str:
    """NONE, INDEXES (table kept, the column's indexes rebuilt), REWRITE, or "" (depends on the time zone).

    A COLLATE clause keeps the values but not the order: the column's indexes are rebuilt.
    """
    outcome = _pg_outcome(old, new, using, timezone, version)
    if collate and outcome == NONE and old.indexed:
        return INDEXES
    return outcome


def _pg_outcome(old: Column, new: tuple[str, tuple[int, ...]], using: str, timezone: str | None,
                version: tuple[int, ...]) -> str:
    if using == "expression" or old.kind == "d":
        return REWRITE  # a computed USING, or a domain: every row is converted
    (was, old_mods), (now, new_mods) = pg_type(old.type), new
    if (was, old_mods) == (now, new_mods):
        return NONE
    if {was, now} == {"timestamp", "timestamptz"} and version >= (12,):
        if timezone is None:
            return ""
        if timezone.lower() in _UTC:
            return INDEXES if old.indexed else NONE
        return REWRITE
    if was in _GROWS and now == was:
        return NONE if not new_mods or (old_mods and new_mods[0] >= old_mods[0]) else REWRITE
    if was in _GROWS | {"text"} and now == "text" or was == "text" and now == "varchar" and not new_mods:
        return NONE
    if was == now == "numeric":
        if not new_mods:
            return NONE
        if len(old_mods) and len(new_mods) and _scale(old_mods) == _scale(new_mods) and new_mods[0] >= old_mods[0]:
            return NONE
    return REWRITE


def _scale(mods: tuple[int, ...]) -> int:
    return mods[1] if len(mods) > 1 else 0


# --- MySQL / MariaDB ----------------------------------------------------------------------------

_BYTES_PER_CHAR = {"latin1": 1, "ascii": 1, "binary": 1, "utf8": 3, "utf8mb3": 3, "utf8mb4": 4, "ucs2": 2,
                   "utf16": 4, "utf16le": 4, "utf32": 4, "cp1250": 1, "cp1251": 1, "cp1252": 1}
_INTEGERS = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}


def my_type(column_type: str) -> tuple[str, tuple[str, ...], bool]:
    """(name, arguments, unsigned) from COLUMN_TYPE or a definition: integer display widths dropped."""
    text = column_type.strip().lower()
    match = re.match(r"([a-z]+)\s*(?:\((.*)\))?\s*(.*)$", text, re.S)
    if not match:
        return text, (), False
    name, args, rest = match.group(1), match.group(2) or "", match.group(3)
    name = {"integer": "int", "dec": "decimal", "numeric": "decimal", "bool": "tinyint",
            "boolean": "tinyint", "character": "char"}.get(name, name)
    parts = tuple(a.strip() for a in _split_args(args)) if args else ()
    if name in _INTEGERS:
        parts = ()
    if name == "decimal":
        parts = (parts + ("10",))[:1] + ((parts + ("10", "0"))[1:2] if len(parts) > 1 else ("0",))
    return name, parts, "unsigned" in rest


def _split_args(args: str) -> list[str]:
    """Split ``'a','b,c'`` at commas outside quotes."""
    return [m.group(0) for m in re.finditer(r"'(?:[^'\\]|\\.|'')*'|[^,]+", args)]


def my_change(old: Column, new: dict[str, Any], table_charset: str | None, flavor: str) -> str:
    """INSTANT, INPLACE (rebuilt in place, writes go on) or COPY for MODIFY/CHANGE to ``new``."""
    was, now = my_type(old.type), my_type(new["type"])
    charset = (new.get("charset") or table_charset or old.charset or "").lower()
    same_charset = old.charset is None or not charset or charset == old.charset.lower()
    if new.get("generated") or new.get("auto_increment") != ("auto_increment" in old.extra) \
            or "generated" in old.extra:
        return COPY
    if not same_charset:
        return COPY
    if was != now and not _grows_in_place(was, now, old.charset or charset):
        return COPY
    if new["nullable"] != old.nullable:
        return INPLACE
    if new.get("position") and flavor != "mariadb":
        return INPLACE  # MySQL rebuilds the table to reorder columns
    return INSTANT


def _grows_in_place(was: tuple[str, tuple[str, ...], bool], now: tuple[str, tuple[str, ...], bool],
                    charset: str) -> bool:
    (old_name, old_args, old_unsigned), (new_name, new_args, new_unsigned) = was, now
    if old_name != new_name or old_unsigned != new_unsigned:
        return False
    if old_name in ("varchar", "varbinary") and old_args and new_args:
        size = _BYTES_PER_CHAR.get(charset.lower(), 4) if old_name == "varchar" else 1
        old_bytes, new_bytes = int(old_args[0]) * size, int(new_args[0]) * size
        return new_bytes >= old_bytes and (old_bytes > 255) == (new_bytes > 255)
    if old_name in ("enum", "set"):
        appended = new_args[: len(old_args)] == old_args and len(new_args) >= len(old_args)
        return appended and _members_size(old_name, len(old_args)) == _members_size(new_name, len(new_args))
    return False


def _members_size(kind: str, count: int) -> int:
    if kind == "enum":
        return 1 if count <= 255 else 2
    return next(size for limit, size in ((8, 1), (16, 2), (24, 3), (32, 4), (64, 8)) if count <= limit)
