"""Backups before destructive changes: create, list, verify, restore, prune — with a manifest.

A backup is a folder ``<backup id>/`` at a destination (file:// or s3://) holding the dump
artifact and ``manifest.json`` (written last: a folder without a manifest is not a backup).
The manifest records sha256 and size of the artifact, the engine and version, the schema
fingerprint and row counts of what was dumped, the change ids it protects, who and when —
so ``verify`` can prove the bytes and ``restore`` can prove the contents.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.backup.destinations import Destination, S3Settings, open_destination, sha256_of
from dualpath.changes import Change
from dualpath.engines import Engine, Fingerprint, open_engine
from dualpath.engines.dump import ToolSettings
from dualpath.errors import (
    ConnectionFailed,
    DualpathError,
    PrivilegeMissing,
    TargetRefused,
    UsageError,
    VerificationFailed,
)
from dualpath.urls import redact, safe_url

__all__ = ["Artifact", "BackupSettings", "Manifest", "RestoreReport", "create_backup", "discard_backup",
           "ensure_backup_for", "list_backups", "needs_backup", "prune_backups", "restore_backup", "verify_backup"]

log = logging.getLogger("dualpath.backup")
MANIFEST = "manifest.json"

# Operations after which the old data cannot be recovered from the database itself.
DESTRUCTIVE_OPS = frozenset({"drop_table", "drop_column", "drop_schema", "drop_database", "truncate",
                             "delete", "update", "alter_column_type", "create_table_as"})

# Every destructive operation above needs one of these words (AS: CREATE TABLE ... AS; the rest run
# code that may do anything); a statement without any is never destructive, readable or not.
_MAY_DESTROY = re.compile(r"\b(DROP|TRUNCATE|DELETE|UPDATE|ALTER|AS|REPLACE|MERGE|DO|CALL|EXEC|EXECUTE|"
                          r"PREPARE|RENAME|CHANGE|MODIFY|SOURCE)\b|\$|\\i", re.IGNORECASE)


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

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at.replace("Z", "+00:00"))

    @property
    def size(self) -> int:
        return sum(a.size for a in self.artifacts)


@dataclass(frozen=True)
class RestoreReport:
    backup_id: str
    into: str
    fingerprint_digest: str
    row_counts: dict[str, int]


# -- create -----------------------------------------------------------------------------


def create_backup(url: str | URL, tables: Sequence[str] | None, change_ids: Sequence[str],
                  dest: str | Destination | None = None, settings: BackupSettings | None = None) -> Manifest:
    """Dump ``tables`` (None: the whole database) to ``dest`` and write its manifest."""
    settings = settings or BackupSettings()
    engine = open_engine(url)
    dumper = engine.dumper(settings.tools)
    destination = _destination(dest, settings)
    dumper.check_tools()  # a missing tool is an error before anything runs
    destination.check()
    wanted = None if tables is None or settings.scope == "database" or not dumper.partial else list(tables)
    database = engine.url.database or ""
    backup_id = new_backup_id(database)
    with tempfile.TemporaryDirectory(prefix="dualpath-backup-", dir=settings.work_dir) as work:
        artifact = Path(work) / f"{_slug(database)}{dumper.suffix}"
        with engine.connect() as conn:
            # Where the engine can, counts, fingerprint and dump all read one snapshot.
            snapshot = dumper.share_snapshot(conn)
            names = _check_tables(engine, conn, wanted)
            fingerprint = scope_fingerprint(engine.fingerprint(conn), wanted)
            counts = count_rows(engine, conn, names)
            version = ".".join(str(n) for n in engine.server_version(conn))
            flavor = engine.server_flavor(conn)
            if snapshot is None:
                conn.rollback()  # hold no locks while the tool dumps
            dumper.dump(engine.url, wanted, artifact, snapshot)
            conn.rollback()
        sha, size = sha256_of(_read_file(artifact))
        manifest = Manifest(
            backup_id=backup_id, created_at=_utc_iso(datetime.now(UTC)), created_by=current_user(),
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


def _check_tables(engine: Engine, conn: Connection, tables: list[str] | None) -> list[str]:
    if tables is None:
        return list(engine.iter_tables(conn))
    missing = [t for t in tables if not engine.table_exists(conn, t)]
    if missing:
        raise UsageError(f"table(s) {', '.join(missing)} do not exist in {safe_url(engine.url)}",
                         hint="check --tables, or leave it out to back up the whole database")
    return list(dict.fromkeys(tables))


def scope_fingerprint(fingerprint: Fingerprint, tables: Sequence[str] | None) -> Fingerprint:
    """The part of a schema a table-scoped dump carries: the tables and what hangs off them."""
    if tables is None:
        return fingerprint
    wanted = {_bare(t) for t in tables}
    objects = {kind: {name: attrs for name, attrs in entries.items()
                      if _bare(name if kind == "table" else attrs.get("table")) in wanted}
               for kind, entries in fingerprint.objects.items()}
    return Fingerprint({kind: entries for kind, entries in objects.items() if entries})


def count_rows(engine: Engine, conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        quoted = ".".join(engine.quote_ident(part) for part in table.split("."))
        counts[table] = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar() or 0)
    return counts


def new_backup_id(database: str, now: datetime | None = None) -> str:
    """Sortable by time, readable, unique: 20261105T020000Z-shop-3fa2b1."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{_slug(database)}-{secrets.token_hex(3)}"


