"""Backups before destructive changes: create, list, verify, restore, prune — with a manifest.

A backup is a folder ``<backup id>/`` at a destination (file:// or s3://) holding the dump
artifact and ``manifest.json`` (written last: a folder without a manifest is not a backup).
The manifest records sha256 and size of the artifact, the engine and version, the schema
fingerprint and row counts of what was dumped, the change ids it protects, who and when —
so ``verify`` can prove the bytes and ``restore`` can prove the contents.

create: taking one; manifest: what one is and where they are; contents: what one holds; restore: proving
one; retention: how many stay; policy: which changes need one; destinations: file:// and s3://.
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
from dualpath.backup.retention import prune_backups, select_expired

__all__ = ["MANIFEST", "Artifact", "BackupSettings", "Manifest", "RestoreReport", "affected_tables",
           "contents_problems", "create_backup", "discard_backup", "ensure_backup_for", "existing_tables",
           "list_backups", "manifest_json", "needs_backup", "new_backup_id", "prune_backups", "restore_backup",
           "scope_fingerprint", "select_expired", "verify_backup"]
