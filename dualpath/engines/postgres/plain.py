"""PostgreSQL over psycopg alone (engines/plain.py): the connection the Engine would open, for reading."""

from __future__ import annotations

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
