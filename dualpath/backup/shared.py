"""One dump for many schema tenants of one database: each tenant still gets its own backup id and
manifest (its schema, tables, counts, fingerprint, changes), all pointing at one shared artifact.

Each tool run that dumps one schema of a database of thousands of tables reads that whole catalog
first; for a thousand tenants that was most of the backup phase. Restoring one tenant takes only its
schema back out of the shared dump (``Dumper.restore(..., schema)``), into its own scratch database.
Counts and fingerprints are read per tenant in the snapshot the dump reads, so each manifest proves
what the shared artifact holds of its tenant.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
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
    read_manifest,
    slug,
    utc_iso,
)
from dualpath.backup.restore import verify_backup
from dualpath.engines import Fingerprint, open_engine
from dualpath.engines.dump import Dumper
from dualpath.errors import UsageError
from dualpath.history.actor import current_user
from dualpath.urls import parse_url, redact, safe_url


@dataclass(frozen=True)
class Member:
    """One tenant of a shared backup: its URL (confined to ``schema``), the schema-qualified tables at
    risk (None: every table of its schema) and the changes the backup protects."""

    name: str
    url: str | URL
    schema: str
    tables: list[str] | None
    change_ids: list[str]


@dataclass(frozen=True)
class _Part:
    member: Member
    source: str
    tables: list[str]
    counts: dict[str, int]
    fingerprint: Fingerprint


def create_shared_backup(members: Sequence[Member], dest: str | Destination | None = None,
                         settings: BackupSettings | None = None) -> dict[str, Manifest]:
    """Dump every member's tables with one tool run into one artifact; a verified manifest per member
    (tenant name → manifest). All members must be schemas of one database. Nothing stays behind from a
    shared backup that did not complete: every member fails with it."""
    settings = settings or BackupSettings()
    first = open_engine(members[0].url)
    dumper = first.dumper(settings.tools)
    whole = dumper.database_url(first.url)
    _check_members(members, dumper, whole)
    destination = destination_of(dest, settings)
    dumper.check_tools()
    destination.check()
    engine = open_engine(whole)
    database = engine.url.database or ""
    shared = new_backup_id(f"{database}-shared")
    ids = {m.name: new_backup_id(f"{database}-{m.schema}") for m in members}  # unique within a run
    with tempfile.TemporaryDirectory(prefix="dualpath-backup-", dir=settings.work_dir) as work:
        artifact = Path(work) / f"{slug(database)}{dumper.suffix}"
        with engine.connect() as conn:
            snapshot = dumper.share_snapshot(conn)  # every tenant's reads and the dump see one snapshot
            if snapshot is None:
                raise UsageError(f"{engine.name} cannot share one snapshot between a dump and its readers",
                                 hint="back up each tenant on its own")
            version = ".".join(str(n) for n in engine.server_version(conn))
            flavor = engine.server_flavor(conn)
            parts = [_read_part(m, dumper, snapshot) for m in members]
            dumper.dump(engine.url, [t for p in parts for t in p.tables], artifact, snapshot)
            conn.rollback()
        sha, size = sha256_of(read_file(artifact))
        tool = dumper.version()  # once: it runs the tool
        made = {p.member.name: _manifest(p, ids[p.member.name], engine.name, flavor, version, tool, database,
                                         shared, Artifact(name=artifact.name, sha256=sha, size=size))
                for p in parts}
        try:
            destination.put_file(f"{shared}/{artifact.name}", artifact)
            for manifest in made.values():
                destination.put_bytes(f"{manifest.backup_id}/{MANIFEST}", manifest_json(manifest))
        except BaseException:
            discard_shared(destination, shared, list(ids.values()))
            raise
    log.info("shared backup %s of %d schemas of %s written to %s (%d bytes)", shared, len(members),
             safe_url(engine.url), destination.label, size)
    if settings.verify:
        try:  # the artifact's bytes once; every member's manifest reads back and names it
            verify_backup(destination, ids[members[0].name], settings)
            for backup_id in list(ids.values())[1:]:
                read_manifest(destination, backup_id)
        except BaseException:
            discard_shared(destination, shared, list(ids.values()))
            raise
    return made


def discard_shared(destination: Destination, shared: str, backup_ids: Sequence[str]) -> None:
    """Best effort: the members' manifests first (then none is listed), then the shared artifact."""
    try:
        destination.delete([f"{backup_id}/{MANIFEST}" for backup_id in backup_ids])
        destination.delete([n for n in destination.names() if n.startswith(f"{shared}/")])
    except Exception as exc:  # the original failure is what the user must see
        log.warning("could not clean up incomplete shared backup %s at %s: %s", shared, destination.label,
                    redact(str(exc)).splitlines()[0])


def _check_members(members: Sequence[Member], dumper: Dumper, whole: URL) -> None:
    if not dumper.shares_artifact:
        raise UsageError(f"{dumper.engine} backups cannot be shared between tenants", hint="back up each tenant")
    key = whole.render_as_string(hide_password=False)
    strangers = [m.name for m in members
                 if dumper.database_url(parse_url(m.url)).render_as_string(hide_password=False) != key]
    if strangers:
        raise UsageError(f"tenant(s) {', '.join(strangers)} are not in {safe_url(whole)}",
                         hint="a shared backup holds schemas of one database only")


def _read_part(member: Member, dumper: Dumper, snapshot: str) -> _Part:
    """A member's tables (all of its schema when it names none), counts and fingerprint, in ``snapshot``."""
    engine = open_engine(member.url)
    with engine.connect() as conn:
        dumper.adopt_snapshot(conn, snapshot)
        wanted = member.tables
        if wanted is None:
            wanted = [f"{member.schema}.{t}" for t in engine.iter_tables(conn)]
        tables = check_tables(engine, conn, wanted)
        fingerprint = scope_fingerprint(engine.fingerprint(conn), tables)
        counts = count_rows(engine, conn, tables)
        conn.rollback()
    return _Part(member, safe_url(engine.url), tables, counts, fingerprint)


def _manifest(part: _Part, backup_id: str, engine: str, flavor: str, version: str, tool: str, database: str,
              shared: str, artifact: Artifact) -> Manifest:
    return Manifest(
        format=2, backup_id=backup_id, created_at=utc_iso(datetime.now(UTC)), created_by=current_user(),
        engine=engine, flavor=flavor, server_version=version, tool=tool, source=part.source, database=database,
        scope="tables", tables=part.tables, row_counts=part.counts, fingerprint_digest=part.fingerprint.digest,
        fingerprint=part.fingerprint.objects, change_ids=part.member.change_ids, artifacts=[artifact],
        shared=shared, schema_name=part.member.schema)