def current_user() -> str:
    """Who took the backup: $DUALPATH_USER, else the login name."""
    try:
        return os.environ.get("DUALPATH_USER") or getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def manifest_json(manifest: Manifest) -> bytes:
    return (json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n").encode()


# -- list, verify -----------------------------------------------------------------------


def list_backups(dest: str | Destination | None, settings: BackupSettings | None = None) -> list[Manifest]:
    """Every complete backup at ``dest``, newest first."""
    destination = _destination(dest, settings)
    ids = [name[: -len(MANIFEST) - 1] for name in destination.names() if name.endswith(f"/{MANIFEST}")]
    manifests = [read_manifest(destination, backup_id) for backup_id in ids]
    return sorted(manifests, key=lambda m: (m.created_at, m.backup_id), reverse=True)


def read_manifest(dest: str | Destination | None, backup_id: str, settings: BackupSettings | None = None) -> Manifest:
    destination = _destination(dest, settings)
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
    if outside:  # a manifest must name files in its own backup folder, never elsewhere
        raise VerificationFailed(f"manifest of backup {backup_id} names file(s) outside its backup folder: "
                                 f"{', '.join(outside)}; nothing was read from there",
                                 where=f"{destination.label}/{name}",
                                 hint="the manifest was edited or corrupted and this backup cannot be trusted: "
                                      "take a new one (dualpath backup create), or use another (dualpath backup list)")
    return manifest


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def verify_backup(dest: str | Destination | None, backup_id: str, settings: BackupSettings | None = None) -> Manifest:
    """Re-read every artifact from the destination; its sha256 and size must match the manifest."""
    destination = _destination(dest, settings)
    manifest = read_manifest(destination, backup_id)
    for artifact in manifest.artifacts:
        sha, size = sha256_of(destination.read_chunks(f"{backup_id}/{artifact.name}"))
        if (sha, size) != (artifact.sha256, artifact.size):
            raise VerificationFailed(
                f"artifact {artifact.name} of backup {backup_id} does not match its manifest: "
                f"sha256 {sha[:16]}… vs {artifact.sha256[:16]}…, size {size} vs {artifact.size} bytes",
                where=destination.label, hint="this backup cannot be trusted; take a new one")
    return manifest


# -- restore ----------------------------------------------------------------------------


def restore_backup(dest: str | Destination | None, backup_id: str, into_url: str | URL,
                   settings: BackupSettings | None = None) -> RestoreReport:
    """Restore into an empty scratch database, then prove tables, fingerprint and row counts match the manifest.

    On any failure (a dump that does not restore, one that restores something else, an interruption) the
    scratch database goes again: dropped if this restore created it, else emptied (it was checked empty).
    """
    settings = settings or BackupSettings()
    destination = _destination(dest, settings)
    manifest = verify_backup(destination, backup_id, settings)
    engine = open_engine(into_url)
    if engine.name != manifest.engine:
        raise UsageError(f"backup {backup_id} is a {manifest.engine} backup; --into is {engine.name}",
                         hint=f"restore into a scratch {manifest.engine} database")
    dumper = engine.dumper(settings.tools)
    dumper.check_tools()
    created = _prepare_scratch(engine)
    into = safe_url(engine.url)
    try:
        with tempfile.TemporaryDirectory(prefix="dualpath-restore-", dir=settings.work_dir) as work:
            for artifact in manifest.artifacts:
                local = Path(work) / artifact.name
                destination.get_file(f"{backup_id}/{artifact.name}", local)
                dumper.restore(engine.url, local)
        fingerprint, counts = _read_restored(engine, manifest, into)
        _compare(manifest, fingerprint, counts, into)
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
            bare_present = {_bare(t) for t in present}
            counts = count_rows(engine, conn, [t for t in manifest.tables if _bare(t) in bare_present])
            listed = {_bare(t) for t in manifest.tables}
            counts.update(count_rows(engine, conn, [t for t in present if _bare(t) not in listed]))
            conn.rollback()
    except (DBAPIError, ConnectionFailed) as exc:  # e.g. SQLite: what was restored is not a database at all
        reason = redact(" ".join(str(getattr(exc, "orig", None) or exc).split()))
        raise VerificationFailed(f"restore of backup {manifest.backup_id} into {into} cannot be read back: {reason}",
                                 hint="this backup cannot be trusted; take a new one") from None
    return fingerprint, counts


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


def _compare(manifest: Manifest, fingerprint: Fingerprint, counts: dict[str, int], into: str) -> None:
    problems = contents_problems(manifest, counts)
    if fingerprint.digest != manifest.fingerprint_digest:
        problems += Fingerprint(manifest.fingerprint).diff(fingerprint)[:10] or ["schema fingerprint differs"]
    if problems:
        raise VerificationFailed(f"restore of backup {manifest.backup_id} into {into} differs from its manifest:\n  "
                                 + "\n  ".join(problems), hint="this backup cannot be trusted; take a new one")


def contents_problems(manifest: Manifest, counts: dict[str, int]) -> list[str]:
    """Tables and rows restored (``counts``: table → rows, of the tables that came back) against the manifest."""
    problems = [f"table {t}: in the manifest ({manifest.row_counts.get(t, '?')} rows), not restored"
                for t in manifest.tables if t not in counts]
    for table in sorted(set(counts) - set(manifest.tables)):
        problems.append(f"table {table}: restored ({counts[table]} rows), not in the manifest")
    problems += [f"table {t}: {manifest.row_counts.get(t)} rows in the manifest, {counts[t]} restored"
                 for t in manifest.tables if t in counts and manifest.row_counts.get(t) != counts[t]]
    return problems


# -- retention --------------------------------------------------------------------------


def prune_backups(dest: str | Destination | None, keep_n: int | None = None, keep_days: float | None = None,
                  settings: BackupSettings | None = None, now: datetime | None = None) -> list[str]:
    """Delete backups outside retention; returns the deleted ids."""
    destination = _destination(dest, settings)
    manifests = list_backups(destination) if keep_n is not None or keep_days is not None else []
    expired = select_expired(manifests, keep_n, keep_days, now or datetime.now(UTC))
    names = destination.names()
    for backup_id in expired:
        # The manifest goes first: a half-deleted backup is no longer listed as complete.
        destination.delete([f"{backup_id}/{MANIFEST}"])
        destination.delete([n for n in names if n.startswith(f"{backup_id}/") and not n.endswith(MANIFEST)])
        log.info("backup %s pruned from %s", backup_id, destination.label)
    return expired


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


# -- before a destructive change --------------------------------------------------------


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
        if not _MAY_DESTROY.search(statement.text):
            continue  # no word that could destroy data: not worth a parse (hundreds of changes per run)
        try:
            found += extract_ops(statement.text, dialect)
        except SqlSyntaxError:
            found.append(None)
    return found


# -- helpers ----------------------------------------------------------------------------


def _destination(dest: str | Destination | None, settings: BackupSettings | None) -> Destination:
    if dest is None:
        dest = (settings or BackupSettings()).destination
        if dest is None:
            raise UsageError("no backup destination given", hint="pass --to file:///dir or --to s3://bucket/prefix")
    if isinstance(dest, str):
        return open_destination(dest, (settings or BackupSettings()).s3)
    return dest


def _read_file(path: Path) -> Any:
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            yield chunk


def _slug(name: str) -> str:
    stem = Path(name).stem if "/" in name or name.endswith((".db", ".sqlite", ".sqlite3")) else name
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:40] or "db"


def _bare(name: Any) -> str | None:
    return None if name is None else str(name).rsplit(".", 1)[-1].strip('"`').lower()


def _utc_iso(moment: datetime) -> str:
    # microseconds: two backups taken in one second still sort newest first (the id's suffix is random)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
