"""`dualpath backup create|list|verify|restore|prune`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from dualpath.backup_cli import backup_app

    app.add_typer(backup_app, name="backup", help="Backups before destructive changes: create, list, verify, restore.")
