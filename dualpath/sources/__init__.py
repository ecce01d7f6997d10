"""Read the migration folders teams already have: one reader per layout, the layout auto-detected.

>>> changes = read_changes(Path("migrations"), dialect="postgresql")

Every reader yields :class:`~dualpath.changes.Change` objects, checked the same way: no
duplicate versions, a rollback for every change unless it is marked irreversible, no
rollback without its forward migration, no empty migration.
"""

from __future__ import annotations

from pathlib import Path

from dualpath.changes import Change, version_key
from dualpath.errors import InputError, UsageError
from dualpath.sources import dbmate, diesel, flyway, golang_migrate, liquibase, sqitch
from dualpath.sources.common import (
    MISSING_POLICIES,
    MissingPolicy,
    Reader,
    no_way_back,
    raise_duplicate,
    same_version_key,
)
from dualpath.sources.common import (
    missing_rollbacks as reading_missing_rollbacks,
)
from dualpath.sources.files import reading_from

__all__ = ["READERS", "LAYOUTS", "MISSING_POLICIES", "MissingPolicy", "Reader", "detect_layout", "no_way_back",
           "read_changes", "way_back_report"]

READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (flyway.READER, diesel.READER, golang_migrate.READER, dbmate.READER,
                   liquibase.READER, sqitch.READER)
}
LAYOUTS = tuple(READERS)


def read_changes(folder: Path, *, dialect: str | None = None, layout: str | None = None,
                 follow_links_outside: bool = False, missing_rollbacks: MissingPolicy = "refuse",
                 notes: list[str] | None = None, placeholders: dict[str, str] | None = None) -> list[Change]:
    """All changes in ``folder``, ordered by version; ``layout`` skips detection.

    Links that leave ``folder`` are refused unless ``follow_links_outside`` (the
    ``[sources] follow_links_outside`` setting) allows them. ``missing_rollbacks`` (the
    ``[rollback] missing`` setting) says what a change whose rollback is absent or runs nothing is:
    refused, irreversible (an implied ``irreversible`` directive) or allowed (``rollback=()``, a
    no-op; ``dualpath draft-rollbacks`` reads so). What was read quietly (a file that runs nothing,
    a file the layout's tool ignores) is added to ``notes`` when given. ``placeholders``: the values
    of Flyway's ``${name}`` (None: not replaced, as when no target is known).
    """
    folder = Path(folder)
    if layout is None:
        layout = detect_layout(folder, follow_links_outside=follow_links_outside)
    else:
        _check_folder(folder)
        if layout not in READERS:
            raise UsageError(f"unknown migration layout '{layout}'", hint=f"use one of: {', '.join(LAYOUTS)}")
    with reading_from(folder, follow_links_outside), reading_missing_rollbacks(missing_rollbacks, notes), \
            flyway.placeholders(placeholders):
        changes = READERS[layout].read(folder, dialect)
    _check_unique_versions(changes)
    return sorted(changes, key=lambda c: version_key(c.version))


def way_back_report(changes: list[Change], policy: str) -> list[str]:
    """Every change that cannot be undone by running SQL, one line each, under a heading naming the
    ``[rollback] missing`` setting; nothing when every change has a way back."""
    missing = [(change, why) for change in changes if (why := no_way_back(change))]
    if not missing:
        return []
    lines = [f"{len(missing)} change(s) without a way back ([rollback] missing = \"{policy}\"):"]
    for change, why in missing:
        lines.append(f"  {change.version} {change.description}: {why} ({change.rollback_file or change.where})")
    return lines


def detect_layout(folder: Path, *, follow_links_outside: bool = False) -> str:
    """The one layout the folder uses; several layouts side by side is an error, not a guess."""
    folder = Path(folder)
    _check_folder(folder)
    with reading_from(folder, follow_links_outside):
        found = {name: files for name, reader in READERS.items() if (files := reader.find(folder))}
    if not found:
        raise UsageError(f"no migrations recognised in {folder}", hint=_layouts_hint())
    if len(found) > 1:
        examples = "; ".join(f"{name} (e.g. {files[0]})" for name, files in found.items())
        raise InputError(f"mixed migration layouts in {folder}: {examples}", where=str(folder),
                         hint="keep one layout per folder: move the other files into a folder of their own")
    return next(iter(found))


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise UsageError(f"migrations folder not found: {folder}",
                         hint="pass --migrations DIR, or set the folder in dualpath.toml")
    if not folder.is_dir():
        raise UsageError(f"not a folder: {folder}", hint="pass the folder that holds the migration files")
    if not any(p for p in folder.iterdir() if not p.name.startswith(".")):
        raise UsageError(f"migrations folder is empty: {folder}", hint=_layouts_hint())


def _layouts_hint() -> str:
    return "dualpath reads these layouts: " + ", ".join(
        f"{name} ({reader.example})" for name, reader in READERS.items())


def _check_unique_versions(changes: list[Change]) -> None:
    """Readers catch duplicates in their own terms; this catches what slips between them."""
    seen: dict[tuple[int, ...], Change] = {}
    for change in changes:
        key = same_version_key(change.version)
        if key in seen:
            raise_duplicate(change.version, seen[key].where, change.where)
        seen[key] = change
