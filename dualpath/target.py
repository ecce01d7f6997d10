"""Resolve what a command works on: a database URL (or a named target) and a migrations folder."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dualpath.config import Safety, Settings, config_label, interpolate
from dualpath.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


@dataclass(frozen=True)
class Target:
    name: str  # the target's name in dualpath.toml, or "url"
    url: URL
    migrations: Path
    safety: Safety

    @property
    def dialect(self) -> str:
        from dualpath.urls import backend_of

        return backend_of(self.url)


@dataclass(frozen=True)
class TargetText:
    """A target before its URL is parsed: what ``dualpath status`` needs to connect with the driver alone."""

    name: str  # the target's name in dualpath.toml, or "url"
    url: str  # interpolated: it may hold a password; never shown as it is
    where: str  # what to name when the URL is bad: the config key, or --url
    migrations: Path
    safety: Safety


def resolve_target(settings: Settings, url_or_name: str | None, migrations: Path | None) -> Target:
    """A URL is used as given; a bare word names a target from dualpath.toml."""
    from dualpath.urls import parse_url

    found = target_text(settings, url_or_name, migrations)
    try:
        url = parse_url(found.url)
    except UsageError as exc:
        if found.name != "url":
            exc.where = found.where  # a bad URL in the config: name the file and the key, not only the value
        raise
    return Target(found.name, url, found.migrations, found.safety)


def target_text(settings: Settings, url_or_name: str | None, migrations: Path | None) -> TargetText:
    """Which target and folder a command works on, its URL as text (see ``resolve_target``)."""
    if not url_or_name:
        if len(settings.targets) == 1:
            url_or_name = next(iter(settings.targets))
        else:
            listed = f"targets there: {', '.join(sorted(settings.targets))}" if settings.targets else "no targets there"
            raise UsageError(f"no database given ({listed})", where=config_label(settings),
                             hint="pass --url URL or --url <target name from dualpath.toml>")
    if "://" in url_or_name or url_or_name.startswith("sqlite:"):
        return TargetText("url", url_or_name, "--url", migrations or settings.migrations_dir(), settings.safety)
    config = settings.targets.get(url_or_name)
    if config is None:
        known = sorted(settings.targets)
        near = difflib.get_close_matches(url_or_name, known, n=1)
        hint = f"did you mean '{near[0]}'?" if near else (
            f"known targets: {', '.join(known)}" if known else f"define [targets.{url_or_name}] there or pass a URL")
        raise UsageError(f"unknown target '{url_or_name}'", where=config_label(settings), hint=hint)
    key = f"{config_label(settings)} [targets.{url_or_name}.url]"
    folder = migrations or settings.migrations_dir(config)
    return TargetText(url_or_name, interpolate(config.url, where=key), key, folder, config.safety or settings.safety)

