"""dualpath.toml → typed settings.

Secrets stay as written (``${PGPASSWORD}``) until a target is resolved, so a loaded
config can be printed or logged without leaking them.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dualpath.errors import InputError, UsageError

CONFIG_NAME = "dualpath.toml"
_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class Safety(BaseModel):
    """Timeouts and retries every statement runs under."""

    model_config = ConfigDict(extra="forbid")

    lock_timeout_ms: int = Field(2000, ge=1)
    statement_timeout_ms: int = Field(30 * 60 * 1000, ge=0)  # 0 = no limit
    lock_retries: int = Field(3, ge=0)
    retry_backoff_ms: int = Field(500, ge=0)


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    migrations: str | None = None
    safety: Safety | None = None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    migrations: str = "migrations"
    ticket_pattern: str = r"[A-Z][A-Z0-9]+-\d+"
    ticket_link: str | None = None  # e.g. "https://jira.example.com/browse/{ticket}"
    applied_by: str | None = None
    safety: Safety = Field(default_factory=Safety)
    targets: dict[str, TargetConfig] = Field(default_factory=dict)
    root: Path = Field(default=Path("."), exclude=True)

    def migrations_dir(self, target: TargetConfig | None = None) -> Path:
        folder = Path(target.migrations if target and target.migrations else self.migrations)
        return folder if folder.is_absolute() else self.root / folder


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


def load_settings(path: Path | None) -> Settings:
    """Read and validate the config; no file means defaults."""
    if path is None:
        return Settings(root=Path.cwd())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", where=str(path), hint="fix the syntax") from None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting '{key}': {first['msg']}", where=str(path),
                         hint=f"{len(exc.errors())} problem(s); see docs/configuration.md") from None
    settings.root = path.parent.resolve()
    return settings


def interpolate(text: str, where: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` from the environment, late, right before use."""

    def value(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise UsageError(f"environment variable {name} is not set", where=where,
                         hint=f"export {name}=... or write ${{{name}:-default}}")

    return _ENV_REF.sub(value, text)
