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
from dualpath.sources.common import Reader, missing_rollbacks_allowed, raise_duplicate, same_version_key
from dualpath.sources.files import reading_from

__all__ = ["READERS", "LAYOUTS", "Reader", "detect_layout", "read_changes"]

READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (flyway.READER, diesel.READER, golang_migrate.READER, dbmate.READER,
                   liquibase.READER, sqitch.READER)
}
LAYOUTS = tuple(READERS)


def read_changes(folder: Path, *, dialect: str | None = None, layout: str | None = None,
                 follow_links_outside: bool = False, allow_missing_rollbacks: bool = False) -> list[Change]:
    """All changes in ``folder``, ordered by version; ``layout`` skips detection.

    Links that leave ``folder`` are refused unless ``follow_links_outside`` (the
    ``[sources] follow_links_outside`` setting) allows them. ``allow_missing_rollbacks`` (for
    ``dualpath draft-rollbacks``): a change whose rollback is absent or has no SQL is read with
    ``rollback=()`` instead of refused.
    """
    folder = Path(folder)
    if layout is None:
        layout = detect_layout(folder, follow_links_outside=follow_links_outside)
    else:
        _check_folder(folder)
        if layout not in READERS:
            raise UsageError(f"unknown migration layout '{layout}'", hint=f"use one of: {', '.join(LAYOUTS)}")
    with reading_from(folder, follow_links_outside), missing_rollbacks_allowed(allow_missing_rollbacks):
        changes = READERS[layout].read(folder, dialect)
    _check_unique_versions(changes)
    return sorted(changes, key=lambda c: version_key(c.version))


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
