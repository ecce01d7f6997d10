"""PostgreSQL over psycopg alone (engines/plain.py): the connection the Engine would open, for reading."""

from __future__ import annotations

import hashlib
from typing import Any

from dualpath.engines.plain import CONNECT_TIMEOUT_S, PlainUrl

DIALECT = "postgresql"
# the Engine's too (PostgresEngine.default_connect_args)
CONNECT_ARGS: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "dualpath"}
# the default schema, as SQLAlchemy's inspector lists tables
TABLES_SQL = "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename IN ({names})"


def connect(url: PlainUrl) -> Any:
    import psycopg

    args: dict[str, Any] = {**CONNECT_ARGS, **url.query}
    for key, value in (("host", url.host), ("port", url.port), ("user", url.user), ("password", url.password)):
        if value is not None:
            args[key] = value
    return psycopg.connect(dbname=url.database or None, autocommit=True, **args)


def advisory_key(database: str, schema: str | None = None) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock, derived from the database name and, for a
    schema-per-tenant target, its schema (``public`` is the database's own: the same key as none)."""
    # NUL cannot occur in a PostgreSQL name: no (database, schema) pair collides with another database
    name = database if schema in (None, "public") else f"{database}\0schema {schema}"
    return int.from_bytes(hashlib.sha256(f"dualpath:{name}".encode()).digest()[:8], "big", signed=True)


# who holds or waits for the run lock (PostgresEngine.holder_on reads the same rows, and who it is)
_LOCK_SQL = ("SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 "
             "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
             "AND l.classid::bigint = %s AND l.objid::bigint = %s")


def run_lock_free(url: PlainUrl, conn: Any) -> bool:
    """No session holds or awaits the run lock of this database (a target without a schema scope: the
    caller declines a URL with options), read without taking it."""
    key = advisory_key(url.database)
    cursor = conn.cursor()
    cursor.execute(_LOCK_SQL, ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF))
    return cursor.fetchone() is None
