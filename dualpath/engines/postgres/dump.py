"""pg_dump and pg_restore for backups, and the environment every libpq client tool of dualpath gets."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath.engines.base import CONNECT_TIMEOUT_S
from dualpath.engines.dump import ToolSettings, find_tool, run_tool, tool_version
from dualpath.urls import password_of


def libpq_env(url: URL) -> dict[str, str]:
    """Connection settings for pg_dump, pg_restore and psql through the environment: never a password in argv."""
    env = dict(os.environ, PGHOST=url.host or "localhost", PGPORT=str(url.port or 5432),
               PGDATABASE=url.database or "postgres", PGCONNECT_TIMEOUT=str(CONNECT_TIMEOUT_S))
    if url.username:
        env["PGUSER"] = url.username
    if password_of(url) is not None:  # user:password@ or ?password=
        env["PGPASSWORD"] = str(password_of(url))
    # options carries a schema tenant's search_path: pg_dump -t must resolve names in that schema
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("options", "PGOPTIONS")):
        value = url.query.get(key)
        if isinstance(value, str):
            env[var] = value
    return env


class PostgresDumper:
    """pg_dump -Fc (custom format: compressed, restorable table by table) and pg_restore."""

    engine = "postgresql"
    suffix = ".dump"
    partial = True
    shares_artifact = True  # many schemas' tables in one dump; pg_restore -n takes one schema back out
    install = "the PostgreSQL client (postgresql-client; at least the server's major version)"

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings

    def check_tools(self) -> None:
        self.dump_tool()
        self.restore_tool()

    def dump_tool(self) -> str:
        return find_tool(["pg_dump"], self.settings.pg_dump, "pg_dump", self.install)

    def restore_tool(self) -> str:
        return find_tool(["pg_restore"], self.settings.pg_restore, "pg_restore", self.install)

    def version(self) -> str:
        return tool_version(self.dump_tool())

    def env(self, url: URL) -> dict[str, str]:
        return libpq_env(url)

    def share_snapshot(self, conn: Connection) -> str | None:
        """Our reads and pg_dump's see the same data: it dumps the snapshot this transaction exports."""
        conn.rollback()
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())

    def database_url(self, url: URL) -> URL:
        """The whole database a schema tenant's URL is in: a shared dump's connection."""
        return url.difference_update_query(["options"])

    def adopt_snapshot(self, conn: Connection, snapshot: str) -> None:
        """Read what the exported ``snapshot`` sees (a schema tenant's counts beside the shared dump)."""
        conn.rollback()
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot.replace(chr(39), '')}'")

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None:
        argv = [self.dump_tool(), "-Fc", "--no-owner", "--no-privileges", "-f", str(out)]
        if snapshot:
            argv.append(f"--snapshot={snapshot}")
        if tables is not None:
            # Quoted so pg_dump matches the exact name, not a lower-cased pattern.
            argv.append("--strict-names")
            for table in tables:
                argv += ["-t", ".".join('"' + p.replace('"', '""') + '"' for p in table.split("."))]
        run_tool(argv, self.env(url), self.settings.timeout_s, password_of(url))

    def restore(self, url: URL, artifact: Path, schema: str | None = None) -> None:
        argv = [self.restore_tool(), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                "-d", url.database or "postgres", str(artifact)]
        if schema is not None:  # one tenant out of a shared dump: its tables and what hangs off them
            argv[1:1] = ["-n", schema]
        run_tool(argv, self.env(url), self.settings.timeout_s, password_of(url))
