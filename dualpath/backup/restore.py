"""Proving a backup: its bytes (verify) and its contents (restore into a scratch database, compared
with the manifest; the scratch database is dropped on every failure)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.backup.contents import compare_contents, count_rows, scope_fingerprint
from dualpath.backup.destinations import Destination, sha256_of
from dualpath.backup.manifest import BackupSettings, Manifest, bare_name, destination_of, log, read_manifest
from dualpath.engines import Engine, Fingerprint, open_engine
from dualpath.errors import (
    ConnectionFailed,
    DualpathError,
    PrivilegeMissing,
    UsageError,
    VerificationFailed,
)
from dualpath.urls import redact, safe_url


@dataclass(frozen=True)
class RestoreReport:
    backup_id: str
    into: str
    fingerprint_digest: str
    row_counts: dict[str, int]


def verify_backup(dest: str | Destination | None, backup_id: str, settings: BackupSettings | None = None) -> Manifest:
    """Re-read every artifact from the destination; its sha256 and size must match the manifest."""
    destination = destination_of(dest, settings)
    manifest = read_manifest(destination, backup_id)
    for artifact in manifest.artifacts:
        sha, size = sha256_of(destination.read_chunks(manifest.artifact_key(artifact)))
        if (sha, size) != (artifact.sha256, artifact.size):
            raise VerificationFailed(
                f"artifact {artifact.name} of backup {backup_id} does not match its manifest: "
                f"sha256 {sha[:16]}… vs {artifact.sha256[:16]}…, size {size} vs {artifact.size} bytes",
                where=destination.label, hint="this backup cannot be trusted; take a new one")
    return manifest


def restore_backup(dest: str | Destination | None, backup_id: str, into_url: str | URL,
                   settings: BackupSettings | None = None) -> RestoreReport:
    """Restore into an empty scratch database, then prove tables, fingerprint and row counts match the manifest.

    On any failure (a dump that does not restore, one that restores something else, an interruption) the
    scratch database goes again: dropped if this restore created it, else emptied (it was checked empty).
    """
    settings = settings or BackupSettings()
    destination = destination_of(dest, settings)
    manifest = verify_backup(destination, backup_id, settings)
    engine = open_engine(into_url)
    if engine.name != manifest.engine:
        raise UsageError(f"backup {backup_id} is a {manifest.engine} backup; --into is {engine.name}",
                         hint=f"restore into a scratch {manifest.engine} database")
    dumper = engine.dumper(settings.tools)
    dumper.check_tools()
    _check_shared_scratch(manifest, engine)
    created = _prepare_scratch(engine)
    into = safe_url(engine.url)
    try:
        with tempfile.TemporaryDirectory(prefix="dualpath-restore-", dir=settings.work_dir) as work:
            for artifact in manifest.artifacts:
                local = Path(work) / artifact.name
                destination.get_file(manifest.artifact_key(artifact), local)
                dumper.restore(engine.url, local, manifest.schema_name)  # a shared dump: this tenant's schema
        fingerprint, counts = _read_restored(engine, manifest, into)
        compare_contents(manifest, fingerprint, counts, into)
    except BaseException as failure:
        left = _discard_scratch(engine, created)
        if isinstance(failure, DualpathError) and left:
            failure.hint = f"{failure.hint + '; ' if failure.hint else ''}{left}"
        raise
    log.info("backup %s restored into %s and matches its manifest", backup_id, into)
    return RestoreReport(backup_id, into, fingerprint.digest, counts)


def _read_restored(engine: Engine, manifest: Manifest, into: str) -> tuple[Fingerprint, dict[str, int]]:
    """The restored schema (as scoped as the backup) and the rows of the manifest's tables that are there;
    a table of the manifest that did not come back is a difference, not a crash."""
    tables = None if manifest.scope == "database" else manifest.tables
    try:
        with engine.connect() as conn:
            fingerprint = scope_fingerprint(engine.fingerprint(conn), tables)
            present = list(engine.iter_tables(conn))  # the scratch was empty: all of it came from the dump
            bare_present = {bare_name(t) for t in present}
            counts = count_rows(engine, conn, [t for t in manifest.tables if bare_name(t) in bare_present])
            listed = {bare_name(t) for t in manifest.tables}
            counts.update(count_rows(engine, conn, [t for t in present if bare_name(t) not in listed]))
            conn.rollback()
    except (DBAPIError, ConnectionFailed) as exc:  # e.g. SQLite: what was restored is not a database at all
        reason = redact(" ".join(str(getattr(exc, "orig", None) or exc).split()))
        raise VerificationFailed(f"restore of backup {manifest.backup_id} into {into} cannot be read back: {reason}",
                                 hint="this backup cannot be trusted; take a new one") from None
    return fingerprint, counts


def _check_shared_scratch(manifest: Manifest, engine: Engine) -> None:
    """A tenant's part of a shared dump comes back into its own schema: the scratch must be confined to it."""
    scope = getattr(engine, "scope", None)
    if manifest.schema_name is None or (scope is not None and scope.only == manifest.schema_name):
        return
    raise UsageError(f"backup {manifest.backup_id} is schema {manifest.schema_name} of a shared dump; "
                     f"{safe_url(engine.url)} is not confined to that schema",
                     hint="restore it for its tenant (the restore-tenant step, or --into the tenant's URL with "
                          "another database name): the scratch database gets the schema")


