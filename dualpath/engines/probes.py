"""What verify, plan and calibrate ask an engine beyond running SQL: shadows, locks, sizes, throughput.

Types only; each dialect's answers live in ``<dialect>_shadow.py`` next to its engine.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class LockReading:
    """Locks this session holds right now, table → strongest mode; ``None`` with a reason when unreadable."""

    locks: dict[str, str] | None
    note: str = ""


@dataclass(frozen=True)
class TableStats:
    rows: int
    bytes: int


@dataclass(frozen=True)
class CalibrationSql:
    """Statements that measure a server's throughput on a scratch table (``{t}``: a plain identifier).

    Run in this order: create, fill, analyze, scan, update, index, metadata, rewrite.
    """

    create: str
    fill: str  # {rows}: how many rows
    analyze: str | None
    scan: str  # reads every row
    update: str  # changes every row
    index: str  # builds an index on one integer column
    metadata: str  # a catalog-only ALTER
    rewrite: str  # an ALTER that copies the whole table


def shadow_prefix(database: str) -> str:
    """dp_shadow_<database>_<hash>_: recognisable in a server's list, distinct for long names alike."""
    tag = hashlib.sha256(database.encode()).hexdigest()[:6]
    return f"dp_shadow_{database[:32]}_{tag}_"


def shadow_database_name(database: str) -> str:
    return shadow_prefix(database) + secrets.token_hex(4)
