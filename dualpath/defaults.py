"""What the commands answered before pydantic loads (quick_status.py, quick_apply.py, plain_apply.py) read
of the settings: from dualpath.toml when there is one, else the defaults below, which config/models.py
declares its fields with (building the first pydantic model costs about 0.15 s, half a ``status``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from dualpath.errors import UsageError

if TYPE_CHECKING:
    from dualpath.config import Settings

CONFIG_NAME: Final = "dualpath.toml"
MIGRATIONS: Final = "migrations"
LOCK_TIMEOUT_MS: Final = 2000
STATEMENT_TIMEOUT_MS: Final = 30 * 60 * 1000  # 0 = no limit
LOCK_RETRIES: Final = 3
RETRY_BACKOFF_MS: Final = 500
TICKET_PATTERN: Final = r"[A-Z][A-Z0-9]+-\d+"
MISSING_ROLLBACKS: Final = "irreversible"  # [rollback] missing
FOLLOW_LINKS_OUTSIDE: Final = False  # [sources]
PLACEHOLDER_REPLACEMENT: Final = True  # [flyway]


def find_config(explicit: Path | None = None) -> Path | None:
    """The config file to use: --config, $DUALPATH_CONFIG, or ./dualpath.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist", hint="pass an existing --config path")
        return explicit
    env = os.environ.get("DUALPATH_CONFIG")
    if env:
        return find_config(Path(env))
    here = Path.cwd() / CONFIG_NAME
    return here if here.is_file() else None


@dataclass(frozen=True)
class QuickSettings:
    """The settings a quick command reads; ``full`` is the loaded dualpath.toml (None: there is none)."""

    full: Settings | None
    root: Path
    migrations: Path  # the folder when --migrations is not given and no named target says otherwise
    follow_links_outside: bool
    missing_rollbacks: str
    placeholder_replacement: bool
    lock_timeout_ms: int
    statement_timeout_ms: int
    ticket_pattern: str
    applied_by: str | None

    @property
    def protected(self) -> bool:
        """Does any environment need its guard (session.guard)? Never without a config file."""
        return self.full is not None and any(env.protected for env in self.full.environments.values())


def quick_settings(config: Path | None) -> QuickSettings:
    """The settings of ``find_config(config)``: pydantic loads only when there is a file to validate."""
    path = find_config(config)
    if path is None:
        root = Path.cwd()
        return QuickSettings(None, root, root / MIGRATIONS, FOLLOW_LINKS_OUTSIDE, MISSING_ROLLBACKS,
                             PLACEHOLDER_REPLACEMENT, LOCK_TIMEOUT_MS, STATEMENT_TIMEOUT_MS, TICKET_PATTERN, None)
    from dualpath.config import load_settings

    return quick_settings_of(load_settings(path))


def quick_settings_of(settings: Settings) -> QuickSettings:
    return QuickSettings(settings, settings.root, settings.migrations_dir(), settings.sources.follow_links_outside,
                         settings.rollback.missing, settings.flyway.placeholder_replacement,
                         settings.safety.lock_timeout_ms, settings.safety.statement_timeout_ms,
                         settings.ticket_pattern, settings.applied_by)
