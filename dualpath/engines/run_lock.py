"""Who holds a target's run lock, and how a refusal names them (two runs never overlap on one target)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dualpath.errors import TargetRefused


@dataclass(frozen=True)
class RunLockHolder:
    """Who holds a target's run lock, as far as the server can tell."""

    run_id: str
    host: str
    since: str

    def refusal(self, where: str, hint: str) -> TargetRefused:
        """The error a second run gets: who holds the target, since when, from where."""
        return TargetRefused(f"target locked by run {self.run_id} since {self.since} on {self.host}",
                             where=where, hint=hint)


def utc_now() -> str:
    return format_since(datetime.now(UTC))


def format_since(moment: datetime) -> str:
    """ISO 8601 UTC to the second, the form every engine reports a lock's start in."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
