"""Which changes need a backup first (destructive ones), of which tables, and taking it for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import URL

from dualpath.backup.create import create_backup
from dualpath.backup.destinations import Destination
from dualpath.backup.manifest import BackupSettings, Manifest
from dualpath.backup_words import may_destroy
from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.errors import (
    DualpathError,
    TargetRefused,
)
from dualpath.urls import redact

# Operations after which the old data cannot be recovered from the database itself.
DESTRUCTIVE_OPS = frozenset({"drop_table", "drop_column", "drop_schema", "drop_database", "truncate",
                             "delete", "update", "alter_column_type", "create_table_as"})




def ensure_backup_for(changes: Sequence[Change], url: str | URL, dest: str | Destination | None = None,
                      settings: BackupSettings | None = None) -> Manifest | None:
    """Back up what destructive or irreversible ``changes`` touch, and verify it; else refuse (exit 3)."""
    settings = settings or BackupSettings()
    dialect = open_engine(url).name
    protected = [c for c in changes if settings.always or needs_backup(c, dialect)]
    if not protected:
        return None
    ids = [c.version for c in protected]
    label = ", ".join(ids)
    if dest is None and settings.destination is None:
        raise TargetRefused(f"change(s) {label} are destructive or irreversible and no backup destination is set",
                            hint="configure backup.destination (file:// or s3://) and run again")
    tables = affected_tables(protected, dialect)
    if tables:
        tables = existing_tables(url, tables)
        if not tables:
            return None  # nothing there yet can be lost: these changes drop what this run creates
    verified = settings.model_copy(update={"verify": True})  # here verification is not optional
    try:
        return create_backup(url, tables, ids, dest, verified)
    except Exception as exc:  # any failure means no proven backup, and so no destructive change
        why = str(exc) if isinstance(exc, DualpathError) else f"{type(exc).__name__}: {exc}"
        raise TargetRefused(f"change(s) {label} not run: their backup failed or could not be verified: "
                            f"{redact(why)}", hint="fix the backup destination or tools and run again; "
                            "nothing was changed") from None


def needs_backup(change: Change, dialect: str) -> bool:
    """Irreversible, or destroys data (drops, truncates, deletes, updates, retypes); unreadable SQL counts."""
    return change.irreversible is not None or any(op is None or op.kind in DESTRUCTIVE_OPS
                                                  for op in _ops(change, dialect))


def affected_tables(changes: Sequence[Change], dialect: str) -> list[str] | None:
    """Tables the changes' destructive operations touch; None (whole database) when not all are known."""
    ops = [op for change in changes for op in _ops(change, dialect)]
    touched = [op for op in ops if op is None or op.kind in DESTRUCTIVE_OPS]
    if not touched or any(op is None or not op.table or op.kind.endswith(("schema", "database")) for op in touched):
        return None
    return list(dict.fromkeys(str(op.table) for op in touched if op is not None))


def existing_tables(url: str | URL, tables: Sequence[str]) -> list[str]:
    """The named tables that exist on the target now."""
    engine = open_engine(url)
    with engine.connect() as conn:
        return [t for t in tables if engine.table_exists(conn, t)]


def _ops(change: Change, dialect: str) -> list[Any]:
    """The operations of a change's forward statements; None for a statement that cannot be read."""
    from dualpath.risk.ops import SqlSyntaxError, extract_ops

    found: list[Any] = []
    for statement in change.forward:
        if not may_destroy(statement.text):
            continue  # no word that could destroy data: not worth a parse (hundreds of changes per run)
        try:
            found += extract_ops(statement.text, dialect)
        except SqlSyntaxError:
            found.append(None)
    return found
