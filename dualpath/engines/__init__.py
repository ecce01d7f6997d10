"""Engines: the only place that knows a dialect. ``open_engine(url)`` picks the right one."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dualpath.engines.base import Engine, Fingerprint
    from dualpath.engines.run_lock import RunLockHolder

__all__ = ["Engine", "Fingerprint", "RunLockHolder", "open_engine", "has_table", "server_refusal", "table_names"]

# loaded when first asked for: engines/plain.py (status over the driver alone) must not pull in SQLAlchemy
_MODULE_OF = {"Engine": "base", "Fingerprint": "base", "RunLockHolder": "run_lock"}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dualpath.engines' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"dualpath.engines.{module}"), name)
    globals()[name] = value
    return value


def table_names(conn: Any) -> list[str]:
    """The tables of the connection's default schema, as SQLAlchemy's inspector lists them. On PostgreSQL by
    a query of its own (engines/postgres/catalog.py): the inspector's scans every relation of the database,
    which schema-per-tenant databases hold by the ten thousand (1,000 tenants: 15 ms a look, a dozen looks a
    tenant's apply)."""
    if conn.dialect.name == "postgresql":
        from dualpath.engines.postgres.catalog import table_names as postgres_tables

        return postgres_tables(conn)
    from sqlalchemy import inspect

    return list(inspect(conn).get_table_names())


def has_table(conn: Any, name: str) -> bool:
    """Whether a table (or view) ``name`` is visible on the connection's search path, as SQLAlchemy's
    ``inspect(conn).has_table(name)`` answers; on PostgreSQL without weighing every tenant's table of that
    name (each tenant schema has a ``customers``: the inspector's asks each whether it is visible)."""
    if conn.dialect.name == "postgresql":
        from dualpath.engines.postgres.catalog import has_table as postgres_has_table

        return postgres_has_table(conn, name)
    from sqlalchemy import inspect

    return bool(inspect(conn).has_table(name))


def open_engine(url: str | URL) -> Engine:
    """The Engine for a URL (``postgresql://``, ``mysql://``, ``mariadb://``, ``sqlite:///``).

    Nothing connects yet. Driver modules are imported here, on demand, so commands that
    never touch a database stay fast.
    """
    from dualpath.urls import backend_of, parse_url

    parsed = parse_url(url) if isinstance(url, str) else url
    backend = backend_of(parsed)
    if backend == "postgresql":
        from dualpath.engines.postgres.engine import PostgresEngine

        return PostgresEngine(parsed)
    if backend == "mysql":
        from dualpath.engines.mysql.engine import MySQLEngine

        # mariadb:// tells the flavor before we connect (timeout_statements for --dry-run).
        said = url.split(":", 1)[0] if isinstance(url, str) else parsed.drivername
        return MySQLEngine(parsed, flavor="mariadb" if said.startswith("mariadb") else None)
    from dualpath.engines.sqlite.engine import SQLiteEngine

    return SQLiteEngine(parsed)


def server_refusal(exc: BaseException) -> tuple[str, str] | None:
    """(kind, the server's words) when ``exc`` is a server error of a known kind (any dialect; see
    FAILURE_KINDS), else None: for the one place errors are caught, where no engine is at hand."""
    from sqlalchemy.exc import DBAPIError

    from dualpath.engines.mysql.engine import MySQLEngine
    from dualpath.engines.postgres.engine import PostgresEngine
    from dualpath.urls import parse_url

    if not isinstance(exc, DBAPIError):
        return None
    for cls in (PostgresEngine, MySQLEngine):
        probe = cls(parse_url("sqlite://"))  # only its error codes are asked
        kind = "permission" if probe.is_permission_denied(exc) else probe.failure_kind(exc)
        if kind is not None:
            return kind, " ".join(str(exc.orig).split())
    return None
