"""PostgreSQL: a WHERE clause true for every row, read from pglast's parse tree (see truth.py)."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from dualpath.risk.ops.pgjson import slots_of
from dualpath.risk.ops.truth import SAME_SIDES, compare


def pg_always_true(expr: Any) -> bool:
    """True when the PostgreSQL expression holds for every row."""
    return _pg_value(expr) is True


def _pg_value(expr: Any) -> Any:
    """The expression's constant value, or None when it depends on the row."""
    if isinstance(expr, ast.A_Const) and not expr.isnull and expr.val is not None:
        val = expr.val
        return next((getattr(val, a) for a in ("boolval", "ival", "sval", "fval") if hasattr(val, a)), None)
    if isinstance(expr, ast.BoolExpr):
        values = [_pg_value(a) for a in expr.args or ()]
        if expr.boolop == BoolExprType.NOT_EXPR:
            return (not values[0]) if values and isinstance(values[0], bool) else None
        if expr.boolop == BoolExprType.AND_EXPR:
            return True if all(v is True for v in values) else None
        return True if any(v is True for v in values) else None
    names = tuple(getattr(expr, "name", None) or ())
    if isinstance(expr, ast.A_Expr) and expr.kind == A_Expr_Kind.AEXPR_OP and len(names) == 1:
        op = str(names[0].sval)
        if op in SAME_SIDES and _shape(expr.lexpr) == _shape(expr.rexpr) and isinstance(expr.lexpr, ast.ColumnRef):
            return True
        left, right = _pg_value(expr.lexpr), _pg_value(expr.rexpr)
        return compare(op, left, right)
    return None


def _shape(node: Any) -> Any:
    if isinstance(node, tuple | list):
        return tuple(_shape(n) for n in node)
    if isinstance(node, ast.Node):
        return (type(node).__name__, *((s, _shape(getattr(node, s, None))) for s in slots_of(node) if s != "location"))
    return node
