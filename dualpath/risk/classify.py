"""``classify``: what one statement does to the server, on a given engine and version."""

from __future__ import annotations

from dualpath.risk.catalogue import Catalogue, Version, catalogue_for, family_of
from dualpath.risk.model import Effect, Op
from dualpath.risk.ops import extract_ops


def classify(statement_text: str, dialect: str, version: Version | None = None) -> list[Effect]:
    """The effects (lock, rewrite/scan/metadata, MySQL algorithm) of each operation in the statement.

    Raises ``SqlSyntaxError`` when the statement cannot be read.
    """
    catalogue = catalogue_for(dialect, version)
    return effects_of(extract_ops(statement_text, family_of(dialect)), catalogue)


def effects_of(ops: list[Op], catalogue: Catalogue) -> list[Effect]:
    return [catalogue.effect(op) for op in ops]
