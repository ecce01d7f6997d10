"""What the risk engine talks about: operations found in SQL, their effects, and findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    """info < warning < error; used for --fail-on and for escalation."""
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Op:
    """One schema or data operation a statement performs, spelled the same for every dialect.

    ``kind`` is e.g. "add_column", "create_index", "update"; ``variant`` selects the catalogue
    row ("volatile_default", "concurrent", ...); ``attrs`` keeps what rules need to know.
    """

    kind: str
    table: str | None = None
    name: str | None = None
    variant: str = ""
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass(frozen=True)
class Effect:
    """What running one operation does to the server: its lock, and how much work it is."""

    table: str | None
    operation: str
    lock: str  # PostgreSQL lock mode, MySQL LOCK clause, SQLite "EXCLUSIVE"
    cost: str  # "none" | "metadata" | "scan" | "build" | "rewrite" | "unsupported"
    algorithm: str | None = None  # MySQL/MariaDB ALGORITHM: INSTANT | INPLACE | COPY
    blocks: str = "none"  # "none" | "writes" | "reads and writes"
    notes: str = ""
    op: Op | None = field(default=None, compare=False)

    @property
    def blocking(self) -> bool:
        return self.blocks != "none"


@dataclass(frozen=True)
class Finding:
    """One thing a person should look at, with where it is and what to do instead."""

    rule: str
    severity: Severity
    file: str
    line: int
    message: str
    fix: str = ""
    column: int = 1
    version: str | None = None  # the change's version, when the file came from a migration folder
    title: str = ""
    # what the finding's truth depends on when lint cannot see it ("the current type of orders.total");
    # empty when lint knows (from the SQL alone, or from the server at --url)
    depends: str = ""

    def as_dict(self) -> dict[str, Any]:
        found = {
            "rule": self.rule,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }
        return found | ({"depends": self.depends} if self.depends else {})


@dataclass(frozen=True)
class Measured:
    """One table touched by one statement during a lock rehearsal: predicted next to measured."""

    version: str
    where: str  # file:line of the statement
    table: str
    operation: str
    predicted_lock: str
    predicted_rewrite: bool
    measured_lock: str | None  # None: not measurable on this engine (see note)
    rewritten: bool | None  # None: storage ids not readable
    stronger: bool  # measured lock ranks above the prediction
    note: str = ""  # why it was not measurable
    method: str = ""  # how it was measured (pg_locks of the session, a blocking probe, ...)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
