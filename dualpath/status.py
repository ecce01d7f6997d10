"""Where each change stands on a target: applied, pending, failed or drifted; and what was edited
behind dualpath's back: missing (applied, its file gone), unrecorded (applied per the audit log, its
history row gone) or unknown (a history row this dualpath cannot read, e.g. from a newer one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dualpath import history
from dualpath.changes import Change, is_repeatable, version_key
from dualpath.history.rows import AuditFact, HistoryRow

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class ChangeState:
    version: str
    description: str
    state: str  # applied | pending | failed | drifted | missing | unrecorded | unknown
    applied_at: datetime | None
    change: Change | None  # None: applied on the target but no file here
    row: HistoryRow | None
    fact: AuditFact | None = None  # what dualpath_audit says last about this version

    @property
    def recorded_file(self) -> str | None:
        """The file (file:line) the change was last applied from, as the audit log recorded it."""
        return self.fact.file if self.fact else None

    @property
    def where(self) -> str:
        if self.change:
            return self.change.where
        return f"(no file; was {self.recorded_file})" if self.recorded_file else "(no file)"

    @property
    def renamed_from(self) -> str | None:
        """The description history recorded, when the file now says another (a renamed file)."""
        if self.change is None or self.row is None or not self.row.is_applied:
            return None
        return self.row.description if self.row.description != self.change.description[:512] else None

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "description": self.description,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "checksum": self.change.checksum if self.change else (self.row.checksum if self.row else None),
            "file": self.change.file if self.change else None,
            "missing_file": self.change is None,
            "recorded_file": self.recorded_file,
            "recorded_description": self.row.description if self.row else None,
        }


def read_states(conn: Connection, changes: list[Change]) -> list[ChangeState]:
    """The states of a target: its history joined with the files, checked against its audit log."""
    return compute_states(changes, *history.read_history(conn))


def compute_states(changes: list[Change], latest: dict[str, HistoryRow],
                   facts: dict[str, AuditFact] | None = None) -> list[ChangeState]:
    """Join files and history; versions applied there but missing here are listed, not hidden."""
    facts = facts or {}
    states: list[ChangeState] = []
    by_version = {c.version: c for c in changes}
    for version in sorted(set(by_version) | set(latest) | {v for v, f in facts.items() if f.applied},
                          key=version_key):
        change, row, fact = by_version.get(version), latest.get(version), facts.get(version)
        state = _state_of(change, row, fact)
        states.append(ChangeState(
            version=version,
            description=change.description if change else row.description if row else fact.description if fact
            else "",
            state=state,
            applied_at=row.applied_at if row and row.is_applied else fact.at if state == "unrecorded" and fact
            else None,
            change=change, row=row, fact=fact))
    return [s for s in states if s.change is not None or s.state != "pending"]


def _state_of(change: Change | None, row: HistoryRow | None, fact: AuditFact | None) -> str:
    if row is not None and row.direction not in history.DIRECTIONS:
        return "unknown"
    if (row is None or (row.success and not row.is_applied)) and fact is not None and fact.applied:
        return "unrecorded"  # the audit log saw it applied last; its history row is gone
    if row is None:
        return "pending"
    if not row.success:
        return "failed"
    if not row.is_applied:
        return "pending"
    if change is None:
        return "missing"
    if change.checksum != row.checksum:
        # a Flyway repeatable runs again when its file changes: that is what its tool does with an edit
        return "pending" if is_repeatable(change.version) else "drifted"
    return "applied"
