"""Least privilege: which role a tenant is migrated as, and whether it holds far more than the run needs.

Pre-flight reads the role (``Engine.role_reading``) and derives, from the pending changes' statements,
the grants the run does need (dualpath/risk/grants.py: CREATE on the schema for what it creates,
ownership of the tables it alters on PostgreSQL, the table privileges its data statements use, and
dualpath's own history tables).
A superuser, or a role with powers over the whole server, is a warning; on a protected environment a
refusal, unless the config accepts it (``allow_superuser``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dualpath.changes import Change
from dualpath.engines.probes import RoleReading
from dualpath.risk.grants import needed_grants

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


def accepted(allow_env: bool | None, allow_all: bool) -> bool:
    """The environment's ``allow_superuser`` when set, else ``[preflight] allow_superuser``."""
    return allow_env if allow_env is not None else allow_all
