"""Reading pglast parse-tree nodes: names, types, column facts, expressions that run per row, options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ConstrType as CT

from dualpath.risk.ops.pgjson import slots_of

VOLATILE_FUNCTIONS = {
    "random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v4", "uuidv4", "uuidv7",
    "nextval", "clock_timestamp", "timeofday", "setseed",  # statement_timestamp(), txid_current(): stable
}


SERIAL_TYPES = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


def table_name(rel: Any) -> str:
    name = str(rel.relname).lower()
    return f"{str(rel.schemaname).lower()}.{name}" if rel.schemaname else name


def dotted(names: Any) -> str:
    return ".".join(str(n.sval).lower() for n in names or () if isinstance(n, ast.String))


def walk(node: Any) -> Iterator[Any]:
    """Every node below ``node``, itself included."""
    if isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for slot in slots_of(node):
            yield from walk(getattr(node, slot, None))


def is_volatile(expr: Any) -> bool:
    return any(isinstance(n, ast.FuncCall) and dotted(n.funcname).split(".")[-1] in VOLATILE_FUNCTIONS
               for n in walk(expr))


def type_of(type_name: Any) -> dict[str, Any]:
    name = dotted(type_name.names).split(".")[-1] if type_name is not None else ""
    mods = [m.val.ival for m in type_name.typmods or () if isinstance(m, ast.A_Const)
            and isinstance(m.val, ast.Integer)] if type_name is not None else []
    return {"type": name, "typmods": mods, "array": bool(type_name is not None and type_name.arrayBounds)}


def column_facts(col: Any) -> dict[str, Any]:
    facts = {"column": str(col.colname).lower(), **type_of(col.typeName), "not_null": bool(col.is_not_null),
             "has_default": False, "volatile_default": False, "stored_generated": False, "identity": False,
             "primary": False, "unique": False, "references": None, "check": False}
    for con in col.constraints or ():
        kind = con.contype
        if kind == CT.CONSTR_NOTNULL:
            facts["not_null"] = True
        elif kind == CT.CONSTR_DEFAULT:
            facts["has_default"] = True
            facts["volatile_default"] = is_volatile(con.raw_expr)
        elif kind == CT.CONSTR_GENERATED:
            facts["stored_generated"] = True
        elif kind == CT.CONSTR_IDENTITY:
            facts["identity"] = True
        elif kind == CT.CONSTR_PRIMARY:
            facts["primary"] = facts["not_null"] = True
        elif kind == CT.CONSTR_UNIQUE:
            facts["unique"] = True
        elif kind == CT.CONSTR_FOREIGN:
            facts["references"] = table_name(con.pktable)
        elif kind == CT.CONSTR_CHECK and not con.skip_validation:
            facts["check"] = True
    facts["serial"] = facts["type"] in SERIAL_TYPES
    return facts


def add_column_variant(facts: dict[str, Any]) -> str:
    for flag in ("stored_generated", "serial", "identity"):
        if facts[flag]:
            return flag
    if facts["volatile_default"]:
        return "volatile_default"
    if facts["check"]:
        return "checked"  # existing rows are checked: a scan under the lock
    return "default" if facts["has_default"] else ""


def using_of(column: str | None, definition: Any) -> str:
    """"" without USING; "column" when USING only restates the column (maybe cast); else "expression"."""
    expr = definition.raw_default
    if expr is None:
        return ""
    if isinstance(expr, ast.TypeCast):
        expr = expr.arg
    if isinstance(expr, ast.ColumnRef) and dotted(expr.fields).split(".")[-1] == column:
        return "column"
    return "expression"


def restart_value(options: Any) -> int | None:
    """RESTART WITH n → n; a bare RESTART → None (the sequence's start value)."""
    for option in options or ():
        if option.defname == "restart" and isinstance(option.arg, ast.Integer):
            return int(option.arg.ival or 0)
    return None


def bound_of(bound: Any) -> dict[str, Any]:
    """A partition bound's literals: {"strategy": "r", "from": [...], "to": [...], "in": [...]}."""
    if bound is None:
        return {}

    def literals(datums: Any) -> list[str]:
        return [str(next((getattr(d.val, a) for a in ("sval", "ival", "fval") if hasattr(d.val, a)), ""))
                if isinstance(d, ast.A_Const) and d.val is not None else "?" for d in datums or ()]

    return {"strategy": bound.strategy, "from": literals(bound.lowerdatums), "to": literals(bound.upperdatums),
            "in": literals(bound.listdatums), "default": bool(bound.is_default)}


def dropped_name(obj: Any) -> str:
    """``s.t`` (names), ``f`` of ``f(int)`` (ObjectWithArgs), ``s`` (a schema, extension: a String)."""
    if isinstance(obj, ast.ObjectWithArgs):
        return dotted(obj.objname)
    if isinstance(obj, ast.String):
        return str(obj.sval).lower()
    return dotted(obj) if isinstance(obj, tuple | list) else dotted(getattr(obj, "names", ()))


def option_on(options: Any, name: str) -> bool:
    """An option in parentheses, as PostgreSQL reads it: ``(FULL)`` is on, ``(FULL false)`` / ``(FULL 0)`` off."""
    for d in options or ():
        if d.defname == name:
            value = getattr(d.arg, "ival", getattr(d.arg, "sval", getattr(d.arg, "boolval", True)))
            return str(value).lower() not in ("0", "false", "off", "no", "f", "n")
    return False
