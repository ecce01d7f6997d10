"""Connecting with the driver alone, for the command a person runs most and wants at once: ``dualpath
status`` (importing SQLAlchemy cost more than the rest of a status on 500 changes).

Only the plain case is served: a URL this module reads without doubt, a server that answers, history
that reads. For anything else ``connect_plain`` returns None and the caller takes the usual path
through the Engine, whose errors and hints are the ones a person should see. Each dialect's part is
``engines/<dialect>/plain.py``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

CONNECT_TIMEOUT_S = 10  # a server that does not answer: drivers' connect_timeout, libpq's PGCONNECT_TIMEOUT

# scheme (before any +driver) -> the dialect package; the driver suffix must be the one dualpath ships
_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "mariadb": "mysql",
             "sqlite": "sqlite"}
_DRIVERS = {"postgres": ("", "psycopg"), "mysql": ("", "pymysql"), "sqlite": ("", "pysqlite")}


@dataclass(frozen=True)
class PlainUrl:
    package: str  # engines/<package>/plain.py
    user: str | None
    password: str | None = field(repr=False)
    host: str | None
    port: int | None
    database: str
    query: dict[str, str]


def parse_plain(text: str) -> PlainUrl | None:
    """The parts of a database URL, percent-decoded as SQLAlchemy decodes them; None when anything is unusual."""
    try:
        parts = urlsplit(text)
        scheme, _, driver = parts.scheme.lower().partition("+")
        package = _DIALECTS.get(scheme)
        if package is None or driver not in _DRIVERS[package] or parts.fragment:
            return None
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        if len({k for k, _ in query}) != len(query):
            return None  # a repeated parameter: SQLAlchemy makes a list of it
        return PlainUrl(package, unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password is not None else None,
                        parts.hostname, parts.port, unquote(parts.path[1:]), dict(query))
    except ValueError:  # a port that is not a number, a malformed query
        return None


def connect_plain(url: PlainUrl) -> Any | None:
    """A DB-API connection for reading, or None (unreachable, refused, missing, or not plain)."""
    dialect = importlib.import_module(f"dualpath.engines.{url.package}.plain")
    try:
        return dialect.connect(url)
    except Exception:  # noqa: BLE001 - every failure is told by the usual path, which the caller takes now
        return None


def dialect_of(url: PlainUrl) -> str:
    """The dialect name sql/ and risk/ use: 'postgresql', 'mysql' or 'sqlite'."""
    return str(importlib.import_module(f"dualpath.engines.{url.package}.plain").DIALECT)


def tables_present(url: PlainUrl, conn: Any, names: tuple[str, ...]) -> set[str]:
    """Which of ``names`` are tables of the connection's default schema."""
    dialect = importlib.import_module(f"dualpath.engines.{url.package}.plain")
    cursor = conn.cursor()
    cursor.execute(dialect.TABLES_SQL.format(names=", ".join(f"'{n}'" for n in names)))
    return {str(row[0]) for row in cursor.fetchall()}
