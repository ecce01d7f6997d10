"""What a target's own tables say about the runs on it: history, audit and batch checkpoints, read once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, inspect, select

from dualpath import history


@dataclass
class RunRecords:
    history: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)  # dualpath_batch_checkpoint rows

    def audits(self, *actions: str, version: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.audit if a["action"] in actions and (version is None or a["version"] == version)]

    def rows_changed(self, version: str, direction: str = "up") -> int | None:
        """Rows the batched statements of a change changed (None: not batched, so not counted)."""
        done = [int(b["rows_done"]) for b in self.batches if b["version"] == version and b["direction"] == direction]
        return sum(done) if done else None


def read_records(conn: Connection) -> RunRecords:
    """Every history, audit and checkpoint row of the target, oldest first; none when dualpath never ran there."""
    if not inspect(conn).has_table(history.history_table.name):
        return RunRecords()
    rows = [dict(r) for r in conn.execute(select(history.history_table).order_by(history.history_table.c.id))
            .mappings()]
    checkpoints = history.batch_checkpoint_table
    batches = ([dict(r) for r in conn.execute(select(checkpoints).order_by(checkpoints.c.id)).mappings()]
               if inspect(conn).has_table(checkpoints.name) else [])
    return RunRecords(rows, history.audit_rows(conn), batches)


def detail_of(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON ``detail`` of a history or audit row ({} when absent or unreadable)."""
    raw = row.get("detail")
    if isinstance(raw, dict):
        return raw
    try:
        return dict(json.loads(raw)) if raw else {}
    except (ValueError, TypeError):
        return {}
