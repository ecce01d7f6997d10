"""Everything the documents are written from, in one value: the plan, the config, the run records, the
changes as read, the live target, the environment of the run at hand and the backups already taken."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dualpath.changes import Change
from dualpath.config import Environment, Settings
from dualpath.plan import Plan, PlannedChange, TargetState
from dualpath.render.records import RunRecords


@dataclass(frozen=True)
class BackupNote:
    """A backup that exists now, as its manifest says."""

    backup_id: str
    created_at: str
    tables: tuple[str, ...]
    change_ids: tuple[str, ...]
    rows: int


@dataclass
class DocInputs:
    plan: Plan
    settings: Settings
    records: RunRecords = field(default_factory=RunRecords)
    changes: Sequence[Change] = ()
    target: TargetState | None = None
    env: str | None = None  # the environment of the run at hand (`dualpath docs --env`)
    backup_destination: str | None = None  # as written in the config; None: the default beside dualpath.toml
    backups: Sequence[BackupNote] = ()

    def environment(self) -> Environment | None:
        return self.settings.environments.get(self.env) if self.env else None

    def change(self, version: str) -> Change | None:
        return next((c for c in self.changes if c.version == version), None)

    def planned(self, version: str) -> PlannedChange | None:
        return next((c for c in self.plan.changes if c.version == version), None)

    def rows_of(self, table: str) -> int | None:
        size = self.target.size_of(table) if self.target else None
        return int(size.rows) if size else None

    def backup_for(self, version: str) -> BackupNote | None:
        """The newest existing backup taken for ``version``."""
        return next((b for b in reversed(self.backups) if version in b.change_ids), None)
