"""PostgreSQL over psycopg alone (engines/plain.py): the connection the Engine would open, for reading."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from dualpath.engines.plain import CONNECT_TIMEOUT_S, PlainUrl

DIALECT = "postgresql"
PLAIN_APPLY = True  # plain_apply.py applies changes here (run lock, timeouts, TABLES_DDL below)
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


_UNSAFE_IN_TAG = re.compile(r"[^\w.@-]")  # no ':' (bind parameters), '%' (driver format) or '*/'


def lock_sql(run_id: str, host: str, placeholder: str) -> str:
    """The statement that takes the run lock (its key the parameter ``placeholder``): it stays the session's
    last query in pg_stat_activity, so it names the run and its host for the next run's refusal."""
    tag = f"dualpath run {_UNSAFE_IN_TAG.sub('_', run_id)} on {_UNSAFE_IN_TAG.sub('_', host)}"
    return f"SELECT pg_try_advisory_lock({placeholder}) /* {tag} */"


def timeout_sql(lock_timeout_ms: int, statement_timeout_ms: int, *, local: bool = False) -> list[str]:
    """SET (or SET LOCAL, undone at transaction end) lock_timeout and statement_timeout; 0 = none."""
    scope = "SET LOCAL" if local else "SET"
    return [f"{scope} lock_timeout = '{int(lock_timeout_ms)}ms'",
            f"{scope} statement_timeout = '{int(statement_timeout_ms)}ms'"]


# dualpath's tables as history/tables.py has SQLAlchemy create them on PostgreSQL (a test holds the two
# equal, but for white space): the plain apply creates them on a database that has none
TABLES_DDL = """
CREATE TABLE dualpath_audit (
    id SERIAL NOT NULL,
    at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    action VARCHAR(32) NOT NULL,
    version VARCHAR(64),
    run_id VARCHAR(64) NOT NULL,
    who VARCHAR(128) NOT NULL,
    host VARCHAR(255) NOT NULL,
    git_commit VARCHAR(64),
    ticket VARCHAR(64),
    detail TEXT,
    PRIMARY KEY (id)
);
CREATE TABLE dualpath_batch_checkpoint (
    id SERIAL NOT NULL,
    version VARCHAR(64) NOT NULL,
    direction VARCHAR(8) NOT NULL,
    statement_index INTEGER NOT NULL,
    location VARCHAR(512) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    table_name VARCHAR(255),
    last_key TEXT,
    rows_done BIGINT NOT NULL,
    keys_done BIGINT NOT NULL,
    chunk_size INTEGER NOT NULL,
    state VARCHAR(16) NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    updated_by VARCHAR(128),
    attempt VARCHAR(64),
    PRIMARY KEY (id),
    CONSTRAINT dualpath_batch_checkpoint_statement UNIQUE (version, direction, statement_index)
);
CREATE TABLE dualpath_history (
    id SERIAL NOT NULL,
    version VARCHAR(64) NOT NULL,
    description VARCHAR(512) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    direction VARCHAR(8) NOT NULL,
    applied_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    applied_by VARCHAR(128) NOT NULL,
    duration_ms INTEGER NOT NULL,
    success BOOLEAN NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    detail TEXT,
    PRIMARY KEY (id)
);
CREATE INDEX ix_dualpath_history_version ON dualpath_history (version);
CREATE TABLE dualpath_statement_journal (
    id SERIAL NOT NULL,
    version VARCHAR(64) NOT NULL,
    direction VARCHAR(8) NOT NULL,
    statement_index INTEGER NOT NULL,
    location VARCHAR(512) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    state VARCHAR(16) NOT NULL,
    schema_before VARCHAR(64),
    session_id VARCHAR(64),
    run_id VARCHAR(64) NOT NULL,
    updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    attempt VARCHAR(64),
    PRIMARY KEY (id),
    CONSTRAINT dualpath_statement_journal_statement UNIQUE (version, direction, statement_index)
);
"""
