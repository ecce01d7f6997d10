"""Finding and reading dualpath.toml: the file, its TOML, the settings and the named environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dualpath.config.models import Environment, LintConfig, Settings
from dualpath.defaults import CONFIG_NAME
from dualpath.errors import InputError, UsageError


def lint_config(settings: Settings) -> LintConfig:
    """The [lint] table, checked when lint runs (loading the config stays light)."""
    try:
        return LintConfig.model_validate(settings.lint)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(["lint", *(str(p) for p in first["loc"])])
        raise InputError(f"setting '{key}': {first['msg']}", where=config_label(settings),
                         hint='e.g. [lint] disable = ["DP024"], fail_on = "error"; see docs/configuration.md') from None


def config_label(settings: Settings) -> str:
    """Which config an error is about: the file read, or that none was found."""
    return str(settings.source) if settings.source else f"no {CONFIG_NAME} found (pass --config)"


def environment(settings: Settings, name: str) -> Environment:
    """The named environment, or a clear error listing the known ones."""
    if name not in settings.environments:
        known = ", ".join(sorted(settings.environments)) or "none defined"
        raise UsageError(f"unknown environment '{name}'", where=config_label(settings),
                         hint=f"known environments: {known}; define [environments.{name}] to add it")
    env = settings.environments[name]
    env._where = f"{config_label(settings)} [environments.{name}]"
    return env


def load_settings(path: Path | None) -> Settings:
    """Read and validate the config; no file means defaults."""
    if path is None:
        return Settings(root=Path.cwd())
    data = parse_toml(path)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting '{key}': {first['msg']}", where=str(path),
                         hint=f"{len(exc.errors())} problem(s); see docs/configuration.md") from None
    settings.root = path.parent.resolve()
    settings.source = path
    return settings


def parse_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or an InputError naming file:line (not UTF-8, or a syntax error)."""
    import tomllib  # only where there is a file to read (a plain status without one need not load it)

    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}", where=f"{path}:{line}",
                         hint="re-save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else text.count("\n") + 1  # "at end of document"
        raise InputError(f"not valid TOML: {exc}", where=f"{path}:{line}", hint="fix the syntax") from None
