"""Backups before destructive changes: create, list, verify, restore, prune — with a manifest.

A backup is a folder ``<backup id>/`` at a destination (file:// or s3://) holding the dump
artifact and ``manifest.json`` (written last: a folder without a manifest is not a backup).
The manifest records sha256 and size of the artifact, the engine and version, the schema
fingerprint and row counts of what was dumped, the change ids it protects, who and when —
so ``verify`` can prove the bytes and ``restore`` can prove the contents.

Schema tenants of one database may share one dump (``shared``): each keeps its own folder and manifest,
which names the shared folder holding the artifact and the schema to restore from it.

create: taking one; shared: one dump for many schema tenants of a database, a manifest each; manifest:
what one is and where they are; contents: what one holds; restore: proving one; retention: how many
stay (a shared artifact until no kept manifest names it); policy: which changes need one;
destinations: file:// and s3://.
"""

from dualpath.backup.contents import contents_problems, scope_fingerprint
from dualpath.backup.create import create_backup, discard_backup
from dualpath.backup.manifest import (
           MANIFEST,
           Artifact,
           BackupSettings,
           Manifest,
           list_backups,
           manifest_json,
           new_backup_id,
)
from dualpath.backup.policy import affected_tables, ensure_backup_for, existing_tables, needs_backup
from dualpath.backup.restore import RestoreReport, restore_backup, verify_backup
from dualpath.backup.retention import prune_backups, select_expired, unreferenced_shared
from dualpath.backup.shared import Member, create_shared_backup, discard_shared

__all__ = ["MANIFEST", "Artifact", "BackupSettings", "Manifest", "Member", "RestoreReport", "affected_tables",
           "contents_problems", "create_backup", "create_shared_backup", "discard_backup", "discard_shared",
           "ensure_backup_for", "existing_tables",
           "list_backups", "manifest_json", "needs_backup", "new_backup_id", "prune_backups", "restore_backup",
           "scope_fingerprint", "select_expired", "unreferenced_shared", "verify_backup"]
