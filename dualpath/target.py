"""Resolve what a command works on: a database URL (or a named target) and a migrations folder."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from dualpath.config import Safety, Settings, config_label, interpolate
from dualpath.errors import UsageError
from dualpath.urls import backend_of, parse_url


@dataclass(frozen=True)
class Target:
    name: str  # the target's name in dualpath.toml, or "url"
    url: URL
    migrations: Path
    safety: Safety

    @property
    def dialect(self) -> str:
        return backend_of(self.url)


def resolve_target(settings: Settings, url_or_name: str | None, migrations: Path | None) -> Target:
    """A URL is used as given; a bare word names a target from dualpath.toml."""
    if not url_or_name:
        if len(settings.targets) == 1:
            url_or_name = next(iter(settings.targets))
        else:
            listed = f"targets there: {', '.join(sorted(settings.targets))}" if settings.targets else "no targets there"
            raise UsageError(f"no database given ({listed})", where=config_label(settings),
                             hint="pass --url URL or --url <target name from dualpath.toml>")
    if "://" in url_or_name or url_or_name.startswith("sqlite:"):
        folder = migrations or settings.migrations_dir()
        return Target("url", parse_url(url_or_name), folder, settings.safety)
    config = settings.targets.get(url_or_name)
    if config is None:
        known = sorted(settings.targets)
        near = difflib.get_close_matches(url_or_name, known, n=1)
        hint = f"did you mean '{near[0]}'?" if near else (
            f"known targets: {', '.join(known)}" if known else f"define [targets.{url_or_name}] there or pass a URL")
        raise UsageError(f"unknown target '{url_or_name}'", where=config_label(settings), hint=hint)
    key = f"{config_label(settings)} [targets.{url_or_name}.url]"
    try:
        url = parse_url(interpolate(config.url, where=key))
    except UsageError as exc:
        exc.where = key  # a bad URL in the config: name the file and the key, not only the value
        raise
    folder = migrations or settings.migrations_dir(config)
    return Target(url_or_name, url, folder, config.safety or settings.safety)

