"""Least privilege: which role a tenant is migrated as, and whether it holds far more than the run needs.

Pre-flight reads the role (``Engine.role_reading``) and derives, from the pending changes' statements,
the grants the run does need: CREATE on the schema for what it creates, ownership of the tables it
alters (PostgreSQL), the table privileges its data statements use, and dualpath's own history tables.
A superuser, or a role with powers over the whole server, is a warning; on a protected environment a
refusal, unless the config accepts it (``allow_superuser``). The derivation is deliberately plain:
one line per kind of grant, from the operations the risk engine reads in each statement; a statement
it cannot read (a DO block, a procedure body) adds nothing, and the note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dualpath.changes import Change
from dualpath.engines.probes import RoleReading

# what each kind of data statement needs on its table (UPDATE and DELETE read the rows they match)
_DML = {"insert": "INSERT", "insert_select": "SELECT, INSERT", "update": "SELECT, UPDATE",
        "delete": "SELECT, DELETE", "merge": "SELECT, INSERT, UPDATE, DELETE", "select": "SELECT"}
_CREATES = {"create_table", "create_table_as", "create_routine", "create_domain", "create_other"}
_NOTHING = {"transaction", "set", "other", "do_block", "lock_table"}  # no grant of their own, or unknowable
# MariaDB: the table privilege each schema operation needs (grants are per privilege, not per owner)
_MYSQL_TABLE = {"create_index": "INDEX", "drop_index": "INDEX", "drop_table": "DROP", "truncate": "DROP",
                "rename_table": "ALTER, DROP"}
SETTING = "allow_superuser"


@dataclass(frozen=True)
class RoleCheck:
    """One tenant's role, what it holds beyond the run's needs, and the grants the run needs."""

    tenant: str
    role: str
    superuser: bool
    broad: tuple[str, ...]
    needed: tuple[str, ...]
    unread: int = 0  # statements whose needs could not be read

    @property
    def excessive(self) -> bool:
        return self.superuser or bool(self.broad)

    def describe(self) -> str:
        """"tenant north is migrated as app (no server-wide powers)" and the like."""
        if self.superuser:
            held = "a superuser"
        elif self.broad:
            held = "not a superuser, but holds " + ", ".join(self.broad)
        else:
            held = "no server-wide powers"
        return f"tenant {self.tenant} is migrated as {self.role} ({held})"

    def needs(self) -> str:
        text = "; ".join(self.needed) if self.needed else "nothing beyond connecting"
        if self.unread:
            text += f" (plus what {self.unread} statement(s) it could not read need)"
        return text

    def warning(self, env: str) -> str | None:
        """The pre-flight warning for a role that holds far more than the run needs; None when it does not."""
        if not self.excessive:
            return None
        return (f"{self.describe()}: far more than this run needs. Migrate as a role that holds only: "
                f"{self.needs()}. To accept it, set {SETTING} = true in [environments.{env}] "
                f"(or [preflight] {SETTING} = true)")


def check_role(tenant: str, reading: RoleReading, changes: Sequence[Change], dialect: str, schema: str) -> RoleCheck:
    """The role check of one tenant: ``reading`` from its connection, ``changes`` it still needs, ``schema``
    where unqualified names land (its database on MariaDB)."""
    needed, unread = needed_grants(changes, dialect, schema)
    return RoleCheck(tenant, reading.role, reading.superuser, reading.broad, tuple(needed), unread)


def needed_grants(changes: Sequence[Change], dialect: str, schema: str) -> tuple[list[str], int]:
    """The grants the changes' forward statements need, one line per kind of grant; and how many
    statements could not be read."""
    from dualpath.risk.catalogue import family_of
    from dualpath.risk.ops import SqlSyntaxError, extract_ops
    from dualpath.sql.kinds import statement_kind

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


def accepted(allow_env: bool | None, allow_all: bool) -> bool:
    """The environment's ``allow_superuser`` when set, else ``[preflight] allow_superuser``."""
    return allow_env if allow_env is not None else allow_all
