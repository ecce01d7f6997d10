"""``[validation]`` in dualpath.toml: project suites and their bindings, tolerances, data docs."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dualpath.config import Settings
from dualpath.errors import InputError


class Binding(BaseModel):
    """Run ``suite`` on ``table`` for the tenants matching ``tenants`` (shell patterns)."""

    model_config = ConfigDict(extra="forbid")

    suite: str
    table: str | None = None  # None: the table the suite file names
    tenants: list[str] = Field(default_factory=lambda: ["*"])

    def applies_to(self, tenant: str | None) -> bool:
        return tenant is None or any(fnmatch(tenant, pattern) for pattern in self.tenants)


class ValidationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    suites_dir: str = "expectations"  # *.json (as GX writes them) and *.yaml (docs/validation.md)
    bindings: list[Binding] = Field(default_factory=list)
    tenants: list[str] = Field(default_factory=lambda: ["*"])  # tenants validated at all
    tolerances: dict[str, float] = Field(default_factory=dict)  # table (or "*") → relative row-count tolerance
    sample_size: int = Field(1000, ge=1)  # rows a backfill expression is recomputed on
    data_docs_dir: str | None = None  # write GX Data Docs HTML here

    def validates(self, tenant: str | None) -> bool:
        return tenant is None or any(fnmatch(tenant, pattern) for pattern in self.tenants)

    def bindings_for(self, tenant: str | None) -> list[Binding]:
        return [b for b in self.bindings if b.applies_to(tenant)]


def validation_settings(settings: Settings) -> ValidationSettings:
    """The validated ``[validation]`` table; a wrong key is an InputError naming it."""
    try:
        return ValidationSettings.model_validate(settings.validation)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting 'validation.{key}': {first['msg']}",
                         hint="see docs/validation.md for the [validation] table") from None


def resolve_dir(settings: Settings, folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else settings.root / path
