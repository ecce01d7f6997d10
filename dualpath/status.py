"""Where each change stands on a target: applied, pending, failed or drifted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualpath.changes import Change, version_key
from dualpath.history import HistoryRow


@dataclass(frozen=True)
class ChangeState:
    version: str
    description: str
    state: str  # applied | pending | failed | drifted
    applied_at: datetime | None
    change: Change | None  # None: applied on the target but no file here
    row: HistoryRow | None

    @property
    def where(self) -> str:
        return self.change.where if self.change else "(no file)"

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "description": self.description,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "checksum": self.change.checksum if self.change else (self.row.checksum if self.row else None),
            "file": self.change.file if self.change else None,
            "missing_file": self.change is None,
        }


def compute_states(changes: list[Change], latest: dict[str, HistoryRow]) -> list[ChangeState]:
    """Join files and history; versions applied there but missing here are listed, not hidden."""
    states: list[ChangeState] = []
    by_version = {c.version: c for c in changes}
    for version in sorted(set(by_version) | set(latest), key=version_key):
        change, row = by_version.get(version), latest.get(version)
        states.append(ChangeState(
            version=version,
            description=change.description if change else row.description if row else "",
            state=_state_of(change, row),
            applied_at=row.applied_at if row and row.is_applied else None,
            change=change, row=row))
    return [s for s in states if s.change is not None or s.state != "pending"]


def _state_of(change: Change | None, row: HistoryRow | None) -> str:
    if row is None:
        return "pending"
    if not row.success:
        return "failed"
    if not row.is_applied:
        return "pending"
    if change is not None and change.checksum != row.checksum:
        return "drifted"
    return "applied"
