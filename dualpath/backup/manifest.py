"""What a backup is: its settings, the manifest written last beside the artifact, and where backups are
(a destination, file:// or s3://); listing and reading them."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dualpath.backup.destinations import Destination, S3Settings, open_destination
from dualpath.engines.dump import ToolSettings
from dualpath.errors import (
    UsageError,
    VerificationFailed,
)

log = logging.getLogger("dualpath.backup")


MANIFEST = "manifest.json"


class BackupSettings(BaseModel):
    """The ``[backup]`` section: where to, what, how long to keep, and the tools to use."""

    model_config = ConfigDict(extra="forbid")

    destination: str | None = None  # file:///var/backups/dualpath or s3://bucket/prefix
    scope: Literal["tables", "database"] = "tables"  # affected tables, or the whole database
    always: bool = False  # back up before every change, not only destructive/irreversible ones
    verify: bool = True  # re-read and check sha256 right after upload
    keep: int | None = Field(default=None, ge=1)  # retention: newest N ...
    keep_days: float | None = Field(default=None, ge=0)  # ... or younger than D days
    work_dir: str | None = None  # where dumps are staged before upload (default: system temp)
    tools: ToolSettings = Field(default_factory=lambda: ToolSettings())
    s3: S3Settings = Field(default_factory=lambda: S3Settings())


class Artifact(BaseModel):
    name: str
    sha256: str
    size: int


class Manifest(BaseModel):
    """What a backup holds and how to prove it; JSON beside the artifact."""

    format: int = 1
    backup_id: str
    created_at: str  # UTC, ISO 8601
    created_by: str
    engine: str  # "postgresql" | "mysql" | "sqlite"
    flavor: str
    server_version: str
    tool: str
    source: str  # the database, password hidden
    database: str
    scope: Literal["tables", "database"]
    tables: list[str]
    row_counts: dict[str, int]
    fingerprint_digest: str
    fingerprint: dict[str, dict[str, dict[str, Any]]]
    change_ids: list[str]
    artifacts: list[Artifact]
    # A shared backup (format 2): one dump of many schema tenants of one database. The artifact lives in
    # the folder ``shared`` names, beside other tenants' manifests; this one restores ``schema_name`` of it.
    shared: str | None = None
    schema_name: str | None = None

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at.replace("Z", "+00:00"))

    @property
    def size(self) -> int:
        return sum(a.size for a in self.artifacts)

    def artifact_key(self, artifact: Artifact) -> str:
        """Where ``artifact`` is at the destination: the backup's own folder, or the shared one."""
        return f"{self.shared or self.backup_id}/{artifact.name}"


def new_backup_id(database: str, now: datetime | None = None) -> str:
    """Sortable by time, readable, unique: 20261105T020000Z-shop-3fa2b1."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{slug(database)}-{secrets.token_hex(3)}"


def manifest_json(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()


def list_backups(dest: str | Destination | None, settings: BackupSettings | None = None) -> list[Manifest]:
    """Every complete backup at ``dest``, newest first."""
    destination = destination_of(dest, settings)
    ids = [name[: -len(MANIFEST) - 1] for name in destination.names() if name.endswith(f"/{MANIFEST}")]
    manifests = [read_manifest(destination, backup_id) for backup_id in ids]
    return sorted(manifests, key=lambda m: (m.created_at, m.backup_id), reverse=True)


def read_manifest(dest: str | Destination | None, backup_id: str, settings: BackupSettings | None = None) -> Manifest:
    destination = destination_of(dest, settings)
    name = f"{backup_id}/{MANIFEST}"
    if name not in destination.names():
        raise UsageError(f"no backup '{backup_id}' at {destination.label}",
                         hint=f"see: dualpath backup list --to {destination.label}")
    data = b"".join(destination.read_chunks(name))
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        raise VerificationFailed(f"manifest of backup {backup_id} is unreadable: {exc.errors()[0]['msg']}",
                                 where=f"{destination.label}/{name}",
                                 hint="this backup cannot be trusted; take a new one (dualpath backup create)",
                                 ) from None
    outside = [a.name for a in manifest.artifacts if not _plain_name(a.name)]
    if manifest.shared is not None and not _plain_name(manifest.shared):
        outside.append(manifest.shared)
    if outside:  # a manifest must name files in its own backup folder, never elsewhere
        raise VerificationFailed(f"manifest of backup {backup_id} names file(s) outside its backup folder: "
                                 f"{', '.join(outside)}; nothing was read from there",
                                 where=f"{destination.label}/{name}",
                                 hint="the manifest was edited or corrupted and this backup cannot be trusted: "
                                      "take a new one (dualpath backup create), or use another (dualpath backup list)")
    return manifest


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def destination_of(dest: str | Destination | None, settings: BackupSettings | None) -> Destination:
    if dest is None:
        dest = (settings or BackupSettings()).destination
        if dest is None:
            raise UsageError("no backup destination given", hint="pass --to file:///dir or --to s3://bucket/prefix")
    if isinstance(dest, str):
        return open_destination(dest, (settings or BackupSettings()).s3)
    return dest


def read_file(path: Path) -> Any:
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            yield chunk


def slug(name: str) -> str:
    stem = Path(name).stem if "/" in name or name.endswith((".db", ".sqlite", ".sqlite3")) else name
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:40] or "db"


def bare_name(name: Any) -> str | None:
    return None if name is None else str(name).rsplit(".", 1)[-1].strip('"`').lower()


def utc_iso(moment: datetime) -> str:
    # microseconds: two backups taken in one second still sort newest first (the id's suffix is random)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
