"""How many backups stay: by count and by age, the newest always kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dualpath.backup.destinations import Destination
from dualpath.backup.manifest import MANIFEST, BackupSettings, Manifest, destination_of, list_backups, log
from dualpath.errors import (
    UsageError,
)


def prune_backups(dest: str | Destination | None, keep_n: int | None = None, keep_days: float | None = None,
                  settings: BackupSettings | None = None, now: datetime | None = None) -> list[str]:
    """Delete backups outside retention; returns the deleted ids."""
    destination = destination_of(dest, settings)
    manifests = list_backups(destination) if keep_n is not None or keep_days is not None else []
    expired = select_expired(manifests, keep_n, keep_days, now or datetime.now(UTC))
    names = destination.names()
    for backup_id in expired:
        # The manifest goes first: a half-deleted backup is no longer listed as complete.
        destination.delete([f"{backup_id}/{MANIFEST}"])
        destination.delete([n for n in names if n.startswith(f"{backup_id}/") and not n.endswith(MANIFEST)])
        log.info("backup %s pruned from %s", backup_id, destination.label)
    for shared in unreferenced_shared(manifests, expired):
        destination.delete([n for n in names if n.startswith(f"{shared}/")])
        log.info("shared artifact %s pruned from %s: no backup refers to it any more", shared, destination.label)
    return expired


def unreferenced_shared(manifests: Sequence[Manifest], expired: Sequence[str]) -> list[str]:
    """Shared artifacts only expired backups referred to: another tenant's kept manifest keeps one."""
    gone = set(expired)
    kept = {m.shared for m in manifests if m.backup_id not in gone}
    return sorted({m.shared for m in manifests if m.backup_id in gone and m.shared and m.shared not in kept})


def select_expired(manifests: Sequence[Manifest], keep_n: int | None, keep_days: float | None,
                   now: datetime) -> list[str]:
    """A backup is kept when any rule keeps it: among the newest N, or younger than D days."""
    if keep_n is not None and keep_n < 1:
        raise UsageError("--keep must be at least 1", hint="the newest backup is never pruned")
    if keep_n is None and keep_days is None:
        return []  # no retention rule: keep everything
    newest = sorted(manifests, key=lambda m: (m.created_at, m.backup_id), reverse=True)
    expired = []
    for rank, manifest in enumerate(newest):
        kept_by_count = keep_n is not None and rank < keep_n
        kept_by_age = keep_days is not None and now - manifest.created < timedelta(days=keep_days)
        if not (kept_by_count or kept_by_age or rank == 0):
            expired.append(manifest.backup_id)
    return expired
