"""MySQL/MariaDB dependents: information_schema VIEWS, ROUTINES, TRIGGERS, KEY_COLUMN_USAGE and COLUMNS.

The server tracks foreign keys: it refuses to drop a column or table one references (errors 1829,
1451) and to change the type of a referenced column (1833), and carries them along a rename. Views,
routines and triggers are kept as text: a drop or rename runs, and they fail when next used (a view
with error 1356, a trigger on the next write to its table). A generated column refuses the drop of a
column it reads (1054) and follows a rename; a CHECK on the dropped column alone is dropped with it.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from dualpath.risk.measure.dependents import Change
from dualpath.risk.measure.observation import Dependent

_VIEWS = text("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()")
_ROUTINES = text("SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                 "WHERE ROUTINE_SCHEMA = DATABASE()")
_TRIGGERS = text("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS "
                 "WHERE TRIGGER_SCHEMA = DATABASE()")
_FOREIGN_KEYS = text("SELECT CONSTRAINT_NAME, TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE "
                     "WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() "
                     "AND REFERENCED_TABLE_NAME = :t AND (:c IS NULL OR REFERENCED_COLUMN_NAME = :c) "
                     "AND NOT (TABLE_NAME = :t AND :c IS NULL)")
_GENERATED = text("SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS "
                  "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND GENERATION_EXPRESSION IS NOT NULL "
                  "AND GENERATION_EXPRESSION <> '' AND COLUMN_NAME <> :c")


def dependents(conn: Connection, change: Change, where: str) -> list[Dependent]:
    table = change.table.rsplit(".", 1)[-1].strip("`")
    found = _foreign_keys(conn, change, table, where)
    if change.column is not None:
        found += _generated(conn, change, table, where)
    if change.action == "retype":
        return found
    gone = "gone" if change.action == "drop" else "renamed"
    for name, body in conn.execute(_VIEWS):
        if _names(str(body or ""), table, change.column):
            found.append(Dependent(where, change.used, "view", str(name),
                                   f"the statement runs, and the view then fails on every read once this is {gone} "
                                   "(error 1356)", "warning"))
    for kind, name, body in conn.execute(_ROUTINES):
        if _names(str(body or ""), table, change.column):
            found.append(Dependent(where, change.used, str(kind).lower(), str(name),
                                   f"its body names it and is only read when called: calls fail once it is {gone}",
                                   "warning"))
    for name, on, body in conn.execute(_TRIGGERS):
        if str(on) == table and change.column is None and change.action == "drop":
            continue  # a table's own triggers go with it
        if _names(str(body or ""), table if str(on) != table else None, change.column):
            found.append(Dependent(where, change.used, "trigger", f"{name} on {on}",
                                   f"every write to {on} fails once this is {gone}", "warning"))
    return found


def _foreign_keys(conn: Connection, change: Change, table: str, where: str) -> list[Dependent]:
    found = []
    for name, on in conn.execute(_FOREIGN_KEYS, {"t": table, "c": change.column}):
        if change.action == "rename":
            outcome, severity = "follows the rename (the server rewrites the foreign key)", "info"
        elif change.action == "retype":
            outcome, severity = ("the server refuses a type change of a column a foreign key references (error "
                                 "1833) unless the referencing column changes the same way"), "warning"
        else:
            code = "1829" if change.column else "1451"
            outcome, severity = (f"the server refuses the statement while this foreign key references it (error "
                                 f"{code}): drop the foreign key first"), "error"
        found.append(Dependent(where, change.used, "foreign key", f"{name} on {on}", outcome, severity))
    return found


def _generated(conn: Connection, change: Change, table: str, where: str) -> list[Dependent]:
    found = []
    for column, expression in conn.execute(_GENERATED, {"t": table, "c": change.column}):
        if not _word(str(change.column)).search(str(expression)):
            continue
        if change.action == "drop":
            outcome, severity = f"the server refuses to drop a column {column} is computed from (error 1054)", "error"
        elif change.action == "rename":
            outcome, severity = "follows the rename", "info"
        else:
            outcome, severity = "is computed again from the new type", "info"
        found.append(Dependent(where, change.used, "generated column", f"{table}.{column}", outcome, severity))
    return found


def _names(body: str, table: str | None, column: str | None) -> bool:
    """The text names the table (when given) and the column (when given), each as a whole word."""
    return all(_word(w).search(body) for w in (table, column) if w)


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])", re.I)
