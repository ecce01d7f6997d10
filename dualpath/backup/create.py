"""Taking a backup: dump, manifest, proof; nothing stays behind from one that did not complete."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from dualpath.backup.contents import check_tables, count_rows, scope_fingerprint
from dualpath.backup.destinations import Destination, sha256_of
from dualpath.backup.manifest import (
    MANIFEST,
    Artifact,
    BackupSettings,
    Manifest,
    destination_of,
    log,
    manifest_json,
    new_backup_id,
    read_file,
    slug,
    utc_iso,
)
from dualpath.backup.restore import verify_backup
from dualpath.engines import open_engine
from dualpath.history.actor import current_user
from dualpath.urls import redact, safe_url


def create_backup(url: str | URL, tables: Sequence[str] | None, change_ids: Sequence[str],
                  dest: str | Destination | None = None, settings: BackupSettings | None = None) -> Manifest:
    """Dump ``tables`` (None: the whole database) to ``dest`` and write its manifest."""
    settings = settings or BackupSettings()
    engine = open_engine(url)
    dumper = engine.dumper(settings.tools)
    destination = destination_of(dest, settings)
    dumper.check_tools()  # a missing tool is an error before anything runs
    destination.check()
    wanted = None if tables is None or settings.scope == "database" or not dumper.partial else list(tables)
    database = engine.url.database or ""
    backup_id = new_backup_id(database)
    with tempfile.TemporaryDirectory(prefix="dualpath-backup-", dir=settings.work_dir) as work:
        artifact = Path(work) / f"{slug(database)}{dumper.suffix}"
        with engine.connect() as conn:
            # Where the engine can, counts, fingerprint and dump all read one snapshot.
            snapshot = dumper.share_snapshot(conn)
            names = check_tables(engine, conn, wanted)
            fingerprint = scope_fingerprint(engine.fingerprint(conn), wanted)
            counts = count_rows(engine, conn, names)
            version = ".".join(str(n) for n in engine.server_version(conn))
            flavor = engine.server_flavor(conn)
            if snapshot is None:
                conn.rollback()  # hold no locks while the tool dumps
            dumper.dump(engine.url, wanted, artifact, snapshot)
            conn.rollback()
        sha, size = sha256_of(read_file(artifact))
        manifest = Manifest(
            backup_id=backup_id, created_at=utc_iso(datetime.now(UTC)), created_by=current_user(),
            engine=engine.name, flavor=flavor, server_version=version, tool=dumper.version(),
            source=safe_url(engine.url), database=database, scope="database" if wanted is None else "tables",
            tables=names, row_counts=counts, fingerprint_digest=fingerprint.digest,
            fingerprint=fingerprint.objects, change_ids=list(change_ids),
            artifacts=[Artifact(name=artifact.name, sha256=sha, size=size)])
        try:
            destination.put_file(f"{backup_id}/{artifact.name}", artifact)
            destination.put_bytes(f"{backup_id}/{MANIFEST}", manifest_json(manifest))
        except BaseException:
            discard_backup(destination, backup_id)  # no stray artifact from a backup that never completed
            raise
    log.info("backup %s of %s written to %s (%d bytes)", backup_id, manifest.source, destination.label, size)
    if settings.verify:
        try:
            verify_backup(destination, backup_id, settings)
        except BaseException:
            discard_backup(destination, backup_id)  # unproven: it must not be listed as usable
            raise
    return manifest


def discard_backup(destination: Destination, backup_id: str) -> None:
    """Best effort: remove what a failed backup left, the manifest first (then it is no longer listed).

    The destination may be the very thing that failed; what cannot be removed is logged, and is not
    listed as a backup as long as its manifest is gone."""
    try:
        destination.delete([f"{backup_id}/{MANIFEST}"])
        destination.delete([n for n in destination.names() if n.startswith(f"{backup_id}/")])
    except Exception as exc:  # the original failure is what the user must see
        log.warning("could not clean up incomplete backup %s at %s: %s", backup_id, destination.label,
                    redact(str(exc)).splitlines()[0])
