"""``dualpath backup create|list|verify|restore|prune``: a few lines each over dualpath.backup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dualpath.cli.console import ConfigOpt, UrlOpt, handle_errors

if TYPE_CHECKING:
    from dualpath import backup

backup_app = typer.Typer(help="Back up before destructive changes; verify and restore backups.",
                         no_args_is_help=True)

ToOpt = Annotated[str | None, typer.Option("--to", help="destination: file:///dir or s3://bucket/prefix")]
IdOpt = Annotated[str, typer.Option("--id", help="backup id (see: dualpath backup list)")]
KeepOpt = Annotated[int | None, typer.Option("--keep", min=1, help="retention: keep the newest N backups")]
KeepDaysOpt = Annotated[float | None, typer.Option(
    "--keep-days", min=0, help="retention: keep backups of the last D days")]


def settings_for(to: str | None, keep: int | None = None, keep_days: float | None = None,
                 config: Path | None = None) -> backup.BackupSettings:
    """[backup] from dualpath.toml, overridden by the command line; S3 access falls back to AWS_*."""
    from dualpath import backup
    from dualpath.config import find_config, load_settings

    values: dict[str, Any] = dict(load_settings(find_config(config)).backup)
    values.update({k: v for k, v in {"destination": to, "keep": keep, "keep_days": keep_days}.items()
                   if v is not None})
    return backup.BackupSettings(**values)


def parse_tables(text: str | None) -> list[str] | None:
    """``a,b`` → ["a", "b"]; nothing → None (the whole database)."""
    tables = [t.strip() for t in (text or "").split(",") if t.strip()]
    return tables or None


def resolve_url(url: str | None, config: Path | None) -> Any:
    from dualpath.config import find_config, load_settings
    from dualpath.target import resolve_target

    return resolve_target(load_settings(find_config(config)), url, None).url


@backup_app.command("create")
@handle_errors
def create(url: UrlOpt = None, to: ToOpt = None,
           tables: Annotated[str | None, typer.Option("--tables", help="a,b: only these tables")] = None,
           change: Annotated[list[str] | None, typer.Option("--change", help="change id it protects")] = None,
           keep: KeepOpt = None, keep_days: KeepDaysOpt = None, config: ConfigOpt = None) -> None:
    """Dump the database (or --tables) to --to, with a manifest; then apply retention."""
    from dualpath import backup

    settings = settings_for(to, keep, keep_days, config)
    manifest = backup.create_backup(resolve_url(url, config), parse_tables(tables), change or [],
                                    None, settings)
    typer.echo(f"backup {manifest.backup_id}: {manifest.engine} {manifest.database}, "
               f"{len(manifest.tables)} table(s), {manifest.size} bytes, verified")
    for pruned in backup.prune_backups(to, keep, keep_days, settings) if to else []:
        typer.echo(f"pruned {pruned}")


@backup_app.command("list")
@handle_errors
def list_(to: ToOpt = None, as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
          config: ConfigOpt = None) -> None:
    """Complete backups (those with a manifest) at --to, newest first."""
    from dualpath import backup

    manifests = backup.list_backups(None, settings_for(to, config=config))
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json", exclude={"fingerprint"}) for m in manifests], indent=2))
        return
    for m in manifests:
        changes = ",".join(m.change_ids) or "-"
        typer.echo(f"{m.backup_id}  {m.created_at}  {m.engine}  {m.database}  {m.size} bytes  "
                   f"tables={len(m.tables)}  changes={changes}  by {m.created_by}")
    if not manifests:
        typer.echo("no backups")


@backup_app.command("verify")
@handle_errors
def verify(backup_id: IdOpt, to: ToOpt = None, config: ConfigOpt = None) -> None:
    """Re-read the artifacts and check sha256 and size against the manifest."""
    from dualpath import backup

    manifest = backup.verify_backup(None, backup_id, settings_for(to, config=config))
    typer.echo(f"backup {backup_id}: {len(manifest.artifacts)} artifact(s) match their sha256")


@backup_app.command("restore")
@handle_errors
def restore(backup_id: IdOpt, into: Annotated[str, typer.Option("--into", help="an empty scratch database URL")],
            to: ToOpt = None, config: ConfigOpt = None) -> None:
    """Restore into a scratch database and compare fingerprint and row counts with the manifest."""
    from dualpath import backup

    report = backup.restore_backup(None, backup_id, into, settings_for(to, config=config))
    rows = sum(report.row_counts.values())
    typer.echo(f"backup {backup_id} restored into {report.into}: fingerprint and {rows} rows "
               f"in {len(report.row_counts)} table(s) match the manifest")


@backup_app.command("prune")
@handle_errors
def prune(to: ToOpt = None, keep: KeepOpt = None, keep_days: KeepDaysOpt = None, config: ConfigOpt = None) -> None:
    """Delete backups outside retention (kept if among the newest N or younger than D days)."""
    from dualpath import backup

    pruned = backup.prune_backups(None, keep, keep_days, settings_for(to, config=config))
    for backup_id in pruned:
        typer.echo(f"pruned {backup_id}")
    typer.echo(f"{len(pruned)} backup(s) pruned")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup", help="Backups before destructive changes: create, list, verify, restore.")
