"""SQLite over the sqlite3 module alone (engines/plain.py), read-only: a status never creates the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dualpath.engines.plain import PlainUrl

DIALECT = "sqlite"
TABLES_SQL = "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({names})"


def connect(url: PlainUrl) -> Any:
    if url.query or url.host or not url.database or url.database == ":memory:":
        raise ValueError("not plain: an in-memory database or driver parameters")
    path = Path(url.database).absolute()
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, detect_types=0)
