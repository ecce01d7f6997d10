"""The lock and rewrite catalogue: for each engine and version, what an operation costs.

The rows are data (one module per engine); this module only looks them up. Engines serve
the catalogue to the rest of dualpath through ``catalogue_for``, so nothing else needs to
know which ALTER takes which lock on which version.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from dualpath.errors import UsageError
from dualpath.risk.model import Effect, Op

Version = tuple[int, ...]

# which catalogue module serves a dialect name, and the version assumed when none is given
_MODULES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "sqlite3": "sqlite"}
DEFAULT_VERSIONS: dict[str, Version] = {
    "postgresql": (16,), "mysql": (8, 0, 36), "mariadb": (10, 11), "sqlite": (3, 45),
}
DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite")


@dataclass(frozen=True)
class Row:
    """One catalogue entry: operation (and variant) → lock and cost, within a version range."""

    operation: str
    lock: str
    cost: str
    variant: str = ""  # "" matches any variant not listed more specifically
    since: Version = ()  # inclusive
    until: Version | None = None  # exclusive
    algorithm: str | None = None
    notes: str = ""
    flavors: tuple[str, ...] = ()  # empty: every flavor of the module (mysql and mariadb)

    def applies(self, flavor: str, version: Version) -> bool:
        if self.flavors and flavor not in self.flavors:
            return False
        return version >= self.since and (self.until is None or version < self.until)


@dataclass(frozen=True)
class Catalogue:
    """The rows and features of one engine flavor at one version."""

    dialect: str
    version: Version
    rows: tuple[Row, ...]
    blocks: dict[str, str] = field(default_factory=dict)
    features: dict[str, Version] = field(default_factory=dict)
    default: Row = Row("other", "unknown", "none")

    def lookup(self, operation: str, variant: str = "") -> Row:
        """The most specific row for this operation on this version, or the default row."""
        candidates = [r for r in self.rows if r.operation == operation and r.applies(self.dialect, self.version)]
        for wanted in (variant, ""):
            for row in candidates:
                if row.variant == wanted:
                    return row
        return self.default

    def effect(self, op: Op) -> Effect:
        row = self.lookup(op.kind, op.variant)
        return Effect(table=op.table, operation=op.kind, lock=row.lock, cost=row.cost,
                      algorithm=row.algorithm, blocks=self.blocks.get(row.lock, "none"),
                      notes=row.notes, op=op)

    def supports(self, feature: str) -> bool:
        """True when this version has the feature (e.g. "reindex_concurrently")."""
        since = self.features.get(feature)
        return since is not None and self.version >= since


def normalise_dialect(dialect: str) -> str:
    name = _ALIASES.get(dialect.lower(), dialect.lower())
    if name not in _MODULES:
        raise UsageError(f"unknown dialect {dialect!r}", hint=f"choose one of: {', '.join(DIALECTS)}")
    return name


def family_of(dialect: str) -> str:
    """mariadb shares MySQL's grammar and rules; the catalogue still tells them apart."""
    name = normalise_dialect(dialect)
    return "mysql" if name == "mariadb" else name


def catalogue_for(dialect: str, version: Version | None = None) -> Catalogue:
    """The catalogue of ``dialect`` at ``version`` (the newest supported one when None)."""
    name = normalise_dialect(dialect)
    module = importlib.import_module(f"dualpath.risk.catalogue.{_MODULES[name]}")
    return Catalogue(dialect=name, version=tuple(version or DEFAULT_VERSIONS[name]),
                     rows=tuple(module.ROWS), blocks=dict(module.BLOCKS),
                     features=dict(module.FEATURES.get(name, {})))
