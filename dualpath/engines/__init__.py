"""Engines: the only place that knows a dialect. ``open_engine(url)`` picks the right one."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dualpath.engines.base import Engine, Fingerprint
    from dualpath.engines.run_lock import RunLockHolder

__all__ = ["Engine", "Fingerprint", "RunLockHolder", "open_engine", "server_refusal"]

# loaded when first asked for: engines/plain.py (status over the driver alone) must not pull in SQLAlchemy
_MODULE_OF = {"Engine": "base", "Fingerprint": "base", "RunLockHolder": "run_lock"}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dualpath.engines' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"dualpath.engines.{module}"), name)
    globals()[name] = value
    return value


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
