"""The environment a rollout works in: settings, the named environment and the migrations folder."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from dualpath.config import Environment, Settings
from dualpath.history import Actor
from dualpath.tenants.cache import COMMITS, ENVIRONMENTS, stamp_files


@dataclass(frozen=True)
class EnvironmentContext:
    """Settings, the named environment and the migrations folder, loaded from plain strings
    (so flows and tasks pass only text around, and every task can rebuild it cheaply)."""

    name: str
    settings: Settings
    env: Environment
    migrations: Path


def open_environment(name: str, config: str | None = None, migrations: str | None = None) -> EnvironmentContext:
    """Read once per worker process and config content: every tenant task of a fan-out asks for the
    same environment (callers must not change what it holds). An edited dualpath.toml is read again."""
    from dualpath.config import find_config

    path = find_config(Path(config) if config else None)
    key = (name, str(path.resolve()) if path else str(Path.cwd()), migrations, stamp_files([path]))
    return ENVIRONMENTS.get(key, lambda: _read_environment(name, path, migrations))


def _read_environment(name: str, path: Path | None, migrations: str | None) -> EnvironmentContext:
    from dualpath.config import environment, load_settings

    settings = load_settings(path)
    folder = Path(migrations) if migrations else settings.migrations_dir()
    return EnvironmentContext(name, settings, environment(settings, name), folder)


def run_actor(run_id: str, migrations: Path, who: str | None = None) -> Actor:
    """``history.make_actor``, with the migrations' git commit looked up once per run and folder (a
    ``git rev-parse`` per tenant task cost more than some changes): one run records one commit."""
    from dualpath.history.actor import current_user, git_commit_of

    commit = COMMITS.get((run_id, str(migrations.resolve())), lambda: git_commit_of(migrations))
    return Actor(run_id=run_id, who=who or current_user(), host=socket.gethostname(), git_commit=commit)
