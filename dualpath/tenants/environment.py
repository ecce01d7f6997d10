"""The environment a rollout works in: settings, the named environment and the migrations folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dualpath.config import Environment, Settings

if TYPE_CHECKING:

    pass



@dataclass(frozen=True)
class EnvironmentContext:
    """Settings, the named environment and the migrations folder, loaded from plain strings
    (so flows and tasks pass only text around, and every task can rebuild it cheaply)."""

    name: str
    settings: Settings
    env: Environment
    migrations: Path


def open_environment(name: str, config: str | None = None, migrations: str | None = None) -> EnvironmentContext:
    from dualpath.config import environment, find_config, load_settings

    settings = load_settings(find_config(Path(config) if config else None))
    folder = Path(migrations) if migrations else settings.migrations_dir()
    return EnvironmentContext(name, settings, environment(settings, name), folder)
