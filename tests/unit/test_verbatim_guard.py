"""Structural: SQL that is not a literal written here (a migration statement, an EXPLAIN of one, a dump's
DDL, a user's query) reaches a server only through ``run_verbatim``, never with parameter substitution on."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "dualpath"
ALLOWED = {ROOT / "engines" / "verbatim.py"}


SQL_NAMES = {"sql", "statement", "stmt", "ddl", "query"}


def _is_sql(value: ast.expr) -> bool:
    return (isinstance(value, ast.Name) and value.id in SQL_NAMES) or \
        (isinstance(value, ast.Attribute) and value.attr == "text")


def _carries_text(arg: ast.expr) -> bool:
    """Any SQL held in a variable; an f-string only when it splices in SQL (``f"EXPLAIN {sql}"``), not
    when it splices a quoted identifier into a statement written here (``f"SELECT ... FROM {quoted}"``)."""
    if isinstance(arg, ast.Constant):
        return False
    if isinstance(arg, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) and _is_sql(v.value) for v in arg.values)
    return True


def test_no_exec_driver_sql_of_text_outside_run_verbatim() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path in ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "exec_driver_sql" and node.args and _carries_text(node.args[0])):
                offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert offenders == [], "use dualpath.engines.verbatim.run_verbatim:\n" + "\n".join(offenders)
