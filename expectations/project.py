"""Project suites: GX suite JSON as GX writes it, or the short YAML form of docs/validation.md.

Both are read with one YAML loader (JSON is YAML). A suite is bound to a table and to tenants
by ``[[validation.bindings]]``; a suite file may name its own default table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dualpath.errors import InputError, UsageError
from dualpath.validation.settings import ValidationSettings

SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class ProjectSuite:
    name: str
    file: str
    table: str | None
    entries: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...]  # (type, kwargs, meta)

    def expectations(self) -> list[Expectation]:
        made = []
        for kind, kwargs, meta in self.entries:
            try:
                made.append(ExpectationConfiguration(type=kind, kwargs=kwargs, meta=meta).to_domain_obj())
            except Exception as exc:  # GX raises several types for unknown names and bad kwargs
                raise InputError(f"suite '{self.name}': {kind}: {exc}", where=self.file,
                                 hint="use a GX 1.x expectation type (expect_...) with its keyword arguments") from None
        return made


@dataclass(frozen=True)
class BoundSuite:
    suite: ProjectSuite
    table: str


def load_suites(folder: Path) -> dict[str, ProjectSuite]:
    """Every suite file in ``folder`` by suite name; a missing folder holds none. Read once per worker
    process while the folder's files stay the same: every tenant of a fan-out binds the same suites."""
    from dualpath.tenants.cache import SUITES, stamp_folder

    if not folder.is_dir():
        return {}
    return dict(SUITES.get((str(folder.resolve()), stamp_folder(folder)), lambda: read_suites(folder)))


def read_suites(folder: Path) -> dict[str, ProjectSuite]:
    suites = [read_suite(path) for path in sorted(folder.iterdir()) if path.suffix in SUFFIXES]
    return {s.name: s for s in suites}


def read_suite(path: Path) -> ProjectSuite:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise InputError(f"not valid YAML/JSON: {exc}", where=str(path), hint="fix the syntax") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise InputError("a suite needs 'expectations: [...]'", where=str(path), hint="see docs/validation.md")
    meta = data.get("meta") or {}
    table = data.get("table") or meta.get("dualpath_table")
    entries = tuple(read_entry(entry, str(path)) for entry in data["expectations"])
    return ProjectSuite(str(data.get("name") or path.stem), str(path), table, entries)


def read_entry(entry: Any, where: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``{type, kwargs, meta}`` (GX JSON) or ``{expect_x: {kwargs}}`` (short YAML form)."""
    if isinstance(entry, dict) and "type" in entry:
        return str(entry["type"]), dict(entry.get("kwargs") or {}), dict(entry.get("meta") or {})
    if isinstance(entry, dict) and len(entry) == 1:
        kind, kwargs = next(iter(entry.items()))
        return str(kind), dict(kwargs or {}), {}
    raise InputError(f"cannot read expectation {entry!r}", where=where,
                     hint="write '- expect_column_values_to_not_be_null: {column: email}'")


def bind_suites(config: ValidationSettings, folder: Path, tenant: str | None,
                only: str | None = None) -> list[BoundSuite]:
    """The project suites this tenant runs: bound by config, else every suite that names its table."""
    suites = load_suites(folder)
    if only is not None and only not in suites:
        known = ", ".join(sorted(suites)) or f"none in {folder}"
        raise UsageError(f"unknown suite '{only}'", hint=f"known suites: {known}")
    bound: list[BoundSuite] = []
    if config.bindings:
        for binding in config.bindings_for(tenant):
            suite = suites.get(binding.suite)
            if suite is None:
                raise InputError(f"validation binding names unknown suite '{binding.suite}'",
                                 hint=f"suites are read from {folder}")
            table = binding.table or suite.table
            if table is None:
                raise InputError(f"suite '{suite.name}' is bound to no table", where=suite.file,
                                 hint="give the binding a table, or the suite a 'table:' key")
            bound.append(BoundSuite(suite, table))
    else:
        bound = [BoundSuite(s, s.table) for s in suites.values() if s.table]
    return [b for b in bound if only is None or b.suite.name == only]
