"""Which backup destination a run uses and which backups it already holds, for the risk register."""

from __future__ import annotations

from dualpath.config import Settings, interpolate
from dualpath.errors import DualpathError
from dualpath.render.inputs import BackupNote


def destination_as_written(settings: Settings, env: str | None) -> str | None:
    """The environment's ``backup_to``, else ``[backup] destination``; None: `.dualpath/backups` by default."""
    environment = settings.environments.get(env) if env else None
    if environment is not None and environment.backup_to:
        return environment.backup_to
    written = settings.backup.get("destination")
    return str(written) if written else None


def existing_backups(settings: Settings, env: str | None) -> list[BackupNote]:
    """The manifests at the destination, oldest first; none when it cannot be read now (the register
    then says a backup is taken before the change, which the run enforces anyway)."""
    from dualpath.backup import BackupSettings, list_backups

    written = destination_as_written(settings, env)
    try:
        url = (interpolate(written, where="backup destination") if written
               else (settings.root / ".dualpath" / "backups").resolve().as_uri())
        backup_settings = BackupSettings.model_validate({**settings.backup, "destination": url})
        manifests = list_backups(url, backup_settings)
    except (DualpathError, OSError, ValueError):  # unreachable or unreadable: the register names none
        return []
    return sorted((BackupNote(m.backup_id, m.created_at, tuple(m.tables), tuple(m.change_ids),
                              sum(m.row_counts.values())) for m in manifests), key=lambda b: b.created_at)