def _discard_scratch(engine: Engine, created: bool) -> str:
    """Best effort, after a failed restore: drop the scratch database this restore created, or empty the one
    it was given (checked empty before). Returns what the user must clean up by hand, if anything."""
    where = safe_url(engine.url)
    try:
        if created:
            engine.drop_database(engine.url.database or "")
            log.info("scratch database %s dropped after the failed restore", where)
            return ""
        with engine.connect() as conn:
            engine.drop_user_objects(conn)
            conn.commit()
            left = engine.user_objects(conn)
        if left:
            return f"drop what is left in the scratch database {where} by hand: {', '.join(left[:5])}"
        log.info("scratch database %s emptied after the failed restore", where)
        return ""
    except Exception as exc:  # the restore's own failure is what the user must see first
        return f"the scratch database {where} could not be cleaned up ({redact(str(exc)).splitlines()[0]}): drop it"


def _prepare_scratch(engine: Engine) -> bool:
    """The scratch database must be empty (created if missing): restore never overwrites data.
    True when this call created it (a failed restore then drops it again)."""
    scope = getattr(engine, "scope", None)
    if scope is not None and scope.only:  # a schema tenant's dump holds its tables, not its schema
        created = _prepare_scratch_schema(engine.url, scope.only)
    else:
        created = False
    try:
        with engine.connect() as conn:
            existing = list(engine.iter_tables(conn))
    except ConnectionFailed as missing:
        try:
            engine.create_database(engine.url.database or "")
        except PrivilegeMissing as refused:
            raise PrivilegeMissing(f"scratch database {safe_url(engine.url)} does not exist and {refused.message}",
                                   hint=f"create an empty database you own and pass it as --into, or {refused.hint}"
                                   ) from None
        except DualpathError:
            raise missing from None
        return True
    if existing:
        raise UsageError(f"scratch database {safe_url(engine.url)} is not empty ({len(existing)} tables)",
                         hint="restore into a new, empty database: it is compared with the manifest after")
    return created


def _prepare_scratch_schema(scratch: URL, schema: str) -> bool:
    """The scratch database (created if missing) with an empty ``schema`` in it; True when it was created."""
    whole = open_engine(scratch.difference_update_query(["options"]))
    created = False
    try:
        with whole.connect():
            pass
    except ConnectionFailed:
        whole.create_database(scratch.database or "")
        created = True
    with whole.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {whole.quote_ident(schema)}")
        conn.commit()
    return created
