"""pglast AST nodes built lazily from libpg_query's JSON output.

``pglast.parse_sql`` builds every node of the tree and validates every attribute in Python, which
costs about five times the parse itself, while the rules read a few attributes near the top. Here
each node is a subclass of the real ``pglast.ast`` class (same name, so ``isinstance`` and
dispatch by name work) that converts an attribute from the JSON on first access, with the value
``parse_sql`` gives (enums as enums, absent C fields as their zero value). ``slots_of`` lists a
node's attributes for walking the tree. tests/unit/risk/test_pgjson.py compares both trees.
"""

from __future__ import annotations

import json
import keyword
from enum import Enum
from functools import cache
from typing import Any

from pglast import ast, enums
from pglast.parser import parse_sql_json

_VALUE_NODES = {"ival": "Integer", "sval": "String", "fval": "Float", "boolval": "Boolean", "bsval": "BitString"}
# (slot, key in the JSON, enum class, node class of a typed pointer, value when absent, is a location)
_Plan = tuple[tuple[str, str, type[Enum] | None, str | None, Any, bool], ...]


def parse_statements(text: str) -> list[Any]:
    """The top-level statement nodes of ``text``; raises pglast's ParseError like ``parse_sql``."""
    tree = json.loads(parse_sql_json(text))
    return [_node(*next(iter(raw["stmt"].items()))) for raw in tree.get("stmts", ()) if "stmt" in raw]


def _value(value: Any) -> Any:
    if isinstance(value, dict):  # a node of any type: {"TypeName": {fields}}
        return _node(*next(iter(value.items())))
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    return value


def _node(name: str, fields: dict[str, Any]) -> Any:
    if name == "List":
        return tuple(_value(v) for v in fields.get("items", ()))
    if name == "A_Const":
        const = object.__new__(ast.A_Const)
        object.__setattr__(const, "isnull", bool(fields.get("isnull", False)))
        key = next((k for k in _VALUE_NODES if k in fields), None)
        object.__setattr__(const, "val", _node(_VALUE_NODES[key], fields[key]) if key else None)
        return const
    obj: Any = object.__new__(_lazy(getattr(ast, name)))
    object.__setattr__(obj, "_raw", fields)
    return obj


def slots_of(node: Any) -> tuple[str, ...]:
    """The AST attributes of a node, built here or by pglast."""
    cls: Any = type(node)
    return _slot_names(cls)


@cache
def _slot_names(cls: Any) -> tuple[str, ...]:
    base = cls.__bases__[0] if getattr(cls, "_lazy", False) else cls
    return tuple(getattr(base, "__slots__", ()))


@cache
def _lazy(cls: Any) -> type:
    plans = {p[0]: p for p in _plan(cls)}

    def __getattr__(self: Any, slot: str) -> Any:
        plan = plans.get(slot)
        if plan is None:
            raise AttributeError(slot)
        value = _convert(object.__getattribute__(self, "_raw").get(plan[1]), plan)
        object.__setattr__(self, slot, value)
        return value

    return type(cls.__name__, (cls,), {"__slots__": ("_raw",), "__getattr__": __getattr__, "_lazy": True,
                                       "__module__": cls.__module__, "__iter__": lambda self: iter(plans)})


def _convert(value: Any, plan: tuple[str, str, type[Enum] | None, str | None, Any, bool]) -> Any:
    _, _, enum, typed, absent, location = plan
    if value is None:
        return absent
    if location and value == -1:  # parse_sql's "no location"
        return None
    if enum is not None:
        return enum[value] if isinstance(value, str) else enum(value)
    if typed is not None:
        return _node(typed, value) if isinstance(value, dict) and not _wrapped(value) else _value(value)
    if isinstance(value, dict | list):
        return _value(value)
    return value


def _wrapped(value: dict[str, Any]) -> bool:
    """``{"RangeVar": {...}}`` rather than the fields of the pointed-to node themselves."""
    return len(value) == 1 and next(iter(value))[:1].isupper()


@cache
def _plan(cls: Any) -> _Plan:
    plan = []
    for slot, info in cls.__slots__.items():
        ctype: str = info.c_type
        key = slot[:-1] if slot.endswith("_") and keyword.iskeyword(slot[:-1]) else slot
        enum = getattr(enums, ctype, None)
        enum = enum if isinstance(enum, type) and issubclass(enum, Enum) else None
        pointee = ctype[:-1]
        typed = pointee if ctype.endswith("*") and pointee not in ("Node", "List", "char") \
            and isinstance(getattr(getattr(ast, pointee, None), "__slots__", None), dict) else None
        plan.append((slot, key, enum, typed, _absent(ctype, enum), ctype == "ParseLoc"))
    return tuple(plan)


def _absent(ctype: str, enum: type[Enum] | None) -> Any:
    """What parse_sql gives for a C field the JSON leaves out (it omits zero values)."""
    if enum is not None:
        return next((m for m in enum if m.value == 0), None)  # type: ignore[attr-defined]
    if ctype.endswith("*") or ctype == "ValUnion":
        return None
    if ctype == "bool":
        return False
    if ctype == "char":
        return "\x00"
    if ctype in ("double", "float"):
        return 0.0
    return 0
