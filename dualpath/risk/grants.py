"""The grants a run's statements need, per dialect: read from the operations the risk engine finds in each
statement (``extract_ops``). Deliberately plain: one line per kind of grant; a statement it cannot read (a DO
block, a procedure body) adds nothing and is counted, so the caller can say so.
"""

from __future__ import annotations

from collections.abc import Sequence

from dualpath.changes import Change
from dualpath.risk.catalogue import family_of
from dualpath.risk.ops import SqlSyntaxError, extract_ops
from dualpath.sql.kinds import statement_kind

# what each kind of data statement needs on its table (UPDATE and DELETE read the rows they match)
_DML = {"insert": "INSERT", "insert_select": "SELECT, INSERT", "update": "SELECT, UPDATE",
        "delete": "SELECT, DELETE", "merge": "SELECT, INSERT, UPDATE, DELETE", "select": "SELECT"}
_CREATES = {"create_table", "create_table_as", "create_routine", "create_domain", "create_other"}
_NOTHING = {"transaction", "set", "other", "do_block", "lock_table"}  # no grant of their own, or unknowable
# MariaDB: the table privilege each schema operation needs (grants are per privilege, not per owner)
_MYSQL_TABLE = {"create_index": "INDEX", "drop_index": "INDEX", "drop_table": "DROP", "truncate": "DROP",
                "rename_table": "ALTER, DROP"}

def needed_grants(changes: Sequence[Change], dialect: str, schema: str) -> tuple[list[str], int]:
    """The grants the changes' forward statements need, one line per kind of grant; and how many
    statements could not be read."""
    family = family_of(dialect)
    grants: dict[str, list[str]] = {}
    created: set[str] = set()
    unread = 0
    for change in changes:
        for statement in change.forward:
            try:
                ops = extract_ops(statement.text, family)
            except SqlSyntaxError:
                unread += 1
                continue
            for op in ops:
                grant, target = _grant(op.kind, op.table, op.name, statement_kind(statement.text), family, schema)
                if op.kind in ("create_table", "create_table_as") and op.table:
                    created.add(op.table.lower())
                if grant is None or (family == "postgresql" and target.lower() in created):
                    continue  # PostgreSQL: the role that created a table owns it, with every privilege on it
                names = grants.setdefault(grant, [])
                if target and target not in names:
                    names.append(target)
    grants.setdefault(*_history(family, schema))
    return [_line(grant, names) for grant, names in grants.items()], unread


def _grant(kind: str, table: str | None, name: str | None, statement: str, family: str,
           schema: str) -> tuple[str | None, str]:
    """(the grant, the object it is on) one operation needs; (None, "") when it needs none of its own."""
    if kind in _NOTHING:
        return None, ""
    if family == "postgresql":
        if kind in _DML:
            return f"{_DML[kind]} ON", table or ""
        if statement in ("CREATE SCHEMA", "CREATE EXTENSION"):
            return "CREATE ON DATABASE", "the tenant's database"
        if kind in _CREATES:
            return "CREATE ON SCHEMA", schema
        return "ownership of", table or name or ""
    qualified = f"{schema}.{table}" if table and "." not in table else (table or f"{schema}.*")
    if kind in _DML:
        return f"{_DML[kind]} ON", qualified
    if kind == "create_routine":
        return "CREATE ROUTINE ON", f"{schema}.*"
    if statement == "CREATE VIEW":
        return "CREATE VIEW ON", f"{schema}.*"
    if statement == "CREATE TRIGGER":
        return "TRIGGER ON", qualified
    if kind in _CREATES:
        return "CREATE ON", f"{schema}.*"
    if kind in _MYSQL_TABLE:
        return f"{_MYSQL_TABLE[kind]} ON", qualified
    return "ALTER ON", qualified


def _history(family: str, schema: str) -> tuple[str, list[str]]:
    """dualpath's own tables (history, attempts, run lock) in the tenant: created on its first run."""
    if family == "postgresql":
        return "CREATE ON SCHEMA", [schema]
    return "CREATE, SELECT, INSERT, UPDATE, DELETE ON", [f"{schema}.* (dualpath's history tables)"]


def _line(grant: str, names: list[str]) -> str:
    return f"{grant} {', '.join(names)}".strip()
